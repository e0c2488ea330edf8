//! Building, signing and submitting events; reading their outcome.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use pedigree_core::body;
use pedigree_core::event::{new_payload, sign_payload};
use pedigree_core::keys::KeyPair;
use pedigree_core::participant::{Genesis, Role};
use pedigree_core::pb::distributor_service_client::DistributorServiceClient;
use pedigree_core::pb::ledger_service_client::LedgerServiceClient;
use pedigree_core::pb::manufacturer_service_client::ManufacturerServiceClient;
use pedigree_core::pb::pharmacy_service_client::PharmacyServiceClient;
use pedigree_core::pb::{
    EventState, EventStatus, GetEventStatusRequest, RejectCode, SignedEnvelope, event_payload::Body,
};
use tonic::transport::Channel;

/// Who signs, and where to send.
#[derive(Clone, Debug, clap::Args)]
pub struct Signer {
    /// Participant id of the signer.
    #[arg(long = "as")]
    pub id: String,
    /// Private key (PKCS#8 PEM); default {dir}/{id}.pem.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Folder with genesis.json and keys (as written by `pedigree up`).
    #[arg(long, env = "PEDIGREE_DIR", default_value = ".pedigree")]
    pub dir: PathBuf,
    /// Custody gRPC endpoint.
    #[arg(long, env = "PEDIGREE_CUSTODY", default_value = "http://127.0.0.1:50051")]
    pub custody: String,
    /// Verifier gRPC endpoint (for --wait).
    #[arg(long, env = "PEDIGREE_LEDGER", default_value = "http://127.0.0.1:50052")]
    pub ledger: String,
    /// Wait until the event is sealed or rejected, and print the outcome.
    #[arg(long)]
    pub wait: bool,
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
}

#[derive(clap::Args)]
pub struct ShipArgs {
    #[command(flatten)]
    pub signer: Signer,
    #[arg(long)]
    pub gtin: String,
    #[arg(long = "serial", required = true)]
    pub serials: Vec<String>,
    /// Participant id of the receiver.
    #[arg(long)]
    pub to: String,
}

#[derive(clap::Args)]
pub struct ReceiveArgs {
    #[command(flatten)]
    pub signer: Signer,
    #[arg(long)]
    pub gtin: String,
    #[arg(long = "serial", required = true)]
    pub serials: Vec<String>,
    /// Participant id of the sender.
    #[arg(long)]
    pub from: String,
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

#[derive(clap::Args)]
pub struct StatusArgs {
    /// Event id, hex.
    pub event_id: String,
    #[arg(long, env = "PEDIGREE_LEDGER", default_value = "http://127.0.0.1:50052")]
    pub ledger: String,
}

pub async fn commission(a: CommissionArgs) -> anyhow::Result<()> {
    let body = body::commission(&a.gtin, &a.lot, &a.expiry, &a.serials);
    send_and_report(&a.signer, body).await
}

pub async fn ship(a: ShipArgs) -> anyhow::Result<()> {
    send_and_report(&a.signer, body::ship(&a.gtin, &a.serials, &a.to)).await
}

pub async fn receive(a: ReceiveArgs) -> anyhow::Result<()> {
    send_and_report(&a.signer, body::receive(&a.gtin, &a.serials, &a.from)).await
}

pub async fn dispense(a: DispenseArgs) -> anyhow::Result<()> {
    send_and_report(&a.signer, body::dispense(&a.gtin, &a.serials)).await
}

pub async fn status(a: StatusArgs) -> anyhow::Result<()> {
    let id = hex::decode(&a.event_id).context("event id must be hex")?;
    let status = event_status(&a.ledger, &id).await?;
    println!("{}", describe(&status));
    Ok(())
}

async fn send_and_report(signer: &Signer, body: Body) -> anyhow::Result<()> {
    let (key, role) = load_signer(signer)?;
    let envelope = sign_payload(&key, &new_payload(&signer.id, body));
    let id = submit(&signer.custody, role, envelope).await?;
    println!("event_id {}", hex::encode(&id));
    if signer.wait {
        let status = wait_outcome(&signer.ledger, &id, Duration::from_secs(30)).await?;
        println!("{}", describe(&status));
    }
    Ok(())
}

/// The signer's key and role (from the genesis file in `dir`).
pub fn load_signer(signer: &Signer) -> anyhow::Result<(KeyPair, Role)> {
    let key_path = signer
        .key
        .clone()
        .unwrap_or_else(|| signer.dir.join(format!("{}.pem", signer.id)));
    let pem = std::fs::read_to_string(&key_path).with_context(|| format!("reading key {}", key_path.display()))?;
    let key = KeyPair::from_pem(&pem)?;
    let genesis_path = signer.dir.join("genesis.json");
    let genesis: Genesis = serde_json::from_str(
        &std::fs::read_to_string(&genesis_path).with_context(|| format!("reading {}", genesis_path.display()))?,
    )?;
    let Some(entry) = genesis.participants.iter().find(|p| p.id == signer.id) else {
        bail!("participant '{}' is not in {}", signer.id, genesis_path.display());
    };
    Ok((key, entry.role))
}

pub async fn channel(endpoint: &str) -> anyhow::Result<Channel> {
    Channel::from_shared(endpoint.to_string())?
        .connect()
        .await
        .with_context(|| format!("connecting to {endpoint}"))
}

/// Sends an envelope to the role service matching the signer's role and the event kind.
pub async fn submit(endpoint: &str, role: Role, envelope: SignedEnvelope) -> anyhow::Result<Vec<u8>> {
    let kind = pedigree_core::event::decode_payload(&envelope.payload, role)?
        .body
        .kind();
    use pedigree_core::event::EventKind::*;
    let ch = channel(endpoint).await?;
    let response = match (role, kind) {
        (Role::Manufacturer, Commission) => ManufacturerServiceClient::new(ch).commission(envelope).await,
        (Role::Manufacturer, Ship) => ManufacturerServiceClient::new(ch).ship(envelope).await,
        (Role::Distributor, Receive) => DistributorServiceClient::new(ch).receive(envelope).await,
        (Role::Distributor, Ship) => DistributorServiceClient::new(ch).ship(envelope).await,
        (Role::Pharmacy, Receive) => PharmacyServiceClient::new(ch).receive(envelope).await,
        (Role::Pharmacy, Dispense) => PharmacyServiceClient::new(ch).dispense(envelope).await,
        // Send it anyway to the service that takes this kind: the server answers with the precise refusal.
        (_, Commission) => ManufacturerServiceClient::new(ch).commission(envelope).await,
        (_, Dispense) => PharmacyServiceClient::new(ch).dispense(envelope).await,
        (_, Ship) => DistributorServiceClient::new(ch).ship(envelope).await,
        (_, Receive) => DistributorServiceClient::new(ch).receive(envelope).await,
    };
    let response = response.map_err(|s| anyhow::anyhow!("refused ({:?}): {}", s.code(), s.message()))?;
    Ok(response.into_inner().event_id)
}

pub async fn event_status(ledger: &str, id: &[u8]) -> anyhow::Result<EventStatus> {
    let mut client = LedgerServiceClient::new(channel(ledger).await?);
    let request = GetEventStatusRequest { event_id: id.to_vec() };
    Ok(client
        .get_event_status(request)
        .await
        .map_err(|s| anyhow::anyhow!("{}", s.message()))?
        .into_inner())
}

/// Polls the ledger until the event has an outcome.
pub async fn wait_outcome(ledger: &str, id: &[u8], timeout: Duration) -> anyhow::Result<EventStatus> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let status = event_status(ledger, id).await?;
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
        _ => "pending".to_string(),
    }
}
