//! Kafka plumbing shared by the services; code only to the Kafka protocol (Apache Kafka, Redpanda, tansu...).
//!
//! - [`topics`]: explicit topic creation (brokers may not auto-create).
//! - [`producer`]: the idempotent, acks=all producer.
//! - [`reader`]: synchronous partition readers for the log's tail and for replays.

#![forbid(unsafe_code)]

pub mod producer;
pub mod reader;
pub mod topics;

pub use rdkafka;

/// What went wrong with the broker.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("topic '{topic}': {reason}")]
    Topic { topic: String, reason: String },
}

pub type Result<T> = std::result::Result<T, LogError>;
