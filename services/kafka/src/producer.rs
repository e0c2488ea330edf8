//! The producer every writer uses: idempotent, acks=all, with a bounded delivery timeout (its configuration is in
//! `client_config.rs`).

use std::sync::{Arc, RwLock};
use std::time::Duration;

use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};

use crate::Result;
use crate::client_config::{self, ClientSettings};

/// A producer's tuning, beside the [`ClientSettings`] it connects with.
#[derive(Clone, Debug)]
pub struct ProducerSettings {
    /// How long a message may wait for acknowledgement before it fails (librdkafka `message.timeout.ms`).
    pub delivery_timeout: Duration,
    /// How long to wait for more messages to batch (librdkafka `linger.ms`).
    pub linger: Duration,
}

impl Default for ProducerSettings {
    fn default() -> Self {
        Self {
            delivery_timeout: Duration::from_secs(10),
            linger: Duration::from_millis(2),
        }
    }
}

/// Where a message landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Landed {
    pub partition: i32,
    pub offset: i64,
}

/// The idempotent, acks=all producer; cheap to clone (clones share one client).
///
/// An idempotent producer that hits a fatal error (the broker fenced its producer id, after a broker restart or a
/// long stall, say) refuses every later message. The failed send still fails (its outcome is unknown to the
/// caller), but the client is replaced by a new one, so that sending the same message again can succeed: what
/// every writer does (custody's callers resend the same envelope; the sequencer retries from its tip).
#[derive(Clone)]
pub struct Producer {
    /// The current client and its generation (how many times it was replaced).
    current: Arc<RwLock<(u64, FutureProducer)>>,
    client: ClientSettings,
    settings: ProducerSettings,
}

impl Producer {
    pub fn new(client: &ClientSettings, settings: &ProducerSettings) -> Result<Self> {
        let producer = client_config::producer(client, settings).create()?;
        Ok(Self {
            current: Arc::new(RwLock::new((0, producer))),
            client: client.clone(),
            settings: settings.clone(),
        })
    }

    fn current(&self) -> (u64, FutureProducer) {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Sends one message and waits until the broker acknowledged it.
    pub async fn send(&self, topic: &str, key: &[u8], payload: &[u8]) -> Result<Landed> {
        let (generation, producer) = self.current();
        let record = FutureRecord::to(topic).key(key).payload(payload);
        match producer.send(record, Duration::from_secs(0)).await {
            Ok(delivery) => Ok(Landed {
                partition: delivery.partition,
                offset: delivery.offset,
            }),
            Err((e, _)) => {
                if is_fatal(&e) || producer.client().fatal_error().is_some() {
                    self.replace(generation);
                }
                Err(e.into())
            }
        }
    }

    /// Replaces the client of `generation` (once, however many sends saw it fail) by a new one.
    fn replace(&self, generation: u64) {
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        if current.0 != generation {
            return;
        }
        match client_config::producer(&self.client, &self.settings).create::<FutureProducer>() {
            Ok(fresh) => {
                tracing::warn!(generation, "kafka producer hit a fatal error: replaced by a new one");
                *current = (generation + 1, fresh);
            }
            Err(e) => tracing::warn!(error = %e, "kafka producer hit a fatal error and could not be replaced yet"),
        }
    }

    /// Waits up to `timeout` until every message the client still holds was delivered or failed.
    pub fn flush(&self, timeout: Duration) -> Result<()> {
        Ok(self.current().1.flush(timeout)?)
    }
}

/// Errors after which an idempotent producer accepts nothing more.
fn is_fatal(e: &RdKafkaError) -> bool {
    matches!(
        e.rdkafka_error_code(),
        Some(RDKafkaErrorCode::ProducerFenced | RDKafkaErrorCode::Fatal | RDKafkaErrorCode::InvalidProducerEpoch)
    )
}
