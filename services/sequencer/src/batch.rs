//! Reading the events topic: a consumer at the canonical tip's offsets, and batches from it (up to a count, a size
//! that keeps the sealed block under the block size limit, or a wait after the first event).
//!
//! A block must fit in one Kafka record: Apache Kafka refuses records above `message.max.bytes` (1,048,588 bytes by
//! default). A batch is bounded by what its events can add to the block ([`block_cost`]: the envelope, or its
//! rejection, whichever is larger), under the block size limit less the header's room ([`BLOCK_OVERHEAD_BYTES`]);
//! the message that would cross the bound is kept for the next batch. A single envelope too large for any block
//! (custody refuses them, but anyone with write access to the topic can append one) is rejected by the sequencer
//! without its bytes entering the block ([`crate::recheck`]).

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use pedigree_core::block_size::{REJECTION_MAX_BYTES, block_cost};
use pedigree_kafka::{EventsConsumer, Message};
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
    /// The most the batch's messages may add to the block ([`block_cost`] summed).
    pub max_bytes: usize,
    pub max_wait: Duration,
}

/// A batch being collected.
#[derive(Debug, Default)]
pub struct Collected {
    pub records: Vec<EventRecord>,
    bytes: usize,
}

impl Collected {
    /// Takes `record` unless the batch would then cross a limit, in which case it is handed back (a record alone is
    /// always taken: one too large for any block is rejected when checked).
    fn offer(&mut self, record: EventRecord, limits: &Limits) -> Option<EventRecord> {
        let cost = block_cost(record.payload.len());
        if !self.records.is_empty() && (self.records.len() >= limits.max_events || self.bytes + cost > limits.max_bytes)
        {
            return Some(record);
        }
        self.bytes += cost;
        self.records.push(record);
        None
    }

    /// Whether the batch reached a limit: no further message could be taken.
    pub fn is_full(&self, limits: &Limits) -> bool {
        self.records.len() >= limits.max_events || self.bytes + REJECTION_MAX_BYTES > limits.max_bytes
    }
}

/// The events topic as the sealing loop reads it: the consumer, and a message read but left for the next batch.
pub struct EventSource {
    consumer: EventsConsumer,
    carry: Option<EventRecord>,
}

impl EventSource {
    /// Offers `record` to `batch`; whether the batch is closed (the record was left for the next one). Only called
    /// while nothing is carried: a carried message goes first into the next batch, and a batch that left one is
    /// closed, so that no later message overtakes it (or replaces it, which would skip it).
    fn offer(&mut self, batch: &mut Collected, record: EventRecord, limits: &Limits) -> bool {
        debug_assert!(self.carry.is_none(), "a message is offered while another is carried");
        self.carry = batch.offer(record, limits);
        self.carry.is_some()
    }

    /// Whether a message read is waiting for the next batch: the batch in hand is closed.
    pub fn carries(&self) -> bool {
        self.carry.is_some()
    }

    /// The carried message, if any, as the start of a new batch.
    fn start(&mut self, batch: &mut Collected, limits: &Limits) -> bool {
        match self.carry.take() {
            Some(record) => self.offer(batch, record, limits),
            None => false,
        }
    }
}

/// The messages already fetched, up to the limits, without waiting: what the sealing loop takes while a block's
/// write is still to be sent, so that a quiet topic never holds that write back.
pub async fn ready_batch(source: &mut EventSource, limits: Limits) -> anyhow::Result<Collected> {
    let mut batch = Collected::default();
    if source.start(&mut batch, &limits) {
        return Ok(batch);
    }
    while !batch.is_full(&limits) {
        match source.consumer.fetched().await {
            Some(message) => {
                if source.offer(&mut batch, record(&message?), &limits) {
                    break;
                }
            }
            None => break,
        }
    }
    Ok(batch)
}

/// The next batch, going on from `batch` (possibly empty), or `None` once `stop` turns true. A batch being collected
/// when `stop` turns is dropped whole: its offsets were not sealed, so it is read again after restart.
pub async fn next_batch(
    source: &mut EventSource,
    limits: Limits,
    stop: &mut watch::Receiver<bool>,
    mut batch: Collected,
) -> anyhow::Result<Option<Vec<EventRecord>>> {
    if batch.records.is_empty() && source.start(&mut batch, &limits) {
        return Ok(Some(batch.records));
    }
    // A batch handed in (from `ready_batch`) that left a message for the next one is closed: taking a later message
    // into it would seal that one first and drop the carried one.
    if source.carries() {
        return Ok(Some(batch.records));
    }
    if batch.records.is_empty() {
        let first = tokio::select! {
            message = source.consumer.recv() => record(&message?),
            _ = stop.wait_for(|s| *s) => return Ok(None),
        };
        if source.offer(&mut batch, first, &limits) {
            return Ok(Some(batch.records));
        }
    }
    let deadline = Instant::now() + limits.max_wait;
    while !batch.is_full(&limits) {
        tokio::select! {
            next = timeout_at(deadline, source.consumer.recv()) => match next {
                Ok(message) => {
                    if source.offer(&mut batch, record(&message?), &limits) {
                        break;
                    }
                }
                Err(_) => break,
            },
            _ = stop.wait_for(|s| *s) => return Ok(None),
        }
    }
    Ok(Some(batch.records))
}

fn record(message: &Message<'_>) -> EventRecord {
    EventRecord {
        partition: message.partition(),
        offset: message.offset(),
        payload: message.payload().to_vec(),
    }
}

/// A consumer assigned every partition of the events topic at the resume offsets (the beginning if none).
pub async fn assign(config: &Config, offsets: &BTreeMap<i32, i64>) -> anyhow::Result<EventSource> {
    let consumer = EventsConsumer::assign(&config.kafka()?, &config.events_topic, offsets, config.batch_max_bytes)
        .await
        .context("assigning the events consumer")?;
    Ok(EventSource { consumer, carry: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(offset: i64, len: usize) -> EventRecord {
        EventRecord {
            partition: 0,
            offset,
            payload: vec![0; len],
        }
    }

    fn limits(max_events: usize, max_bytes: usize) -> Limits {
        Limits {
            max_events,
            max_bytes,
            max_wait: Duration::from_millis(50),
        }
    }

    #[test]
    fn a_message_that_would_cross_the_size_bound_is_handed_back() {
        let limits = limits(100, 1000);
        let mut batch = Collected::default();
        assert!(batch.offer(record(0, 400), &limits).is_none());
        assert!(batch.offer(record(1, 400), &limits).is_none());
        let back = batch.offer(record(2, 400), &limits).expect("it would cross 1000 bytes");
        assert_eq!(back.offset, 2);
        assert_eq!(batch.records.len(), 2);
        assert_eq!(batch.bytes, 816);
    }

    #[test]
    fn a_message_alone_is_always_taken() {
        let limits = limits(100, 1000);
        let mut batch = Collected::default();
        assert!(batch.offer(record(0, 5000), &limits).is_none());
        assert!(batch.is_full(&limits));
        assert!(batch.offer(record(1, 1), &limits).is_some());
    }

    #[test]
    fn the_count_bound_holds() {
        let limits = limits(2, 1_000_000);
        let mut batch = Collected::default();
        assert!(batch.offer(record(0, 10), &limits).is_none());
        assert!(!batch.is_full(&limits));
        assert!(batch.offer(record(1, 10), &limits).is_none());
        assert!(batch.is_full(&limits));
        assert!(batch.offer(record(2, 10), &limits).is_some());
    }
}
