//! `Stack::spawn()`: a real broker and Redis as child processes, and custody, sequencer and verifier in-process on
//! port 0, wired together as `pedigree up` wires the binaries.

#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::time::Duration;

use pedigree_core::block::{Tip, check_block};
use pedigree_core::custody_rpc::Rpc;
use pedigree_core::envelope::{check_envelope, new_payload, sign_payload};
use pedigree_core::participant::Registry;
use pedigree_core::pb::distributor_service_client::DistributorServiceClient;
use pedigree_core::pb::governance_service_client::GovernanceServiceClient;
use pedigree_core::pb::ledger_service_client::LedgerServiceClient;
use pedigree_core::pb::manufacturer_service_client::ManufacturerServiceClient;
use pedigree_core::pb::pharmacy_service_client::PharmacyServiceClient;
use pedigree_core::pb::verifier_service_client::VerifierServiceClient;
use pedigree_core::pb::{
    EventState, EventStatus, GetBlockRequest, GetEventStatusRequest, GetHeadRequest, SignedEnvelope, SubmitResponse,
    event_payload::Body,
};
use pedigree_devstack::{Broker, Fixture, LocalCa, Redis, ServerCert, Storage};
use pedigree_kafka::{ClientSettings, Producer, ProducerSettings, TopicSpec, ensure_topics};
use pedigree_runtime::metrics::MetricsConfig;
use pedigree_runtime::sign_in::Bearer;
use pedigree_runtime::tls::{ClientTls, ServerTlsConfig};
use pedigree_store::RedisUser;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// A connection whose calls carry a session token.
pub type Authed = InterceptedService<Channel, Bearer>;

/// The fixture's auditor (reads blocks, the head, log proofs and every event's status).
pub const AUDITOR: &str = "ledger-auditor";
/// The fixture's authority (reads everything, every pack in full).
pub const AUTHORITY: &str = "health-authority";

pub use pedigree_core::body;

mod scrape;
pub use scrape::sample;

/// A running service task and the switch that stops it gracefully.
struct Running {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    fn spawn<F>(run: impl FnOnce(oneshot::Receiver<()>) -> F) -> Self
    where
        F: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        Self {
            stop: Some(tx),
            task: tokio::spawn(run(rx)),
        }
    }

    async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.task.await?
    }
}

async fn until(rx: oneshot::Receiver<()>) {
    let _ = rx.await;
}

/// A sequencer started with [`Stack::sequencer_with`].
pub struct Sequencer {
    running: Running,
    pub health: SocketAddr,
    /// Where it serves its metrics.
    pub metrics: Option<SocketAddr>,
}

impl Sequencer {
    /// Stops it gracefully (finishes the batch in hand, releases a held lease).
    pub async fn stop(self) -> anyhow::Result<()> {
        self.running.stop().await
    }

    /// Kills it where it stands (no lease release): the task is dropped at its next await point.
    pub async fn kill(self) {
        self.running.task.abort();
        let _ = self.running.task.await;
    }

    /// Whether its task ended (it only ends by itself on an error).
    pub fn is_finished(&self) -> bool {
        self.running.task.is_finished()
    }
}

pub struct Stack {
    pub fixture: Fixture,
    _dir: tempfile::TempDir,
    /// The stack's CA (`ca.pem`), which every server's certificate chains to.
    pub ca_path: std::path::PathBuf,
    /// The certificate every server of the stack presents (loopback names).
    pub server_cert: ServerCert,
    client_tls: ClientTls,
    pub broker: Broker,
    pub redis: Redis,
    pub custody_addr: SocketAddr,
    pub verifier_grpc: SocketAddr,
    pub verifier_http: SocketAddr,
    /// Where each service serves its metrics (TLS, the stack's certificate); the sequencer's once started by
    /// [`Stack::start_sequencer`].
    pub custody_metrics: SocketAddr,
    pub verifier_metrics: SocketAddr,
    pub sequencer_metrics: Option<SocketAddr>,
    custody: Option<Running>,
    verifier: Option<Running>,
    sequencer: Option<Running>,
    pub batch_max_events: usize,
}

/// Whether a stack's services apply their default per-client rate limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rates {
    Default,
    Off,
}

pub const EVENTS_TOPIC: &str = "pedigree.events";
/// The GS1 company prefix of the tests' GTINs (GS1's example prefix: 0950600013435x).
pub const PREFIX: &str = "9506000";
pub const BLOCKS_TOPIC: &str = "pedigree.blocks";

impl Stack {
    /// Broker, Redis, topics, custody, verifier and a sequencer.
    pub async fn spawn() -> Self {
        Self::spawn_with(200).await
    }

    pub async fn spawn_with(batch_max_events: usize) -> Self {
        let mut stack = Self::spawn_bare(batch_max_events).await;
        stack.start_sequencer().await;
        stack
    }

    /// Like [`Stack::spawn_with`], with the per-client rate limits off: the load tester measures throughput, with
    /// every client on one address and a few participants.
    pub async fn spawn_unthrottled(batch_max_events: usize) -> Self {
        Self::spawn_unthrottled_on(batch_max_events, false).await
    }

    /// Like [`Stack::spawn_unthrottled`]; with `durable`, the broker keeps its log in a SQLite file.
    pub async fn spawn_unthrottled_on(batch_max_events: usize, durable: bool) -> Self {
        let mut stack = Self::spawn_bare_rated(batch_max_events, durable, Rates::Off).await;
        stack.start_sequencer().await;
        stack
    }

    /// Broker, Redis, topics, custody and verifier, but no sequencer: start them with [`Stack::sequencer_with`].
    pub async fn spawn_bare(batch_max_events: usize) -> Self {
        Self::spawn_bare_on(batch_max_events, false).await
    }

    /// Like [`Stack::spawn_bare`]; with `durable`, the broker keeps its log in a SQLite file, so that it survives a
    /// restart of the broker ([`Broker::restart`]).
    pub async fn spawn_bare_on(batch_max_events: usize, durable: bool) -> Self {
        Self::spawn_bare_rated(batch_max_events, durable, Rates::Default).await
    }

    async fn spawn_bare_rated(batch_max_events: usize, durable: bool, rates: Rates) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let fixture = Fixture::create(dir.path()).expect("fixture");
        let ca = LocalCa::create(&dir.path().join("tls")).expect("local CA");
        let server_cert = ca.issue_loopback("server").expect("server certificate");
        let client_tls = ClientTls::with_ca_file(ca.ca_path()).expect("reading the CA");
        let storage = if durable {
            Storage::Sqlite(dir.path().join("broker.db"))
        } else {
            Storage::Memory
        };
        let broker = Broker::start(storage).expect("starting tansu");
        let redis = Redis::start().expect("starting redis-server");
        let spec = TopicSpec::events(EVENTS_TOPIC, 1, &Default::default());
        ensure_topics(&ClientSettings::new(broker.brokers()), &[spec])
            .await
            .expect("creating the events topic");
        let (mut custody_config, mut verifier_config) = (
            custody_config(&broker, &fixture, &redis, &server_cert),
            verifier_config(&broker, &fixture, &redis, &server_cert),
        );
        if rates == Rates::Off {
            custody_config.submissions_per_sec = 0;
            verifier_config.anonymous_per_sec = 0;
            verifier_config.participant_per_sec = 0;
        }
        let custody = pedigree_custody::App::build(custody_config)
            .await
            .expect("building custody");
        let verifier = pedigree_verifier::App::build(verifier_config)
            .await
            .expect("building verifier");
        let (custody_addr, verifier_grpc, verifier_http) = (custody.addr(), verifier.grpc_addr(), verifier.http_addr());
        let custody_metrics = custody.metrics_addr().expect("custody serves metrics");
        let verifier_metrics = verifier.metrics_addr().expect("the verifier serves metrics");
        Self {
            fixture,
            _dir: dir,
            ca_path: ca.ca_path().to_path_buf(),
            server_cert,
            client_tls,
            broker,
            redis,
            custody_addr,
            verifier_grpc,
            verifier_http,
            custody_metrics,
            verifier_metrics,
            sequencer_metrics: None,
            custody: Some(Running::spawn(|rx| custody.run_until(until(rx)))),
            verifier: Some(Running::spawn(|rx| verifier.run_until(until(rx)))),
            sequencer: None,
            batch_max_events,
        }
    }

    pub fn sequencer_config(&self) -> pedigree_sequencer::Config {
        pedigree_sequencer::Config {
            kafka_brokers: self.broker.brokers(),
            kafka_security: Default::default(),
            events_topic: EVENTS_TOPIC.into(),
            blocks_topic: BLOCKS_TOPIC.into(),
            redis: self.redis.config_for(RedisUser::Sequencer),
            genesis: self.fixture.genesis_path.clone(),
            key: self.fixture.sequencer_key_path.clone(),
            next_key: None,
            batch_max_events: self.batch_max_events,
            batch_max_bytes: 1024 * 1024,
            batch_max_wait_ms: 20,
            block_max_bytes: pedigree_core::block_size::DEFAULT_BLOCK_MAX_BYTES as u64,
            durability: Default::default(),
            stall_secs: 60,
            health_addr: "127.0.0.1:0".parse().expect("addr"),
            shutdown_grace_secs: 5,
            tls: server_tls(&self.server_cert),
            metrics: metrics_on_loopback(),
            leadership: pedigree_sequencer::LeadershipConfig::default(),
        }
    }

    pub async fn start_sequencer(&mut self) {
        let app = pedigree_sequencer::App::build(self.sequencer_config())
            .await
            .expect("building sequencer");
        self.sequencer_metrics = app.metrics_addr();
        self.sequencer = Some(Running::spawn(|rx| app.run_until(until(rx))));
    }

    /// Builds and starts one more sequencer with `config` (e.g. [`Stack::sequencer_config`] with another
    /// leadership), independent of the stack's own.
    pub async fn sequencer_with(&self, config: pedigree_sequencer::Config) -> Sequencer {
        let app = pedigree_sequencer::App::build(config)
            .await
            .expect("building sequencer");
        let (health, metrics) = (app.health_addr(), app.metrics_addr());
        Sequencer {
            running: Running::spawn(|rx| app.run_until(until(rx))),
            health,
            metrics,
        }
    }

    /// Stops the sequencer gracefully (finishes the batch in hand).
    pub async fn stop_sequencer(&mut self) {
        if let Some(s) = self.sequencer.take() {
            s.stop().await.expect("sequencer stopped with an error");
        }
    }

    /// Kills the sequencer where it stands: the task is dropped at its next await point, mid-batch or mid-write.
    pub async fn kill_sequencer(&mut self) {
        if let Some(s) = self.sequencer.take() {
            s.task.abort();
            let _ = s.task.await;
        }
    }

    pub async fn shutdown(mut self) {
        self.stop_sequencer().await;
        for s in [self.custody.take(), self.verifier.take()].into_iter().flatten() {
            s.stop().await.expect("service stopped with an error");
        }
    }

    /// Signs `body` as participant `id`.
    pub fn sign(&self, id: &str, body: Body) -> SignedEnvelope {
        sign_payload(
            &self.fixture.party(id).key,
            &new_payload(&self.fixture.chain_id, id, body),
        )
    }

    /// Signs `body` with the genesis governance key.
    pub fn sign_governance(&self, body: Body) -> SignedEnvelope {
        let id = pedigree_core::participant::GOVERNANCE_ID;
        sign_payload(&self.fixture.governance, &new_payload(&self.fixture.chain_id, id, body))
    }

    /// Appends an envelope to the events topic directly, as a custody instance with a stale registry (or a
    /// misbehaving one) could: the sequencer must judge it on its own.
    pub async fn append_unchecked(&self, envelope: &SignedEnvelope) {
        use prost::Message;
        let producer = Producer::new(&self.kafka(), &ProducerSettings::default()).expect("producer");
        producer
            .send(EVENTS_TOPIC, b"unchecked", &envelope.encode_to_vec())
            .await
            .expect("appending to the events topic");
    }

    /// How many records the events topic holds (its high watermark): a refused submission leaves it as it was.
    pub async fn events_in_topic(&self) -> i64 {
        let kafka = self.kafka();
        let (_, high) = tokio::task::spawn_blocking(move || pedigree_kafka::watermarks(&kafka, EVENTS_TOPIC, 0))
            .await
            .expect("the watermark task")
            .expect("reading the events topic's watermarks");
        high
    }

    /// A TLS connection to `addr`, checked against the stack's CA.
    pub async fn channel(&self, addr: SocketAddr) -> Channel {
        self.client_tls
            .connect(&format!("https://{addr}"))
            .await
            .expect("connecting")
    }

    /// The configuration of this stack's custody service (to start another one beside it).
    pub fn custody_config(&self) -> pedigree_custody::Config {
        custody_config(&self.broker, &self.fixture, &self.redis, &self.server_cert)
    }

    /// Whether the stack's sequencer has stopped (it returned, with or without an error).
    pub fn sequencer_stopped(&self) -> bool {
        self.sequencer.as_ref().is_none_or(|s| s.task.is_finished())
    }

    /// The configuration of this stack's verifier (to start another one beside it, e.g. with other settings).
    pub fn verifier_config(&self) -> pedigree_verifier::Config {
        verifier_config(&self.broker, &self.fixture, &self.redis, &self.server_cert)
    }

    /// An HTTPS client that trusts this stack's CA.
    pub fn http_client(&self) -> reqwest::Client {
        let ca = std::fs::read(&self.ca_path).expect("reading the CA");
        reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("the CA parses"))
            .build()
            .expect("an HTTPS client")
    }

    /// What a client of this stack trusts (its CA).
    pub fn client_tls(&self) -> &ClientTls {
        &self.client_tls
    }

    /// `https://127.0.0.1:port{path}` on the verifier's HTTP server.
    pub fn http_url(&self, path: &str) -> String {
        format!("https://{}{path}", self.verifier_http)
    }

    /// What a Kafka client of this stack's broker is built from.
    pub fn kafka(&self) -> ClientSettings {
        ClientSettings::new(self.broker.brokers())
    }

    /// Submits `envelope` to the custody RPC for its kind ([`Rpc::for_kind`]: any service that takes it will do).
    pub async fn submit(&self, envelope: SignedEnvelope) -> Result<SubmitResponse, tonic::Status> {
        let rpc = Rpc::for_envelope(&envelope).expect("the payload decodes");
        Ok(rpc.call(self.custody_channel().await, envelope).await?.into_inner())
    }

    /// Signs `body` as participant `id` and submits it as that participant's ERP would: to the RPC of its role's
    /// service that takes the kind (or, for a kind the role may not sign, to the RPC for the kind, which refuses it).
    /// Submits `body` signed by `who` and waits for its outcome: panics unless it is committed. Its event id.
    pub async fn committed(&self, who: &str, body: Body) -> Vec<u8> {
        let id = self.submit_as(who, body).await.expect("custody takes it").event_id;
        let status = self.outcome(&id).await;
        assert_eq!(
            status.state(),
            pedigree_core::pb::EventState::Committed,
            "{who}: {}",
            status.reason
        );
        id
    }

    pub async fn submit_as(&self, id: &str, body: Body) -> Result<SubmitResponse, tonic::Status> {
        let role = self.fixture.party(id).role;
        let envelope = self.sign(id, body);
        let kind = pedigree_core::decode::decode_payload(&envelope.payload, role)
            .expect("the payload decodes")
            .body
            .kind();
        let rpc = Rpc::of(role, kind).unwrap_or(Rpc::for_kind(kind));
        Ok(rpc.call(self.custody_channel().await, envelope).await?.into_inner())
    }

    /// A new connection to custody.
    pub async fn custody_channel(&self) -> Channel {
        self.channel(self.custody_addr).await
    }

    /// A new connection to the verifier's gRPC port.
    pub async fn verifier_channel(&self) -> Channel {
        self.channel(self.verifier_grpc).await
    }

    pub async fn manufacturer(&self) -> ManufacturerServiceClient<Channel> {
        ManufacturerServiceClient::new(self.channel(self.custody_addr).await)
    }
    pub async fn distributor(&self) -> DistributorServiceClient<Channel> {
        DistributorServiceClient::new(self.channel(self.custody_addr).await)
    }
    pub async fn pharmacy(&self) -> PharmacyServiceClient<Channel> {
        PharmacyServiceClient::new(self.channel(self.custody_addr).await)
    }
    pub async fn governance(&self) -> GovernanceServiceClient<Channel> {
        GovernanceServiceClient::new(self.channel(self.custody_addr).await)
    }
    /// The ledger, read as the fixture's auditor (blocks, head and proofs are for auditors and authorities).
    pub async fn ledger(&self) -> LedgerServiceClient<Authed> {
        self.ledger_as(AUDITOR).await
    }

    /// The ledger, read as participant `id` (signed in with its fixture key).
    pub async fn ledger_as(&self, id: &str) -> LedgerServiceClient<Authed> {
        LedgerServiceClient::new(self.authed(id).await)
    }

    /// The ledger without credentials.
    pub async fn ledger_anonymous(&self) -> LedgerServiceClient<Channel> {
        LedgerServiceClient::new(self.channel(self.verifier_grpc).await)
    }

    /// The verifier without credentials, as a pharmacist's scanner on the internet.
    pub async fn verifier(&self) -> VerifierServiceClient<Channel> {
        VerifierServiceClient::new(self.channel(self.verifier_grpc).await)
    }

    /// The verifier, asked by participant `id` (signed in with its fixture key).
    pub async fn verifier_as(&self, id: &str) -> VerifierServiceClient<Authed> {
        VerifierServiceClient::new(self.authed(id).await)
    }

    /// Signs in to the verifier as `id`: a session token.
    pub async fn sign_in(&self, id: &str) -> String {
        let channel = self.channel(self.verifier_grpc).await;
        let key = &self.fixture.party(id).key;
        pedigree_runtime::sign_in::sign_in(channel, key, &self.fixture.chain_id, id)
            .await
            .expect("signing in")
            .token
    }

    /// A connection to the verifier whose calls carry a session of `id`.
    pub async fn authed(&self, id: &str) -> Authed {
        let token = self.sign_in(id).await;
        let bearer = Bearer::new(&token).expect("token");
        InterceptedService::new(self.channel(self.verifier_grpc).await, bearer)
    }

    /// Audits the blocks topic from genesis (every signature, link, root and transition).
    pub async fn audit(&self) -> Result<pedigree_core::audit::Auditor, String> {
        let registry = pedigree_core::participant::Registry::from_genesis(&self.fixture.genesis).expect("genesis");
        let kafka = self.kafka();
        tokio::task::spawn_blocking(move || {
            let mut auditor = pedigree_core::audit::Auditor::new(registry);
            let mut failure = None;
            let read = pedigree_kafka::read_range(&kafka, BLOCKS_TOPIC, 0, 0, |offset, payload| {
                use prost::Message;
                let block = pedigree_core::pb::Block::decode(payload).expect("a block decodes");
                if let Err(e) = auditor.check(offset as u64, &block) {
                    failure.get_or_insert(e.to_string());
                }
                Ok(())
            });
            read.map_err(|e| e.to_string())?;
            failure.map_or(Ok(auditor), Err)
        })
        .await
        .expect("audit task")
    }

    /// Makes `gtin` a registered product of manufacturer (or repackager) `owner`, as a deployment does before the
    /// first commission: governance attests the GTIN's 7-digit GS1 company prefix (like [`PREFIX`]) to `owner`
    /// (attesting it again changes nothing), then `owner` registers the product. Waits until both are sealed, and
    /// panics unless both were committed.
    pub async fn product(&self, owner: &str, gtin: &str) {
        self.product_of(owner, &self.fixture.party(owner).key, gtin).await;
    }

    /// [`Stack::product`] for an owner that is not a fixture party (registered by a test): `key` signs.
    pub async fn product_of(&self, owner: &str, key: &pedigree_core::keys::KeyPair, gtin: &str) {
        let prefix = company_prefix(gtin);
        let attest = self
            .submit(self.sign_governance(body::attest_prefixes(owner, &[prefix])))
            .await
            .expect("custody takes the attestation");
        let status = self.outcome(&attest.event_id).await;
        assert_eq!(
            status.state(),
            EventState::Committed,
            "attesting {prefix} to {owner}: {status:?}"
        );
        let register = body::register_product(gtin, "Paracetamol 500 mg", "500 mg", "tablet", 20);
        // Custody follows the sealed registry: it knows the attestation once it has read the block.
        for _ in 0..200 {
            let envelope = sign_payload(key, &new_payload(&self.fixture.chain_id, owner, register.clone()));
            match self.submit(envelope).await {
                Ok(r) => {
                    let status = self.outcome(&r.event_id).await;
                    assert_eq!(status.state(), EventState::Committed, "registering {gtin}: {status:?}");
                    return;
                }
                Err(s) if s.message().contains("prefix") => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(s) => panic!("registering {gtin}: {s:?}"),
            }
        }
        panic!("custody never saw {prefix} attested to {owner}");
    }

    /// Like [`Stack::product`] for a stack whose sequencer has not started: the attestation and the registration
    /// are appended to the events topic in that order (custody could not take the registration before the
    /// attestation is sealed), for the sequencer to seal before what follows. Their event ids, in order.
    pub async fn product_in_topic(&self, owner: &str, gtin: &str) -> [Vec<u8>; 2] {
        let attest = self.sign_governance(body::attest_prefixes(owner, &[company_prefix(gtin)]));
        let register = self.sign(
            owner,
            body::register_product(gtin, "Paracetamol 500 mg", "500 mg", "tablet", 20),
        );
        for envelope in [&attest, &register] {
            self.append_unchecked(envelope).await;
        }
        [attest, register].map(|e| pedigree_core::event::event_id(&e.payload).to_vec())
    }

    /// Polls until the event has an outcome (at most 30 s). NOT_FOUND counts as not yet: an event appended to the
    /// topic without custody (see [`Stack::append_unchecked`]) has no pending mark until it is sealed.
    pub async fn outcome(&self, event_id: &[u8]) -> EventStatus {
        let mut ledger = self.ledger().await;
        for _ in 0..600 {
            let request = GetEventStatusRequest {
                event_id: event_id.to_vec(),
            };
            let status = match ledger.get_event_status(request).await {
                Ok(status) => status.into_inner(),
                Err(s) if s.code() == tonic::Code::NotFound => EventStatus::default(),
                // Redis being brought up to the log (a replay after a restart or failover): ask again.
                Err(s) if s.code() == tonic::Code::Unavailable => EventStatus::default(),
                Err(s) => panic!("event status: {s:?}"),
            };
            if !matches!(status.state(), EventState::Pending | EventState::Unspecified) {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("event {} still pending after 30 s", hex_id(event_id));
    }
}

impl Stack {
    /// Every accepted event id in the chain, in order, after checking each block against its predecessor and each
    /// event against the registry as it stands at the event's position (governance folded event by event).
    pub async fn sealed_ids(&self) -> Vec<Vec<u8>> {
        let mut registry = Registry::from_genesis(&self.fixture.genesis).expect("genesis");
        let mut ledger = self.ledger().await;
        let mut head = None;
        for _ in 0..600 {
            match ledger.get_head(GetHeadRequest {}).await {
                Ok(answer) => {
                    head = Some(answer.into_inner().height);
                    break;
                }
                // Redis being brought up to the log: ask again.
                Err(s) if s.code() == tonic::Code::Unavailable => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(s) => panic!("head: {s:?}"),
            }
        }
        let head = head.expect("the ledger answered its head within 30 s");
        let mut tip = Tip::genesis(registry.chain_id);
        let mut ids = Vec::new();
        for height in 1..=head {
            let request = GetBlockRequest { height };
            let block = ledger.get_block(request).await.expect("block").into_inner();
            // The key the registry folded so far names for this block (a sealed rotation takes over after it).
            let (_, next) = check_block(&block, &tip, &registry.sequencer_key()).expect("block checks out");
            tip = next;
            let at = pedigree_core::context::BlockContext::new(height, 0);
            for (index, envelope) in block.events.iter().enumerate() {
                let event = check_envelope(envelope, &registry).expect("sealed event checks out");
                pedigree_core::governance::apply_governance(&event, at.at_index(index), &mut registry)
                    .expect("a sealed registry change applies");
                ids.push(event.id.to_vec());
            }
        }
        ids
    }
}

/// The tests' GS1 company prefixes are 7 digits: a GTIN-14's digits 2 to 8.
fn company_prefix(gtin: &str) -> &str {
    gtin.get(1..8).expect("a gtin-14")
}

fn hex_id(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// Metrics on a free loopback port.
fn metrics_on_loopback() -> MetricsConfig {
    MetricsConfig {
        addr: Some("127.0.0.1:0".parse().expect("addr")),
    }
}

/// The server settings of a stack's service: TLS with the stack's certificate.
fn server_tls(cert: &ServerCert) -> ServerTlsConfig {
    ServerTlsConfig {
        cert: Some(cert.cert_path.clone()),
        key: Some(cert.key_path.clone()),
        insecure_plaintext: false,
        probe_addr: None,
    }
}

/// The custody service of a stack: TLS, the stack's broker, Redis and genesis.
fn custody_config(broker: &Broker, fixture: &Fixture, redis: &Redis, cert: &ServerCert) -> pedigree_custody::Config {
    pedigree_custody::Config {
        grpc_addr: "127.0.0.1:0".parse().expect("addr"),
        kafka_brokers: broker.brokers(),
        kafka_security: Default::default(),
        events_topic: EVENTS_TOPIC.into(),
        genesis: fixture.genesis_path.clone(),
        redis: redis.config_for(RedisUser::Custody),
        // Fast, so tests see sealed registry changes at the gate quickly.
        registry_refresh_ms: 50,
        delivery_timeout_ms: 3000,
        block_max_bytes: pedigree_core::block_size::DEFAULT_BLOCK_MAX_BYTES as u64,
        shutdown_grace_secs: 5,
        tls: server_tls(cert),
        metrics: metrics_on_loopback(),
        submissions_per_sec: 1_000,
        limits: Default::default(),
    }
}

/// The verifier of a stack: TLS, the stack's broker (the alerts log), Redis and genesis, a fast registry refresh (so
/// that tests see sealed revocations at once).
fn verifier_config(broker: &Broker, fixture: &Fixture, redis: &Redis, cert: &ServerCert) -> pedigree_verifier::Config {
    pedigree_verifier::Config {
        kafka_brokers: broker.brokers(),
        kafka_security: Default::default(),
        alerts_topic: "pedigree.alerts".into(),
        vrs_responder_gln: String::new(),
        durability: Default::default(),
        grpc_addr: "127.0.0.1:0".parse().expect("addr"),
        http_addr: "127.0.0.1:0".parse().expect("addr"),
        redis: redis.config_for(RedisUser::Verifier),
        genesis: fixture.genesis_path.clone(),
        registry_refresh_ms: 50,
        session_key_file: None,
        session_ttl_secs: 3600,
        max_redis_lag_blocks: 0,
        shutdown_grace_secs: 5,
        tls: server_tls(cert),
        metrics: metrics_on_loopback(),
        // Every test client runs on one address and signs in often: the address's budget is raised (hostile.rs
        // tests the default limits on verifiers of their own).
        anonymous_per_sec: 1_000,
        trusted_proxies: Default::default(),
        participant_per_sec: 1_000,
        limits: Default::default(),
    }
}

/// target/<profile>/<name>: a binary of the workspace, built by `cargo build --bins` (as `make test` does first).
pub fn binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} not found: run `cargo build --bins` before `cargo test`",
        path.display()
    );
    path
}

/// A child process killed when dropped (a failing test must not leave it running).
pub struct Killed(pub std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `pedigree {command} --as who` serving for `stack` on a free loopback port with the stack's server certificate
/// (the EPCIS gateway, the pharmacy console), with `env` set too: the child and the first line it prints (where it
/// listens).
pub fn serve_as(stack: &Stack, command: &str, who: &str, env: &[(&str, &str)]) -> (Killed, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(binary("pedigree"))
        .args([command, "--as", who, "--listen", "127.0.0.1:0"])
        .arg("--tls-cert")
        .arg(&stack.server_cert.cert_path)
        .arg("--tls-key")
        .arg(&stack.server_cert.key_path)
        .env("PEDIGREE_DIR", &stack.fixture.dir)
        .env("PEDIGREE_CA", &stack.ca_path)
        .env("PEDIGREE_CUSTODY", format!("https://{}", stack.custody_addr))
        .env("PEDIGREE_LEDGER", format!("https://{}", stack.verifier_grpc))
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting pedigree {command}: {e}"));
    let stdout = child.stdout.take().expect("its stdout");
    let child = Killed(child);
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap_or_else(|e| panic!("pedigree {command} says where it listens: {e}"));
    (child, line)
}

impl Stack {
    /// `from` packs `serials` of `gtin` onto pallet `sscc(n)`, ships it whole to `to`, who receives it whole; each
    /// event committed. The pallet.
    pub async fn pallet_delivered(
        &self,
        n: usize,
        gtin: &str,
        serials: &[String],
        from: &str,
        to: &str,
    ) -> pedigree_core::container::ContainerKey {
        let pallet = sscc(n);
        self.committed(from, body::pack(&pallet, &[(gtin, serials)], &[])).await;
        self.committed(from, body::ship_containers(std::slice::from_ref(&pallet), to))
            .await;
        self.committed(to, body::receive_containers(std::slice::from_ref(&pallet), from))
            .await;
        pallet
    }
}

/// An SSCC with serial reference `n` (extension 0, company prefix 0614141), as a container key.
pub fn sscc(n: usize) -> pedigree_core::container::ContainerKey {
    let sscc = pedigree_core::gs1::Sscc::with_check_digit(&format!("00614141{n:09}")).expect("a valid SSCC");
    pedigree_core::container::ContainerKey::Sscc(sscc)
}
