//! The sequencer's consumer of the events topic: every partition assigned at the offsets the canonical tip resumes
//! from, its messages received as they are fetched. How they are batched is the sequencer's business.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use crate::client_config::{self, ClientSettings};

use crate::{KafkaError, Message, Result, partition_count, watermarks};

/// A consumer of every partition of the events topic.
pub struct EventsConsumer {
    consumer: StreamConsumer,
    topic: String,
    /// The offsets it was assigned at, named when one turns out to be gone.
    offsets: BTreeMap<i32, i64>,
}

/// Fails, naming the offsets, when a resume offset is outside what its partition holds: below the low watermark
/// (records deleted before they were read) or above the high watermark (the topic was recreated). librdkafka's
/// `auto.offset.reset=error` catches the same when a fetch finds it out; this check does not depend on the broker
/// reporting it (the dev broker does not).
fn check_in_range(settings: &ClientSettings, topic: &str, offsets: &BTreeMap<i32, i64>) -> Result<()> {
    for (&partition, &offset) in offsets {
        let (low, high) = watermarks(settings, topic, partition)?;
        if offset < low || offset > high {
            return Err(KafkaError::OffsetGone {
                topic: topic.into(),
                offsets: format!("{offsets:?}; partition {partition} holds offsets {low} to {high}"),
            });
        }
    }
    Ok(())
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
        let (s, t, o) = (settings.clone(), topic.to_string(), offsets.clone());
        let partitions = tokio::task::spawn_blocking(move || {
            let partitions = partition_count(&s, &t)?;
            check_in_range(&s, &t, &o)?;
            Ok::<_, KafkaError>(partitions)
        })
        .await??;
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
