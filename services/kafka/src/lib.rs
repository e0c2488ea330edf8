//! Pedigree's Kafka clients, and the only crate that knows the client library (librdkafka through `rdkafka`): the
//! other crates use the small typed API below, so the client library, its properties and its types stay here. Code
//! only to the Kafka protocol (Apache Kafka, Redpanda, tansu...).
//!
//! - [`ClientSettings`]: how to reach the cluster, the one thing every client is built from; every client's
//!   configuration is built in `client_config.rs`.
//! - [`KafkaSecurity`]: TLS and SASL settings (clap arguments), checked and carried into every client.
//! - [`ensure_topics`]: explicit topic creation (brokers may not auto-create), with the settings of [`TopicSpec`];
//!   [`check_blocks_topic`]: an existing blocks topic keeps every block for ever.
//! - [`Producer`]: the idempotent, acks=all producer.
//! - [`EventsConsumer`]: the sequencer's consumer of the events topic.
//! - [`TopicTail`]: follows a topic from where it ended (the load tester's blocks watcher).
//! - [`PartitionReader`], [`read_range`], [`read_last`]: synchronous partition readers for the log's tail and for
//!   replays.

#![forbid(unsafe_code)]

mod client_config;
mod error;
mod events;
mod message;
mod producer;
mod reader;
mod security;
mod tail;
mod topics;

pub use client_config::{ClientSettings, KAFKA_DEFAULT_MESSAGE_MAX_BYTES};
pub use error::{KafkaError, Result};
pub use events::EventsConsumer;
pub use message::Message;
pub use producer::{Landed, Producer, ProducerSettings};
pub use reader::{PartitionReader, all_watermarks, partition_count, read_last, read_range, watermarks};
pub use security::{KafkaSecurity, SaslMechanism, SecurityProtocol};
pub use tail::TopicTail;
pub use topics::{Durability, TopicSpec, check_blocks_topic, ensure_topics};
