//! Creating the topics Pedigree needs, idempotently, with the settings the ledger depends on, and checking that an
//! existing blocks topic still has them.
//!
//! The blocks topic is the ledger: every block from height 1 must stay readable for ever (a sequencer folds the
//! chain from genesis, an auditor replays it). It is created with `retention.ms=-1` and `retention.bytes=-1` and
//! must never be compacted (its key is the height, so compaction would keep a stale competitor and drop the
//! canonical block). `cleanup.policy` is left to the broker's default (`delete`), which with both retentions
//! infinite deletes nothing; it is not set explicitly because the dev broker (tansu 0.6.0) loses every record of a
//! topic created with `retention.ms=-1` and an explicit `cleanup.policy=delete` within minutes.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

use crate::client_config::{self, ClientSettings};
use crate::{KafkaError, Result};

/// How many copies a topic keeps, from flags or environment variables.
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct Durability {
    /// Replication factor of the topics Pedigree creates (the chart sets 3).
    #[arg(long, env = "PEDIGREE_TOPIC_REPLICATION", default_value_t = 1)]
    pub topic_replication: i32,
    /// `min.insync.replicas` of the topics Pedigree creates: with acks=all, a write is acknowledged only once this
    /// many replicas have it (the chart sets 2).
    #[arg(long, env = "PEDIGREE_TOPIC_MIN_INSYNC_REPLICAS", default_value_t = 1)]
    pub topic_min_insync_replicas: i32,
}

impl Default for Durability {
    fn default() -> Self {
        Self {
            topic_replication: 1,
            topic_min_insync_replicas: 1,
        }
    }
}

/// A topic to create: name, partitions, replication factor, and the topic configs set at creation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    pub replication: i32,
    pub configs: Vec<(&'static str, String)>,
}

impl TopicSpec {
    /// The events topic: custody appends, the sequencer reads (the broker's retention, which must outlast any
    /// sequencer outage: an event expired before it was sealed halts the sequencer, see `auto.offset.reset`).
    pub fn events(name: &str, partitions: i32, durability: &Durability) -> Self {
        Self {
            name: name.into(),
            partitions,
            replication: durability.topic_replication,
            configs: vec![("min.insync.replicas", durability.topic_min_insync_replicas.to_string())],
        }
    }

    /// The blocks topic: one partition, kept for ever, never compacted.
    pub fn blocks(name: &str, durability: &Durability) -> Self {
        Self {
            name: name.into(),
            partitions: 1,
            replication: durability.topic_replication,
            configs: vec![
                ("retention.ms", "-1".into()),
                ("retention.bytes", "-1".into()),
                ("min.insync.replicas", durability.topic_min_insync_replicas.to_string()),
            ],
        }
    }

    /// The alerts topic (the verifiers' log of alerts raised and closed, their source of truth): one partition, so
    /// that every verifier folds the records in one order; kept for ever like the blocks topic.
    pub fn alerts(name: &str, durability: &Durability) -> Self {
        Self {
            name: name.into(),
            ..Self::blocks(name, durability)
        }
    }
}

const ADMIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Creates each topic unless it exists already.
pub async fn ensure_topics(settings: &ClientSettings, specs: &[TopicSpec]) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> = client_config::admin(settings).create()?;
    let topics: Vec<NewTopic<'_>> = specs
        .iter()
        .map(|s| {
            s.configs.iter().fold(
                NewTopic::new(&s.name, s.partitions, TopicReplication::Fixed(s.replication)),
                |topic, (key, value)| topic.set(key, value),
            )
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(ADMIN_TIMEOUT));
    for result in admin.create_topics(&topics, &options).await? {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(KafkaError::Topic {
                    topic,
                    reason: code.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// Checks that the blocks topic keeps every record for ever: not compacted, infinite time and size retention
/// (as the broker describes the topic's configuration).
pub async fn check_blocks_topic(settings: &ClientSettings, topic: &str) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> = client_config::admin(settings).create()?;
    let options = AdminOptions::new().request_timeout(Some(ADMIN_TIMEOUT));
    let described = admin
        .describe_configs(&[ResourceSpecifier::Topic(topic)], &options)
        .await?;
    let resource = described
        .into_iter()
        .next()
        .ok_or_else(|| KafkaError::Topic {
            topic: topic.into(),
            reason: "the broker described no configuration".into(),
        })?
        .map_err(|code| KafkaError::Topic {
            topic: topic.into(),
            reason: format!("describing its configuration: {code}"),
        })?;
    let value = |name: &str| resource.get(name).and_then(|entry| entry.value.clone());
    keeps_everything(
        value("cleanup.policy").as_deref(),
        value("retention.ms").as_deref(),
        value("retention.bytes").as_deref(),
    )
    .map_err(|reason| KafkaError::Topic {
        topic: topic.into(),
        reason,
    })
}

/// Whether a topic with these settings keeps every record for ever; why not otherwise. A missing retention is the
/// broker's default, which is finite on Apache Kafka (7 days for time).
fn keeps_everything(
    cleanup_policy: Option<&str>,
    retention_ms: Option<&str>,
    retention_bytes: Option<&str>,
) -> std::result::Result<(), String> {
    if cleanup_policy.is_some_and(|p| p.split(',').any(|p| p.trim() == "compact")) {
        return Err(format!(
            "cleanup.policy is {}: the blocks topic must never be compacted (its key is the height: compaction \
             would drop canonical blocks)",
            cleanup_policy.unwrap_or_default()
        ));
    }
    for (name, value) in [("retention.ms", retention_ms), ("retention.bytes", retention_bytes)] {
        if value.map(str::trim) != Some("-1") {
            return Err(format!(
                "{name} is {}: the blocks topic must keep every block for ever (set {name}=-1)",
                value.unwrap_or("the broker's default")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_uncompacted_topic_with_infinite_retention_keeps_everything() {
        assert_eq!(keeps_everything(None, Some("-1"), Some("-1")), Ok(()));
        assert_eq!(keeps_everything(Some("delete"), Some("-1"), Some("-1")), Ok(()));
        for policy in ["compact", "delete,compact", "compact, delete"] {
            let refused = keeps_everything(Some(policy), Some("-1"), Some("-1")).unwrap_err();
            assert!(refused.contains("never be compacted"), "{refused}");
        }
        let refused = keeps_everything(None, Some("604800000"), Some("-1")).unwrap_err();
        assert!(refused.starts_with("retention.ms is 604800000"), "{refused}");
        let refused = keeps_everything(None, None, Some("-1")).unwrap_err();
        assert!(refused.contains("the broker's default"), "{refused}");
        let refused = keeps_everything(None, Some("-1"), Some("1073741824")).unwrap_err();
        assert!(refused.starts_with("retention.bytes"), "{refused}");
    }

    #[test]
    fn the_blocks_topic_is_created_to_keep_everything_and_not_compacted_explicitly() {
        let durability = Durability {
            topic_replication: 3,
            topic_min_insync_replicas: 2,
        };
        let spec = TopicSpec::blocks("pedigree.blocks", &durability);
        assert_eq!((spec.partitions, spec.replication), (1, 3));
        let get = |k: &str| spec.configs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("retention.ms"), Some("-1"));
        assert_eq!(get("retention.bytes"), Some("-1"));
        assert_eq!(get("min.insync.replicas"), Some("2"));
        assert_eq!(get("cleanup.policy"), None);
        let events = TopicSpec::events("pedigree.events", 4, &durability);
        assert_eq!((events.partitions, events.replication), (4, 3));
    }
}
