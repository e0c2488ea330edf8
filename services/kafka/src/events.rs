//! The sequencer's consumer of the events topic: every partition assigned at the offsets the canonical tip resumes
//! from, its messages received as they are fetched. How they are batched is the sequencer's business.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use crate::client_config::{self, ClientSettings};

use crate::{KafkaError, Message, Result, partition_count};

/// A consumer of every partition of the events topic.
pub struct EventsConsumer {
    consumer: StreamConsumer,
    topic: String,
    /// The offsets it was assigned at, named when one turns out to be gone.
    offsets: BTreeMap<i32, i64>,
}

impl EventsConsumer {
    /// Assigns every partition of `topic` at its offset in `offsets` (a partition without one from its beginning).
    /// `batch_max_bytes`, the largest batch the reader takes, bounds the prefetch. Runs within a tokio runtime: the
    /// consumer's wake-up task is spawned there.
    pub async fn assign(
        settings: &ClientSettings,
        topic: &str,
        offsets: &BTreeMap<i32, i64>,
        batch_max_bytes: usize,
    ) -> Result<Self> {
        let (s, t) = (settings.clone(), topic.to_string());
        let partitions = tokio::task::spawn_blocking(move || partition_count(&s, &t)).await??;
        let consumer: StreamConsumer = client_config::events_consumer(settings, batch_max_bytes).create()?;
        let mut tpl = TopicPartitionList::new();
        for partition in 0..partitions {
            let offset = offsets
                .get(&partition)
                .map_or(Offset::Beginning, |&o| Offset::Offset(o));
            tpl.add_partition_offset(topic, partition, offset)?;
        }
        consumer.assign(&tpl)?;
        Ok(Self {
            consumer,
            topic: topic.into(),
            offsets: offsets.clone(),
        })
    }

    /// The next message, waiting until one is fetched. Cancellation safe: a message is never lost to a dropped call.
    pub async fn recv(&self) -> Result<Message<'_>> {
        match self.consumer.recv().await {
            Ok(message) => Ok(Message::new(message)),
            // auto.offset.reset=error: the resume offset is no longer in the topic. Halt, naming it.
            Err(rdkafka::error::KafkaError::MessageConsumption(RDKafkaErrorCode::AutoOffsetReset)) => {
                Err(KafkaError::OffsetGone {
                    topic: self.topic.clone(),
                    offsets: format!("{:?}", self.offsets),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The next message if one is already fetched; `None` at once otherwise.
    pub async fn fetched(&self) -> Option<Result<Message<'_>>> {
        // A zero timeout still polls the receive once: a fetched message is returned, an empty queue is not waited on.
        tokio::time::timeout(Duration::ZERO, self.recv()).await.ok()
    }
}
