//! The producer every writer uses: idempotent, acks=all, with a bounded delivery timeout (its configuration is in
//! `client_config.rs`).

use std::time::Duration;

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
#[derive(Clone)]
pub struct Producer {
    producer: FutureProducer,
}

impl Producer {
    pub fn new(client: &ClientSettings, settings: &ProducerSettings) -> Result<Self> {
        Ok(Self {
            producer: client_config::producer(client, settings).create()?,
        })
    }

    /// Sends one message and waits until the broker acknowledged it.
    pub async fn send(&self, topic: &str, key: &[u8], payload: &[u8]) -> Result<Landed> {
        let record = FutureRecord::to(topic).key(key).payload(payload);
        let delivery = self
            .producer
            .send(record, Duration::from_secs(0))
            .await
            .map_err(|(e, _)| e)?;
        Ok(Landed {
            partition: delivery.partition,
            offset: delivery.offset,
        })
    }

    /// Waits up to `timeout` until every message the client still holds was delivered or failed.
    pub fn flush(&self, timeout: Duration) -> Result<()> {
        Ok(self.producer.flush(timeout)?)
    }
}
