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
use pedigree_devstack::{Broker, Fixture, Redis, Storage};
use pedigree_kafka::{ClientSettings, Producer, ProducerSettings, TopicSpec, ensure_topics};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

pub use pedigree_core::body;

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
    pub broker: Broker,
    pub redis: Redis,
    pub custody_addr: SocketAddr,
    pub verifier_grpc: SocketAddr,
    pub verifier_http: SocketAddr,
    custody: Option<Running>,
    verifier: Option<Running>,
    sequencer: Option<Running>,
    pub batch_max_events: usize,
}

pub const EVENTS_TOPIC: &str = "pedigree.events";
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

    /// Broker, Redis, topics, custody and verifier, but no sequencer: start them with [`Stack::sequencer_with`].
    pub async fn spawn_bare(batch_max_events: usize) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let fixture = Fixture::create(dir.path()).expect("fixture");
        let broker = Broker::start(Storage::Memory).expect("starting tansu");
        let redis = Redis::start().expect("starting redis-server");
        let spec = TopicSpec {
            name: EVENTS_TOPIC.into(),
            partitions: 1,
            replication: 1,
        };
        ensure_topics(&ClientSettings::new(broker.brokers()), &[spec])
            .await
            .expect("creating the events topic");
        let custody = pedigree_custody::App::build(pedigree_custody::Config {
            grpc_addr: "127.0.0.1:0".parse().expect("addr"),
            kafka_brokers: broker.brokers(),
            events_topic: EVENTS_TOPIC.into(),
            genesis: fixture.genesis_path.clone(),
            redis_url: redis.url(),
            // Fast, so tests see sealed registry changes at the gate quickly.
            registry_refresh_ms: 50,
            delivery_timeout_ms: 3000,
            shutdown_grace_secs: 5,
        })
        .await
        .expect("building custody");
        let verifier = pedigree_verifier::App::build(pedigree_verifier::Config {
            grpc_addr: "127.0.0.1:0".parse().expect("addr"),
            http_addr: "127.0.0.1:0".parse().expect("addr"),
            redis_url: redis.url(),
            shutdown_grace_secs: 5,
        })
        .await
        .expect("building verifier");
        let (custody_addr, verifier_grpc, verifier_http) = (custody.addr(), verifier.grpc_addr(), verifier.http_addr());
        Self {
            fixture,
            _dir: dir,
            broker,
            redis,
            custody_addr,
            verifier_grpc,
            verifier_http,
            custody: Some(Running::spawn(|rx| custody.run_until(until(rx)))),
            verifier: Some(Running::spawn(|rx| verifier.run_until(until(rx)))),
            sequencer: None,
            batch_max_events,
        }
    }

    pub fn sequencer_config(&self) -> pedigree_sequencer::Config {
        pedigree_sequencer::Config {
            kafka_brokers: self.broker.brokers(),
            events_topic: EVENTS_TOPIC.into(),
            blocks_topic: BLOCKS_TOPIC.into(),
            redis_url: self.redis.url(),
            genesis: self.fixture.genesis_path.clone(),
            key: self.fixture.sequencer_key_path.clone(),
            batch_max_events: self.batch_max_events,
            batch_max_bytes: 1024 * 1024,
            batch_max_wait_ms: 20,
            health_addr: "127.0.0.1:0".parse().expect("addr"),
            shutdown_grace_secs: 5,
            leadership: pedigree_sequencer::LeadershipConfig::default(),
        }
    }

    pub async fn start_sequencer(&mut self) {
        let app = pedigree_sequencer::App::build(self.sequencer_config())
            .await
            .expect("building sequencer");
        self.sequencer = Some(Running::spawn(|rx| app.run_until(until(rx))));
    }

    /// Builds and starts one more sequencer with `config` (e.g. [`Stack::sequencer_config`] with another
    /// leadership), independent of the stack's own.
    pub async fn sequencer_with(&self, config: pedigree_sequencer::Config) -> Sequencer {
        let app = pedigree_sequencer::App::build(config)
            .await
            .expect("building sequencer");
        let health = app.health_addr();
        Sequencer {
            running: Running::spawn(|rx| app.run_until(until(rx))),
            health,
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

    async fn channel(addr: SocketAddr) -> Channel {
        Channel::from_shared(format!("http://{addr}"))
            .expect("uri")
            .connect()
            .await
            .expect("connecting")
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
        Self::channel(self.custody_addr).await
    }

    /// A new connection to the verifier's gRPC port.
    pub async fn verifier_channel(&self) -> Channel {
        Self::channel(self.verifier_grpc).await
    }

    pub async fn manufacturer(&self) -> ManufacturerServiceClient<Channel> {
        ManufacturerServiceClient::new(Self::channel(self.custody_addr).await)
    }
    pub async fn distributor(&self) -> DistributorServiceClient<Channel> {
        DistributorServiceClient::new(Self::channel(self.custody_addr).await)
    }
    pub async fn pharmacy(&self) -> PharmacyServiceClient<Channel> {
        PharmacyServiceClient::new(Self::channel(self.custody_addr).await)
    }
    pub async fn governance(&self) -> GovernanceServiceClient<Channel> {
        GovernanceServiceClient::new(Self::channel(self.custody_addr).await)
    }
    pub async fn ledger(&self) -> LedgerServiceClient<Channel> {
        LedgerServiceClient::new(Self::channel(self.verifier_grpc).await)
    }
    pub async fn verifier(&self) -> VerifierServiceClient<Channel> {
        VerifierServiceClient::new(Self::channel(self.verifier_grpc).await)
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

    /// Polls until the event has an outcome (at most 30 s).
    pub async fn outcome(&self, event_id: &[u8]) -> EventStatus {
        let mut ledger = self.ledger().await;
        for _ in 0..600 {
            let request = GetEventStatusRequest {
                event_id: event_id.to_vec(),
            };
            let status = ledger
                .get_event_status(request)
                .await
                .expect("event status")
                .into_inner();
            if status.state() != EventState::Pending {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("event {} still pending after 30 s", hex_id(event_id));
    }
}

impl Stack {
    /// Every accepted event id in the chain, in order, after checking each block against its predecessor.
    pub async fn sealed_ids(&self) -> Vec<Vec<u8>> {
        let registry = Registry::from_genesis(&self.fixture.genesis).expect("genesis");
        let mut ledger = self.ledger().await;
        let head = ledger
            .get_head(GetHeadRequest {})
            .await
            .expect("head")
            .into_inner()
            .height;
        let mut tip = Tip::genesis(registry.chain_id);
        let mut ids = Vec::new();
        for height in 1..=head {
            let request = GetBlockRequest { height };
            let block = ledger.get_block(request).await.expect("block").into_inner();
            let (_, next) = check_block(&block, &tip, &registry.sequencer_key).expect("block checks out");
            tip = next;
            for envelope in &block.events {
                let event = check_envelope(envelope, &registry).expect("sealed event checks out");
                ids.push(event.id.to_vec());
            }
        }
        ids
    }
}

fn hex_id(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}
