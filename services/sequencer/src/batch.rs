//! Reading the events topic: a consumer at the canonical tip's offsets, and batches from it (up to a count or a byte
//! size, or until a wait after its first event).

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use pedigree_log::rdkafka::consumer::{Consumer, StreamConsumer};
use pedigree_log::rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use pedigree_log::reader::partition_count;
use tokio::sync::watch;
use tokio::time::{Instant, timeout_at};

use crate::config::Config;

/// One message of the events topic.
#[derive(Clone, Debug)]
pub struct EventRecord {
    pub partition: i32,
    pub offset: i64,
    pub payload: Vec<u8>,
}

/// Batch limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_events: usize,
    pub max_bytes: usize,
    pub max_wait: Duration,
}

impl Limits {
    fn full(&self, events: usize, bytes: usize) -> bool {
        events >= self.max_events || bytes >= self.max_bytes
    }
}

/// A batch being collected.
#[derive(Debug, Default)]
pub struct Collected {
    pub records: Vec<EventRecord>,
    bytes: usize,
}

impl Collected {
    fn push(&mut self, message: &impl Message) {
        self.bytes += message.payload().map_or(0, <[u8]>::len);
        self.records.push(record(message));
    }

    /// Whether the batch reached a limit.
    pub fn is_full(&self, limits: &Limits) -> bool {
        limits.full(self.records.len(), self.bytes)
    }
}

/// The messages already fetched, up to the limits, without waiting: what the sealing loop takes while a block's
/// write is still to be sent, so that a quiet topic never holds that write back.
pub async fn ready_batch(consumer: &StreamConsumer, limits: Limits) -> anyhow::Result<Collected> {
    let mut batch = Collected::default();
    while !batch.is_full(&limits) {
        // A zero timeout still polls the receive once: a fetched message is returned, an empty queue is not waited on.
        match tokio::time::timeout(Duration::ZERO, consumer.recv()).await {
            Ok(message) => batch.push(&message?),
            Err(_) => break,
        }
    }
    Ok(batch)
}

/// The next batch, going on from `batch` (possibly empty), or `None` once `stop` turns true. A batch being collected
/// when `stop` turns is dropped whole: its offsets were not sealed, so it is read again after restart.
pub async fn next_batch(
    consumer: &StreamConsumer,
    limits: Limits,
    stop: &mut watch::Receiver<bool>,
    mut batch: Collected,
) -> anyhow::Result<Option<Vec<EventRecord>>> {
    if batch.records.is_empty() {
        let first = tokio::select! {
            message = consumer.recv() => message?,
            _ = stop.wait_for(|s| *s) => return Ok(None),
        };
        batch.push(&first);
    }
    let deadline = Instant::now() + limits.max_wait;
    while !batch.is_full(&limits) {
        tokio::select! {
            next = timeout_at(deadline, consumer.recv()) => match next {
                Ok(message) => batch.push(&message?),
                Err(_) => break,
            },
            _ = stop.wait_for(|s| *s) => return Ok(None),
        }
    }
    Ok(Some(batch.records))
}

fn record(message: &impl Message) -> EventRecord {
    EventRecord {
        partition: message.partition(),
        offset: message.offset(),
        payload: message.payload().unwrap_or_default().to_vec(),
    }
}

/// A consumer assigned every partition of the events topic at the resume offsets (the beginning if none).
pub async fn assign(config: &Config, offsets: &BTreeMap<i32, i64>) -> anyhow::Result<StreamConsumer> {
    let (brokers, topic) = (config.kafka_brokers.clone(), config.events_topic.clone());
    let partitions = tokio::task::spawn_blocking(move || partition_count(&brokers, &topic)).await??;
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &config.kafka_brokers)
        .set("broker.address.family", "v4")
        .set("group.id", "pedigree-sequencer")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .set("fetch.wait.max.ms", "10")
        // Four batches ahead keep the sealing loop fed; librdkafka's default (64 MiB per partition) would let the
        // sequencer's memory grow with the events backlog instead.
        .set(
            "queued.max.messages.kbytes",
            (4 * config.batch_max_bytes / 1024).max(1024).to_string(),
        )
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
