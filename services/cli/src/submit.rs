//! Building, signing and submitting events; reading their outcome.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use pedigree_core::Hash;
use pedigree_core::body;
use pedigree_core::container::ContainerKey;
use pedigree_core::custody_rpc::Rpc;
use pedigree_core::envelope::{new_payload, sign_payload};
use pedigree_core::keys::KeyPair;
use pedigree_core::participant::Genesis;
use pedigree_core::pb::ledger_service_client::LedgerServiceClient;
use pedigree_core::pb::{
    DecommissionReason, EventState, EventStatus, GetEventStatusRequest, RejectCode, SignedEnvelope, event_payload::Body,
};
use tonic::transport::Channel;

use crate::connect::{Credentials, signed_in};

/// Who signs, and where to send.
#[derive(Clone, Debug, clap::Args)]
pub struct Signer {
    /// Participant id of the signer.
    #[arg(long = "as")]
    pub id: String,
    #[command(flatten)]
    pub sending: Sending,
}

/// The signing key and where to send (shared by participants' and governance commands).
#[derive(Clone, Debug, clap::Args)]
pub struct Sending {
    /// Private key (PKCS#8 PEM); default {dir}/{signer id}.pem.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Folder with genesis.json and keys (as written by `pedigree up`).
    #[arg(long, env = "PEDIGREE_DIR", default_value = ".pedigree")]
    pub dir: PathBuf,
    /// Custody gRPC endpoint.
    #[arg(long, env = "PEDIGREE_CUSTODY", default_value = "https://127.0.0.1:50051")]
    pub custody: String,
    /// Verifier gRPC endpoint (for --wait).
    #[arg(long, env = "PEDIGREE_LEDGER", default_value = "https://127.0.0.1:50052")]
    pub ledger: String,
    /// Wait until the event is sealed or rejected, and print the outcome.
    #[arg(long)]
    pub wait: bool,
    /// The chain id to sign for (hex, 32 bytes); default: computed from {dir}/genesis.json.
    #[arg(long, env = "PEDIGREE_CHAIN_ID")]
    pub chain_id: Option<String>,
}

#[derive(clap::Args)]
pub struct CommissionArgs {
    #[command(flatten)]
    pub signer: Signer,
    #[arg(long)]
    pub gtin: String,
    #[arg(long)]
    pub lot: String,
    /// YYMMDD (DD = 00 for the end of the month).
    #[arg(long)]
    pub expiry: String,
    #[arg(long = "serial", required = true)]
    pub serials: Vec<String>,
    /// A repackager's commission: the GTIN of the packs the new ones are made from.
    #[arg(long, requires = "source_serials")]
    pub source_gtin: Option<String>,
    /// A source pack's serial (with --source-gtin); repeat for several. They are decommissioned as repackaged.
    #[arg(long = "source-serial", requires = "source_gtin")]
    pub source_serials: Vec<String>,
}

/// Packs of one GTIN and whole containers (a shipment, a receipt, an aggregation's children).
#[derive(Clone, Debug, clap::Args)]
pub struct Items {
    #[arg(long)]
    pub gtin: Option<String>,
    #[arg(long = "serial", requires = "gtin")]
    pub serials: Vec<String>,
    /// A container: SSCC (18 digits, or `(00)…`) or case SGTIN (`(01)…(21)…`); repeat for several.
    #[arg(long = "container")]
    pub containers: Vec<String>,
}

impl Items {
    fn containers(&self) -> anyhow::Result<Vec<ContainerKey>> {
        self.containers
            .iter()
            .map(|c| ContainerKey::parse_human(c).map_err(anyhow::Error::from))
            .collect()
    }

    /// The packs as one line (GTIN, serials), if any were named.
    fn line(&self) -> Option<(&str, &[String])> {
        self.gtin.as_deref().map(|g| (g, self.serials.as_slice()))
    }

    fn require_some(&self, what: &str) -> anyhow::Result<()> {
        if self.gtin.is_none() && self.containers.is_empty() {
            bail!("{what}: name packs (--gtin and --serial) or containers (--container)");
        }
        Ok(())
    }
}

#[derive(clap::Args)]
pub struct ShipArgs {
    #[command(flatten)]
    pub signer: Signer,
    #[command(flatten)]
    pub items: Items,
    /// Participant id of the receiver.
    #[arg(long)]
    pub to: String,
    /// Trade documents of a shipment (DSCSA transaction information).
    #[command(flatten)]
    pub documents: DocumentArgs,
    /// A third-party logistics provider shipping its client's stock: the client (the owner of the goods).
    #[arg(long)]
    pub owner: Option<String>,
}

#[derive(Clone, Debug, Default, clap::Args)]
pub struct DocumentArgs {
    #[arg(long)]
    pub purchase_order: Option<String>,
    #[arg(long)]
    pub invoice: Option<String>,
    #[arg(long)]
    pub despatch_advice: Option<String>,
    /// YYYY-MM-DD.
    #[arg(long)]
    pub ship_date: Option<String>,
}

impl DocumentArgs {
    fn documents(&self) -> Option<pedigree_core::pb::TradeDocuments> {
        let d = self.clone();
        let any = [&d.purchase_order, &d.invoice, &d.despatch_advice, &d.ship_date]
            .iter()
            .any(|f| f.is_some());
        any.then(|| pedigree_core::pb::TradeDocuments {
            purchase_order: d.purchase_order.unwrap_or_default(),
            invoice: d.invoice.unwrap_or_default(),
            despatch_advice: d.despatch_advice.unwrap_or_default(),
            ship_date: d.ship_date.unwrap_or_default(),
        })
    }
}

#[derive(clap::Args)]
pub struct ReceiveArgs {
    #[command(flatten)]
    pub signer: Signer,
    #[command(flatten)]
    pub items: Items,
    /// Participant id of the sender.
    #[arg(long)]
    pub from: String,
    /// Serials of the --gtin refused (back to the sender); repeat for several.
    #[arg(long = "refuse-serial", requires = "gtin")]
    pub refused: Vec<String>,
    /// Serials of the --gtin that arrived but were not shipped to you (an over-delivery, recorded, not received);
    /// repeat for several.
    #[arg(long = "over-serial", requires = "gtin")]
    pub over: Vec<String>,
}

#[derive(clap::Args)]
pub struct PackArgs {
    #[command(flatten)]
    pub signer: Signer,
    /// The container packed into (created if new) or unpacked: SSCC or case SGTIN, as for --container.
    #[arg(long)]
    pub parent: String,
    #[command(flatten)]
    pub items: Items,
}

#[derive(clap::Args)]
pub struct DispenseArgs {
    #[command(flatten)]
    pub signer: Signer,
    #[arg(long)]
    pub gtin: String,
    #[arg(long = "serial", required = true)]
    pub serials: Vec<String>,
}

/// Why packs are decommissioned.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Reason {
    Destroyed,
    Stolen,
    Sample,
    FreeSample,
    Exported,
    Locked,
}

impl From<Reason> for DecommissionReason {
    fn from(r: Reason) -> Self {
        match r {
            Reason::Destroyed => DecommissionReason::Destroyed,
            Reason::Stolen => DecommissionReason::Stolen,
            Reason::Sample => DecommissionReason::Sample,
            Reason::FreeSample => DecommissionReason::FreeSample,
            Reason::Exported => DecommissionReason::Exported,
            Reason::Locked => DecommissionReason::Locked,
        }
    }
}

#[derive(clap::Args)]
pub struct DecommissionArgs {
    #[command(flatten)]
    pub signer: Signer,
    #[arg(long)]
    pub gtin: String,
    #[arg(long = "serial", required = true)]
    pub serials: Vec<String>,
    #[arg(long, value_enum)]
    pub reason: Reason,
}

/// Packs named by GTIN and serials (undo).
#[derive(clap::Args)]
pub struct PacksArgs {
    #[command(flatten)]
    pub signer: Signer,
    #[arg(long)]
    pub gtin: String,
    #[arg(long = "serial", required = true)]
    pub serials: Vec<String>,
}

#[derive(clap::Args)]
pub struct RecallArgs {
    #[command(flatten)]
    pub signer: Signer,
    #[arg(long)]
    pub gtin: String,
    #[arg(long)]
    pub lot: String,
}

#[derive(clap::Args)]
pub struct WithdrawArgs {
    #[command(flatten)]
    pub signer: Signer,
    #[arg(long)]
    pub gtin: String,
}

#[derive(clap::Args)]
pub struct StatusArgs {
    /// Event id, hex.
    pub event_id: String,
    /// Who asks (the event's signer, or an auditor): signs in with its key.
    #[command(flatten)]
    pub signer: Signer,
}

pub async fn commission(a: CommissionArgs) -> anyhow::Result<()> {
    let body = match &a.source_gtin {
        Some(source) => body::repackage(
            &a.gtin,
            &a.lot,
            &a.expiry,
            &a.serials,
            &[(source.as_str(), &a.source_serials[..])],
        ),
        None => body::commission(&a.gtin, &a.lot, &a.expiry, &a.serials),
    };
    send_and_report(&a.signer, body).await
}

pub async fn ship(a: ShipArgs) -> anyhow::Result<()> {
    a.items.require_some("ship")?;
    let mut body = body::ship(a.items.gtin.as_deref().unwrap_or(""), &a.items.serials, &a.to);
    if let Body::Ship(ship) = &mut body {
        ship.containers = a.items.containers()?.iter().map(ContainerKey::to_pb).collect();
        ship.documents = a.documents.documents();
        ship.owner = a.owner.unwrap_or_default();
    }
    send_and_report(&a.signer, body).await
}

pub async fn receive(a: ReceiveArgs) -> anyhow::Result<()> {
    if a.items.gtin.is_none() && a.items.containers.is_empty() {
        bail!(
            "receive: name packs (--gtin with --serial, --refuse-serial or --over-serial) or containers (--container)"
        );
    }
    // The GTIN goes with the received serials; with none received, only with the refused ones.
    let received_gtin = a.items.gtin.as_deref().filter(|_| !a.items.serials.is_empty());
    let mut body = body::receive(received_gtin.unwrap_or(""), &a.items.serials, &a.from);
    if let Body::Receive(receive) = &mut body {
        receive.containers = a.items.containers()?.iter().map(ContainerKey::to_pb).collect();
        if let Some(gtin) = a.items.gtin.as_ref().filter(|_| !a.refused.is_empty()) {
            receive.refused = vec![pedigree_core::pb::PackLine {
                gtin: gtin.clone(),
                serials: a.refused.clone(),
            }];
        }
        if let Some(gtin) = a.items.gtin.as_ref().filter(|_| !a.over.is_empty()) {
            receive.over = vec![pedigree_core::pb::PackLine {
                gtin: gtin.clone(),
                serials: a.over.clone(),
            }];
        }
    }
    send_and_report(&a.signer, body).await
}

pub async fn void_shipment(a: ShipArgs) -> anyhow::Result<()> {
    a.items.require_some("void-shipment")?;
    if a.owner.is_some() {
        bail!("void-shipment: --owner is for shipments only");
    }
    let body = body::void_shipment(
        a.items.gtin.as_deref().unwrap_or(""),
        &a.items.serials,
        &a.items.containers()?,
        &a.to,
    );
    send_and_report(&a.signer, body).await
}

pub async fn pack(a: PackArgs) -> anyhow::Result<()> {
    a.items.require_some("pack")?;
    let parent = ContainerKey::parse_human(&a.parent)?;
    let lines: Vec<(&str, &[String])> = a.items.line().into_iter().collect();
    send_and_report(&a.signer, body::pack(&parent, &lines, &a.items.containers()?)).await
}

pub async fn unpack(a: PackArgs) -> anyhow::Result<()> {
    let parent = ContainerKey::parse_human(&a.parent)?;
    let lines: Vec<(&str, &[String])> = a.items.line().into_iter().collect();
    send_and_report(&a.signer, body::unpack(&parent, &lines, &a.items.containers()?)).await
}

pub async fn dispense(a: DispenseArgs) -> anyhow::Result<()> {
    send_and_report(&a.signer, body::dispense(&a.gtin, &a.serials)).await
}

pub async fn decommission(a: DecommissionArgs) -> anyhow::Result<()> {
    send_and_report(&a.signer, body::decommission(&a.gtin, &a.serials, a.reason.into())).await
}

pub async fn undo(a: PacksArgs) -> anyhow::Result<()> {
    send_and_report(&a.signer, body::undo(&a.gtin, &a.serials)).await
}

pub async fn recall(a: RecallArgs) -> anyhow::Result<()> {
    send_and_report(&a.signer, body::recall(&a.gtin, &a.lot)).await
}

pub async fn withdraw(a: WithdrawArgs) -> anyhow::Result<()> {
    send_and_report(&a.signer, body::withdraw(&a.gtin)).await
}

pub async fn return_packs(a: ShipArgs) -> anyhow::Result<()> {
    let Some(gtin) = a.items.gtin.as_deref().filter(|_| a.items.containers.is_empty()) else {
        bail!("return: name packs (--gtin and --serial); containers are unpacked before a return");
    };
    send_and_report(&a.signer, body::return_to(gtin, &a.items.serials, &a.to)).await
}

pub async fn status(a: StatusArgs) -> anyhow::Result<()> {
    let id = hex::decode(&a.event_id).context("event id must be hex")?;
    let who = credentials(&a.signer.id, &a.signer.sending)?;
    let status = event_status(&a.signer.sending.ledger, &who, &id).await?;
    println!("{}", describe(&status));
    Ok(())
}

async fn send_and_report(signer: &Signer, body: Body) -> anyhow::Result<()> {
    sign_and_send(&signer.id, &signer.sending, body).await
}

/// Signs `body` as `signer_id`, submits it and prints its id (and, with `--wait`, its outcome).
pub(crate) async fn sign_and_send(signer_id: &str, sending: &Sending, body: Body) -> anyhow::Result<()> {
    let who = credentials(signer_id, sending)?;
    let envelope = sign_payload(&who.key, &new_payload(&who.chain_id, signer_id, body));
    let id = submit(&sending.custody, envelope).await?;
    println!("event_id {}", hex::encode(&id));
    if sending.wait {
        let status = wait_outcome(&sending.ledger, &who, &id, Duration::from_secs(30)).await?;
        println!("{}", describe(&status));
    }
    Ok(())
}

/// The signer with its key (see [`load_key`]), on the chain [`chain_id`] names.
pub fn credentials(signer_id: &str, sending: &Sending) -> anyhow::Result<Credentials> {
    Ok(Credentials {
        id: signer_id.to_string(),
        key: load_key(signer_id, sending)?,
        chain_id: chain_id(sending)?,
    })
}

/// The chain to sign for: `--chain-id`, or the chain id of `{dir}/genesis.json`.
pub fn chain_id(sending: &Sending) -> anyhow::Result<Hash> {
    if let Some(hex_id) = &sending.chain_id {
        let bytes = hex::decode(hex_id.trim()).context("--chain-id must be hex")?;
        return Hash::try_from(bytes.as_slice()).map_err(|_| anyhow::anyhow!("--chain-id must be 32 bytes"));
    }
    let path = sending.dir.join("genesis.json");
    let json =
        std::fs::read_to_string(&path).with_context(|| format!("reading {} for the chain id", path.display()))?;
    let genesis: Genesis = serde_json::from_str(&json).with_context(|| format!("parsing {}", path.display()))?;
    Ok(genesis.chain_id()?)
}

/// The signer's private key: `--key`, or `{dir}/{signer id}.pem`.
pub fn load_key(signer_id: &str, sending: &Sending) -> anyhow::Result<KeyPair> {
    let key_path = sending
        .key
        .clone()
        .unwrap_or_else(|| sending.dir.join(format!("{signer_id}.pem")));
    let pem = std::fs::read_to_string(&key_path).with_context(|| format!("reading key {}", key_path.display()))?;
    Ok(KeyPair::from_pem(&pem)?)
}

pub async fn channel(endpoint: &str) -> anyhow::Result<Channel> {
    crate::connect::client_tls()?.connect(endpoint).await
}

/// Sends an envelope to an RPC that takes its kind of event. Which service takes it does not matter: custody checks
/// the signer's role against the registry whatever the service, so a participant registered on the ledger (and so
/// in no local file) is sent the same way.
///
/// When custody cannot say whether the event was stored (UNAVAILABLE, DEADLINE_EXCEEDED, no connection), the same
/// envelope is sent again, which is always safe (the same envelope is the same event), until [`SUBMIT_DEADLINE`];
/// a refusal of the event itself is reported at once.
pub async fn submit(endpoint: &str, envelope: SignedEnvelope) -> anyhow::Result<Vec<u8>> {
    let rpc = Rpc::for_envelope(&envelope)?;
    let deadline = tokio::time::Instant::now() + SUBMIT_DEADLINE;
    let mut wait = Duration::from_millis(200);
    loop {
        let attempt = async {
            let channel = channel(endpoint).await.map_err(Attempt::Unreachable)?;
            let call = tokio::time::timeout(ATTEMPT_TIMEOUT, rpc.call(channel, envelope.clone()));
            match call.await {
                Ok(Ok(response)) => Ok(response.into_inner().event_id),
                Ok(Err(status)) => Err(Attempt::Status(status)),
                Err(_) => Err(Attempt::Unreachable(anyhow::anyhow!(
                    "no answer within {ATTEMPT_TIMEOUT:?}"
                ))),
            }
        };
        let failure = match attempt.await {
            Ok(id) => return Ok(id),
            Err(Attempt::Status(s)) if !retryable(s.code()) => {
                bail!("refused ({:?}): {}", s.code(), s.message())
            }
            Err(Attempt::Status(s)) => format!("({:?}) {}", s.code(), s.message()),
            Err(Attempt::Unreachable(e)) if !passing(&e) => return Err(e),
            Err(Attempt::Unreachable(e)) => format!("{e:#}"),
        };
        if tokio::time::Instant::now() + wait > deadline {
            bail!(
                "custody did not confirm the event within {SUBMIT_DEADLINE:?}; it may still be stored: query its \
                 status, or submit the same envelope again (safe). Last answer: {failure}"
            );
        }
        eprintln!("custody did not confirm the event ({failure}); sending the same envelope again in {wait:?}");
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(5));
    }
}

/// How long [`submit`] keeps sending the same envelope while custody cannot confirm it.
pub const SUBMIT_DEADLINE: Duration = Duration::from_secs(60);
/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

/// One failed attempt.
enum Attempt {
    Status(tonic::Status),
    Unreachable(anyhow::Error),
}

/// Whether a failure to reach custody may pass (refused or reset connection, timeout), rather than be a mistake to
/// report at once (a bad address, a certificate that does not verify, plaintext against TLS).
fn passing(error: &anyhow::Error) -> bool {
    use std::io::ErrorKind as K;
    error.to_string().starts_with("no answer within")
        || error.chain().any(|cause| {
            cause.downcast_ref::<std::io::Error>().is_some_and(|io| {
                matches!(
                    io.kind(),
                    K::ConnectionRefused | K::ConnectionReset | K::ConnectionAborted | K::TimedOut | K::BrokenPipe
                )
            })
        })
}

/// Answers after which the outcome is unknown or the event was not taken for a passing reason: sending the same
/// envelope again is safe and may succeed.
fn retryable(code: tonic::Code) -> bool {
    matches!(
        code,
        tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::ResourceExhausted
    )
}

/// The status of event `id`, asked as `who` (its signer, or an auditor).
pub async fn event_status(ledger: &str, who: &Credentials, id: &[u8]) -> anyhow::Result<EventStatus> {
    let mut client = LedgerServiceClient::new(signed_in(ledger, who).await?);
    let request = GetEventStatusRequest { event_id: id.to_vec() };
    Ok(client
        .get_event_status(request)
        .await
        .map_err(|s| anyhow::anyhow!("{}", s.message()))?
        .into_inner())
}

/// Polls the ledger until the event has an outcome.
pub async fn wait_outcome(
    ledger: &str,
    who: &Credentials,
    id: &[u8],
    timeout: Duration,
) -> anyhow::Result<EventStatus> {
    let deadline = tokio::time::Instant::now() + timeout;
    // One session for the whole wait.
    let mut client = LedgerServiceClient::new(signed_in(ledger, who).await?);
    loop {
        let request = GetEventStatusRequest { event_id: id.to_vec() };
        let status = client
            .get_event_status(request)
            .await
            .map_err(|s| anyhow::anyhow!("{}", s.message()))?
            .into_inner();
        if status.state() != EventState::Pending {
            return Ok(status);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("event {} still pending after {timeout:?}", hex::encode(id));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

pub fn describe(status: &EventStatus) -> String {
    match status.state() {
        EventState::Committed => format!("committed at height {}", status.height),
        EventState::Rejected => format!(
            "rejected at height {}: {} ({})",
            status.height,
            RejectCode::try_from(status.reject_code)
                .unwrap_or_default()
                .as_str_name(),
            status.reason
        ),
        _ if status.reason.is_empty() => "pending".to_string(),
        _ => format!("pending: {}", status.reason),
    }
}
