//! The producer every writer uses: idempotent (no duplicates from retries), acks from all in-sync replicas, and a
//! bounded delivery timeout so a caller learns the broker is down instead of waiting forever.

use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::Result;

/// Settings for [`producer`].
#[derive(Clone, Debug)]
pub struct ProducerSettings {
    pub brokers: String,
    /// How long a message may wait for acknowledgement before it fails (librdkafka `message.timeout.ms`).
    pub delivery_timeout: Duration,
    /// How long to wait for more messages to batch (librdkafka `linger.ms`).
    pub linger: Duration,
}

impl ProducerSettings {
    pub fn new(brokers: &str) -> Self {
        Self {
            brokers: brokers.to_string(),
            delivery_timeout: Duration::from_secs(10),
            linger: Duration::from_millis(2),
        }
    }
}

pub fn producer(settings: &ProducerSettings) -> Result<FutureProducer> {
    Ok(ClientConfig::new()
        .set("bootstrap.servers", &settings.brokers)
        .set("broker.address.family", "v4")
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", settings.delivery_timeout.as_millis().to_string())
        .set("linger.ms", settings.linger.as_millis().to_string())
        .set("message.max.bytes", (16 * 1024 * 1024).to_string())
        .create()?)
}

/// Where a message landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Landed {
    pub partition: i32,
    pub offset: i64,
}

/// Sends one message and waits until the broker acknowledged it.
pub async fn send(producer: &FutureProducer, topic: &str, key: &[u8], payload: &[u8]) -> Result<Landed> {
    let record = FutureRecord::to(topic).key(key).payload(payload);
    let delivery = producer
        .send(record, Duration::from_secs(0))
        .await
        .map_err(|(e, _)| e)?;
    Ok(Landed {
        partition: delivery.partition,
        offset: delivery.offset,
    })
}
