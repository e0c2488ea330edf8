//! Building the sequencer (tests start it with port 0): the key and genesis checked, Redis and the producer
//! connected, the blocks topic created (or found) with settings that keep every block, the health server bound; then [`App::run_until`] serves health and runs the
//! sealing loop ([`crate::sealer`]) until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use pedigree_core::keys::KeyPair;
use pedigree_core::participant::Registry;
use pedigree_kafka::{PartitionReader, Producer, ProducerSettings, TopicSpec, check_blocks_topic, ensure_topics};
use pedigree_runtime::Shutdown;
use pedigree_runtime::grpc::Services;
use pedigree_runtime::metrics::MetricsServer;
use pedigree_runtime::tls::ServerTls;
use pedigree_store::Store;
use tokio::net::TcpListener;

use crate::chain::Canon;
use crate::config::Config;
use crate::leadership::Leadership;
use crate::metrics::{Metrics, watch_lag};
use crate::progress::Progress;
use crate::sealer::Sealer;
use crate::write_behind::WriteBehind;

/// A ready-to-run sequencer.
pub struct App {
    config: Config,
    /// The genesis registry: the sequencer folds the chain's governance events onto it ([`Canon`]).
    registry: Arc<Registry>,
    /// The signing keys it holds: the current one and, during a rotation, the next.
    keys: Vec<KeyPair>,
    store: Store,
    producer: Producer,
    health: TcpListener,
    tls: ServerTls,
    leadership: Leadership,
    metrics_server: MetricsServer,
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let tls = ServerTls::load(&config.tls)?;
        let registry = pedigree_runtime::load_registry(&config.genesis)?;
        let mut keys = vec![read_key(&config.key)?];
        if let Some(path) = &config.next_key {
            keys.push(read_key(path)?);
        }
        // Which key signs is the chain's business (its schedule, folded from the blocks topic); a key that is not
        // the genesis key is only of use after a rotation, so say which keys this sequencer holds.
        if !keys.iter().any(|k| k.public() == registry.sequencer_key()) {
            tracing::warn!(
                keys = ?keys.iter().map(KeyPair::key_id).collect::<Vec<_>>(),
                genesis = %registry.sequencer_key().key_id(),
                "none of this sequencer's keys is the genesis sequencer key: it can only seal after a rotation to one"
            );
        }
        let store = Store::connect(&config.redis).await.context("connecting to redis")?;
        let kafka = config.kafka().context("kafka settings")?;
        let producer = Producer::new(&kafka, &ProducerSettings::default()).context("creating the producer")?;
        let specs = [TopicSpec::blocks(&config.blocks_topic, &config.durability)];
        ensure_topics(&kafka, &specs)
            .await
            .context("creating the blocks topic")?;
        // The ledger lives in this topic: refuse one that would lose blocks (see docs/operations.md).
        check_blocks_topic(&kafka, &config.blocks_topic)
            .await
            .context("the blocks topic cannot hold a ledger")?;
        let health = TcpListener::bind(config.health_addr)
            .await
            .with_context(|| format!("binding {}", config.health_addr))?;
        let metrics_server = MetricsServer::bind(&config.metrics).await?;
        let leadership = Leadership::start(&config.leadership).await?;
        Ok(Self {
            config,
            registry: Arc::new(registry),
            keys,
            store,
            producer,
            health,
            tls,
            leadership,
            metrics_server,
        })
    }

    pub fn health_addr(&self) -> SocketAddr {
        self.health.local_addr().expect("a bound listener has an address")
    }

    /// Where metrics are served, if `PEDIGREE_METRICS_ADDR` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_server.addr()
    }

    /// Seals blocks while leading, until `shutdown`; the batch in hand is finished (or, if collection was still
    /// going on, dropped whole) before returning, then a held lease is released.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let shutdown = Shutdown::on(shutdown);
        let grace = Duration::from_secs(self.config.shutdown_grace_secs);
        // A standby reports SERVING too: it is healthy, just not leading.
        let tls = self.tls;
        let health_shutdown = shutdown.clone();
        let health_listener = self.health;
        let progress = Progress::default();
        let healthy = progress.watch_health(Duration::from_secs(self.config.stall_secs));
        let mut registry = pedigree_runtime::metrics::registry("sequencer");
        let metrics = Metrics::register(&mut registry, &progress);
        let lag = tokio::spawn(watch_lag(
            metrics.clone(),
            self.config.kafka()?,
            self.config.events_topic.clone(),
            shutdown.watch(),
        ));
        let metrics_tls = tls.clone();
        let metrics_shutdown = shutdown.clone();
        let metrics_server = self.metrics_server;
        let metrics_task = tokio::spawn(async move {
            metrics_server
                .serve(Arc::new(registry), &metrics_tls, metrics_shutdown)
                .await
        });
        let health = tokio::spawn(async move {
            let services = Services::new()
                .report_health_as("pedigree.v1.Sequencer")
                .ready_while(healthy)
                .probe_on(tls.bind_probe().await?);
            pedigree_runtime::grpc::serve(
                health_listener,
                services,
                &tls,
                health_shutdown,
                grace,
                &pedigree_runtime::limits::Limits::default(),
            )
            .await
        });
        let tail = PartitionReader::new(&self.config.kafka()?, &self.config.blocks_topic, 0)
            .context("creating the blocks topic reader")?;
        let mut sealer = Sealer {
            config: self.config,
            keys: self.keys,
            write_behind: WriteBehind::new(self.store.clone(), metrics.clone()),
            store: self.store,
            producer: self.producer,
            canon: Canon::new(self.registry),
            tail: Arc::new(std::sync::Mutex::new(tail)),
            progress,
            metrics,
        };
        let result = sealer.run(shutdown.watch(), &self.leadership).await;
        self.leadership.shutdown().await;
        health.abort();
        lag.abort();
        metrics_task.abort();
        result
    }
}

fn read_key(path: &std::path::Path) -> anyhow::Result<KeyPair> {
    let pem = std::fs::read_to_string(path).with_context(|| format!("reading sequencer key {}", path.display()))?;
    KeyPair::from_pem(&pem).with_context(|| format!("parsing the sequencer key {}", path.display()))
}
