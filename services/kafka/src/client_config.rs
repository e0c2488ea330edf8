//! Every Kafka client configuration, built here and only here. [`ClientSettings`] is what a deployment sets to reach
//! the cluster (the bootstrap servers and the security settings of [`KafkaSecurity`]), [`base`] turns it into the
//! configuration every client starts from, and each kind of client adds its own properties below, so that all that
//! Pedigree asks of librdkafka reads in one file. The values were tuned: change them with measurements.

use std::fmt;

use rdkafka::config::ClientConfig;

use crate::error::Result;
use crate::producer::ProducerSettings;
use crate::security::{KafkaSecurity, is_secret};

/// How to reach the Kafka cluster: the one thing a caller passes to build any client.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSettings {
    /// Bootstrap servers, `host:port[,host:port...]`.
    pub brokers: String,
    /// librdkafka security properties (`security.protocol`, `ssl.*`, `sasl.*`), from [`KafkaSecurity::properties`].
    security: Vec<(String, String)>,
}

impl fmt::Debug for ClientSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let security: Vec<(&str, &str)> = self
            .security
            .iter()
            .map(|(k, v)| (k.as_str(), if is_secret(k) { "<redacted>" } else { v.as_str() }))
            .collect();
        f.debug_struct("ClientSettings")
            .field("brokers", &self.brokers)
            .field("security", &security)
            .finish()
    }
}

impl ClientSettings {
    /// Plaintext, unauthenticated (librdkafka's defaults): a dev broker.
    pub fn new(brokers: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            security: Vec::new(),
        }
    }

    /// `brokers` with `security`'s settings, checked (see [`KafkaSecurity::properties`]).
    pub fn secured(brokers: impl Into<String>, security: &KafkaSecurity) -> Result<Self> {
        Ok(Self {
            brokers: brokers.into(),
            security: security.properties()?,
        })
    }

    /// Whether the connection is neither encrypted nor authenticated.
    pub fn is_plaintext(&self) -> bool {
        self.security
            .iter()
            .all(|(k, v)| k != "security.protocol" || v == "plaintext")
    }
}

/// Prefetch bound of a partition reader, in KiB (a message larger than this is still fetched, one at a time).
const READER_PREFETCH_KBYTES: usize = 8 * 1024;

/// The base of every client: the bootstrap servers, the security settings and what all clients share.
fn base(settings: &ClientSettings) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &settings.brokers)
        .set("broker.address.family", "v4");
    for (key, value) in &settings.security {
        config.set(key, value);
    }
    config
}

/// The admin client that creates topics.
pub(crate) fn admin(settings: &ClientSettings) -> ClientConfig {
    base(settings)
}

/// The producer: idempotent (no duplicates from retries), acks from all in-sync replicas, and a bounded delivery
/// timeout so a caller learns the broker is down instead of waiting forever.
pub(crate) fn producer(settings: &ClientSettings, producer: &ProducerSettings) -> ClientConfig {
    let mut config = base(settings);
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", producer.delivery_timeout.as_millis().to_string())
        .set("linger.ms", producer.linger.as_millis().to_string())
        // Kafka's default limit: a larger record would be refused by a default broker (blocks are kept under
        // it, see the sequencer's block size limit).
        .set("message.max.bytes", KAFKA_DEFAULT_MESSAGE_MAX_BYTES.to_string())
        // What waits for a slow broker is bounded (librdkafka's default is 1 GiB): beyond it a send fails at once
        // with QueueFull, which custody answers RESOURCE_EXHAUSTED with a time to retry.
        .set("queue.buffering.max.kbytes", PRODUCER_QUEUE_MAX_KBYTES.to_string())
        .set("queue.buffering.max.messages", PRODUCER_QUEUE_MAX_MESSAGES.to_string());
    config
}

/// The most a producer holds for the broker at once, in KiB (64 MiB: a few seconds of ingest at full speed).
pub const PRODUCER_QUEUE_MAX_KBYTES: usize = 64 * 1024;

/// The most messages a producer holds for the broker at once.
pub const PRODUCER_QUEUE_MAX_MESSAGES: usize = 100_000;

/// Apache Kafka's default `message.max.bytes` (a record batch, on the broker and per topic): what Pedigree keeps
/// every record under, whatever a lenient broker would accept.
pub const KAFKA_DEFAULT_MESSAGE_MAX_BYTES: usize = 1_048_588;

/// Every consumer halts on an offset the topic no longer holds instead of skipping to an end of the log: events
/// or blocks lost to retention or a recreated topic must be noticed, never passed over.
fn no_offset_reset(config: &mut ClientConfig) {
    config.set("auto.offset.reset", "error");
}

/// A partition reader: assigned ranges only, nothing committed.
pub(crate) fn reader(settings: &ClientSettings) -> ClientConfig {
    let mut config = base(settings);
    config
        .set("group.id", "pedigree-reader")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        // A reader waits for new data at most this long per fetch: reading back a just-appended block is then fast.
        .set("fetch.wait.max.ms", "10")
        // librdkafka prefetches up to 64 MiB per partition by default; a reader reads ranges it asked for, so a few
        // messages ahead are enough, and the process' memory does not grow with the topic's backlog.
        .set("queued.max.messages.kbytes", READER_PREFETCH_KBYTES.to_string());
    no_offset_reset(&mut config);
    config
}

/// The sequencer's events consumer, for batches of up to `batch_max_bytes`: assigned partitions, nothing committed
/// (the resume offsets live in the blocks).
pub(crate) fn events_consumer(settings: &ClientSettings, batch_max_bytes: usize) -> ClientConfig {
    let mut config = base(settings);
    config
        .set("group.id", "pedigree-sequencer")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .set("fetch.wait.max.ms", "10")
        // Four batches ahead keep the sealing loop fed; librdkafka's default (64 MiB per partition) would let the
        // sequencer's memory grow with the events backlog instead.
        .set(
            "queued.max.messages.kbytes",
            (4 * batch_max_bytes / 1024).max(1024).to_string(),
        );
    no_offset_reset(&mut config);
    config
}

/// A [`crate::TopicTail`]: assigned partitions, nothing committed; the group id names its user, the load tester.
pub(crate) fn topic_tail(settings: &ClientSettings) -> ClientConfig {
    let mut config = base(settings);
    config
        .set("group.id", "pedigree-loadtest")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .set("fetch.wait.max.ms", "5");
    no_offset_reset(&mut config);
    config
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn settings() -> ClientSettings {
        ClientSettings::new("127.0.0.1:9092,127.0.0.1:9093")
    }

    /// Every kind of client, with the properties its kind adds on top of the base.
    fn every_client() -> Vec<(&'static str, ClientConfig)> {
        let s = settings();
        vec![
            ("admin", admin(&s)),
            ("producer", producer(&s, &ProducerSettings::default())),
            ("reader", reader(&s)),
            ("events consumer", events_consumer(&s, 1024 * 1024)),
            ("topic tail", topic_tail(&s)),
        ]
    }

    #[test]
    fn every_client_starts_from_the_base() {
        for (name, config) in every_client() {
            assert_eq!(
                config.get("bootstrap.servers"),
                Some("127.0.0.1:9092,127.0.0.1:9093"),
                "{name}"
            );
            assert_eq!(config.get("broker.address.family"), Some("v4"), "{name}");
        }
    }

    #[test]
    fn every_client_carries_the_security_settings() {
        let security = KafkaSecurity {
            ssl_certificate: Some("/tls/client.pem".into()),
            ssl_key: Some("/tls/client-key.pem".into()),
            ..KafkaSecurity::tls("/tls/ca.pem")
        };
        let s = ClientSettings::secured("broker:9093", &security).unwrap();
        assert!(!s.is_plaintext());
        for (name, config) in [
            ("admin", admin(&s)),
            ("producer", producer(&s, &ProducerSettings::default())),
            ("reader", reader(&s)),
            ("events consumer", events_consumer(&s, 1024 * 1024)),
            ("topic tail", topic_tail(&s)),
        ] {
            assert_eq!(config.get("security.protocol"), Some("ssl"), "{name}");
            assert_eq!(config.get("ssl.ca.location"), Some("/tls/ca.pem"), "{name}");
            assert_eq!(
                config.get("ssl.certificate.location"),
                Some("/tls/client.pem"),
                "{name}"
            );
            assert_eq!(config.get("ssl.key.location"), Some("/tls/client-key.pem"), "{name}");
        }
        assert!(settings().is_plaintext());
        assert_eq!(admin(&settings()).get("security.protocol"), None);
    }

    #[test]
    fn the_password_never_shows() {
        let security = KafkaSecurity {
            protocol: crate::SecurityProtocol::SaslSsl,
            sasl_mechanism: Some(crate::SaslMechanism::ScramSha256),
            sasl_username: Some("custody".into()),
            sasl_password: Some("hunter2".into()),
            ..KafkaSecurity::default()
        };
        let s = ClientSettings::secured("broker:9093", &security).unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2") && shown.contains("custody"), "{shown}");
        assert_eq!(
            producer(&s, &ProducerSettings::default()).get("sasl.password"),
            Some("hunter2")
        );
    }

    #[test]
    fn producer_is_idempotent_and_waits_for_all_replicas() {
        let tuned = ProducerSettings {
            delivery_timeout: Duration::from_millis(2500),
            linger: Duration::from_millis(7),
        };
        let config = producer(&settings(), &tuned);
        assert_eq!(config.get("enable.idempotence"), Some("true"));
        assert_eq!(config.get("acks"), Some("all"));
        assert_eq!(config.get("message.timeout.ms"), Some("2500"));
        assert_eq!(config.get("linger.ms"), Some("7"));
        assert_eq!(config.get("message.max.bytes"), Some("1048588"));
        assert_eq!(config.get("queue.buffering.max.kbytes"), Some("65536"));
        assert_eq!(config.get("queue.buffering.max.messages"), Some("100000"));
        let defaults = producer(&settings(), &ProducerSettings::default());
        assert_eq!(defaults.get("message.timeout.ms"), Some("10000"));
        assert_eq!(defaults.get("linger.ms"), Some("2"));
    }

    #[test]
    fn consumers_commit_nothing_and_bound_their_prefetch() {
        let reader = reader(&settings());
        assert_eq!(reader.get("group.id"), Some("pedigree-reader"));
        assert_eq!(reader.get("fetch.wait.max.ms"), Some("10"));
        assert_eq!(reader.get("queued.max.messages.kbytes"), Some("8192"));
        // Four batches ahead, never under 1 MiB.
        let events = events_consumer(&settings(), 4 * 1024 * 1024);
        assert_eq!(events.get("group.id"), Some("pedigree-sequencer"));
        assert_eq!(events.get("fetch.wait.max.ms"), Some("10"));
        assert_eq!(events.get("queued.max.messages.kbytes"), Some("16384"));
        let small = events_consumer(&settings(), 64 * 1024);
        assert_eq!(small.get("queued.max.messages.kbytes"), Some("1024"));
        let tail = topic_tail(&settings());
        assert_eq!(tail.get("group.id"), Some("pedigree-loadtest"));
        assert_eq!(tail.get("fetch.wait.max.ms"), Some("5"));
        assert_eq!(tail.get("queued.max.messages.kbytes"), None);
        for config in [reader, events, tail] {
            assert_eq!(config.get("auto.offset.reset"), Some("error"));
            assert_eq!(config.get("enable.auto.commit"), Some("false"));
            assert_eq!(config.get("enable.partition.eof"), Some("false"));
        }
    }
}
