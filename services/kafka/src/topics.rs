//! Creating the topics Pedigree needs, idempotently.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

use crate::client_config::{self, ClientSettings};
use crate::{KafkaError, Result};

/// A topic to create: name, partitions, replication factor.
#[derive(Clone, Debug)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    pub replication: i32,
}

/// Creates each topic unless it exists already.
pub async fn ensure_topics(settings: &ClientSettings, specs: &[TopicSpec]) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> = client_config::admin(settings).create()?;
    let topics: Vec<NewTopic<'_>> = specs
        .iter()
        .map(|s| NewTopic::new(&s.name, s.partitions, TopicReplication::Fixed(s.replication)))
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
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
