//! Building the sequencer (tests start it with port 0) and its sealing loop.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use pedigree_core::block::{BlockContent, Tip, seal};
use pedigree_core::keys::KeyPair;
use pedigree_core::participant::Registry;
use pedigree_core::pb::PartitionOffset;
use pedigree_log::producer::{ProducerSettings, producer, send};
use pedigree_log::rdkafka::consumer::{Consumer, StreamConsumer};
use pedigree_log::rdkafka::producer::FutureProducer;
use pedigree_log::rdkafka::{ClientConfig, Offset, TopicPartitionList};
use pedigree_log::reader::partition_count;
use pedigree_log::topics::{TopicSpec, ensure_topics};
use pedigree_store::{BlockWrite, Store};
use prost::Message;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::batch::{Limits, next_batch};
use crate::config::Config;
use crate::process::{Applied, apply_batch, check_all};
use crate::resume::{replay, resume};

/// A ready-to-run sequencer.
pub struct App {
    config: Config,
    registry: Arc<Registry>,
    key: KeyPair,
    store: Store,
    producer: FutureProducer,
    health: TcpListener,
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let genesis = std::fs::read_to_string(&config.genesis)
            .with_context(|| format!("reading genesis file {}", config.genesis.display()))?;
        let registry = Registry::from_genesis_json(&genesis).context("parsing the genesis file")?;
        let pem = std::fs::read_to_string(&config.key)
            .with_context(|| format!("reading sequencer key {}", config.key.display()))?;
        let key = KeyPair::from_pem(&pem).context("parsing the sequencer key")?;
        if key.public() != registry.sequencer_key {
            bail!("the sequencer key {} is not the one the genesis names", key.key_id());
        }
        let store = Store::connect(&config.redis_url).await.context("connecting to redis")?;
        let producer = producer(&ProducerSettings::new(&config.kafka_brokers)).context("creating the producer")?;
        let specs = [TopicSpec {
            name: config.blocks_topic.clone(),
            partitions: 1,
            replication: 1,
        }];
        ensure_topics(&config.kafka_brokers, &specs)
            .await
            .context("creating the blocks topic")?;
        let health = TcpListener::bind(config.health_addr)
            .await
            .with_context(|| format!("binding {}", config.health_addr))?;
        Ok(Self {
            config,
            registry: Arc::new(registry),
            key,
            store,
            producer,
            health,
        })
    }

    pub fn health_addr(&self) -> SocketAddr {
        self.health.local_addr().expect("a bound listener has an address")
    }

    /// Seals blocks until `shutdown`; the batch in hand is finished (or, if collection was still going on,
    /// dropped whole) before returning.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        let basics = pedigree_runtime::grpc::basics()?;
        let mut health_stop = stop_rx.clone();
        let grace = Duration::from_secs(self.config.shutdown_grace_secs);
        let health = tokio::spawn(pedigree_runtime::grpc::serve(
            self.health,
            basics.routes,
            basics.health,
            &["pedigree.v1.Sequencer"],
            async move {
                let _ = health_stop.wait_for(|s| *s).await;
            },
            grace,
        ));
        let mut sealer = Sealer::start(self.config, self.registry, self.key, self.store, self.producer).await?;
        let result = sealer.run(stop_rx).await;
        health.abort();
        result
    }
}

/// The sealing loop's state.
struct Sealer {
    config: Config,
    registry: Arc<Registry>,
    key: KeyPair,
    store: Store,
    producer: FutureProducer,
    consumer: StreamConsumer,
    tip: Tip,
    offsets: BTreeMap<i32, i64>,
}

impl Sealer {
    async fn start(
        config: Config,
        registry: Arc<Registry>,
        key: KeyPair,
        store: Store,
        producer: FutureProducer,
    ) -> anyhow::Result<Self> {
        let resumed = resume(&config.kafka_brokers, &config.blocks_topic, &registry, &store).await?;
        tracing::info!(height = resumed.tip.height, offsets = ?resumed.offsets, "resuming");
        let consumer = assign(&config, &resumed.offsets).await?;
        Ok(Self {
            config,
            registry,
            key,
            store,
            producer,
            consumer,
            tip: resumed.tip,
            offsets: resumed.offsets,
        })
    }

    async fn run(&mut self, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
        let limits = Limits {
            max_events: self.config.batch_max_events,
            max_bytes: self.config.batch_max_bytes,
            max_wait: Duration::from_millis(self.config.batch_max_wait_ms),
        };
        while let Some(batch) = next_batch(&self.consumer, limits, &mut stop).await? {
            for raw in &batch {
                self.offsets.insert(raw.partition, raw.offset + 1);
            }
            let checked = check_all(batch, self.registry.clone()).await?;
            self.catch_up_redis().await?;
            let applied = apply_batch(checked, &self.store, self.tip.height + 1).await?;
            if !applied.events.is_empty() || !applied.rejected.is_empty() {
                self.seal(applied).await?;
            }
        }
        tracing::info!(height = self.tip.height, "sequencer stopped");
        Ok(())
    }

    /// Redis is a cache of the log and may have been emptied (or restored from an old snapshot) while we run:
    /// one GET per batch tells, and the missing blocks are replayed before anything is applied on top.
    async fn catch_up_redis(&self) -> anyhow::Result<()> {
        let head = self.store.head().await?;
        if head > self.tip.height {
            bail!(
                "redis is at height {head}, ahead of this sequencer's chain at {}: another writer?",
                self.tip.height
            );
        }
        if head < self.tip.height {
            tracing::warn!(
                redis_head = head,
                chain_head = self.tip.height,
                "redis is behind the log, replaying"
            );
            replay(
                &self.config.kafka_brokers,
                &self.config.blocks_topic,
                head,
                &self.registry,
                &self.store,
            )
            .await?;
        }
        Ok(())
    }

    async fn seal(&mut self, applied: Applied) -> anyhow::Result<()> {
        let content = BlockContent {
            events: applied.events.clone(),
            rejected: applied.rejected.clone(),
            resume_offsets: self
                .offsets
                .iter()
                .map(|(&partition, &next_offset)| PartitionOffset { partition, next_offset })
                .collect(),
            time_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
            // Static leadership: one term for the whole chain.
            epoch: self.tip.epoch.max(1),
        };
        let (block, tip) = seal(&self.key, &self.tip, content);
        let bytes = block.encode_to_vec();
        send(
            &self.producer,
            &self.config.blocks_topic,
            &tip.height.to_be_bytes(),
            &bytes,
        )
        .await
        .with_context(|| format!("appending block {} to the blocks topic", tip.height))?;
        write_effects(&self.store, tip.height, &bytes, &applied).await?;
        tracing::debug!(
            height = tip.height,
            events = block.events.len(),
            rejected = block.rejected.len(),
            "sealed"
        );
        self.tip = tip;
        Ok(())
    }
}

/// Writes a sealed block's effects to Redis in one transaction.
pub(crate) async fn write_effects(store: &Store, height: u64, bytes: &[u8], applied: &Applied) -> anyhow::Result<()> {
    let write = BlockWrite {
        height,
        block: bytes,
        packs: applied.packs.changes().collect(),
        products: applied.products.iter().map(String::as_str).collect(),
        outcomes: applied.outcomes.clone(),
    };
    store
        .write_block(&write)
        .await
        .with_context(|| format!("writing block {height} to redis"))
}

/// A consumer assigned every partition of the events topic at the resume offsets (the beginning if none).
async fn assign(config: &Config, offsets: &BTreeMap<i32, i64>) -> anyhow::Result<StreamConsumer> {
    let (brokers, topic) = (config.kafka_brokers.clone(), config.events_topic.clone());
    let partitions = tokio::task::spawn_blocking(move || partition_count(&brokers, &topic)).await??;
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &config.kafka_brokers)
        .set("broker.address.family", "v4")
        .set("group.id", "pedigree-sequencer")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .set("fetch.wait.max.ms", "10")
        .create()
        .context("creating the events consumer")?;
    let mut tpl = TopicPartitionList::new();
    for partition in 0..partitions {
        let offset = offsets
            .get(&partition)
            .map_or(Offset::Beginning, |&o| Offset::Offset(o));
        tpl.add_partition_offset(&config.events_topic, partition, offset)?;
    }
    consumer.assign(&tpl).context("assigning the events partitions")?;
    Ok(consumer)
}
