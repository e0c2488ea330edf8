//! Following a topic from where it ended: the load tester's blocks watcher reads what is appended during a run.

use std::collections::HashMap;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use crate::client_config::{self, ClientSettings};
use crate::{Message, Result, partition_count};

const TIMEOUT: Duration = Duration::from_secs(10);

/// A synchronous consumer of every partition of a topic, from each partition's end when it was opened. Poll it from
/// a thread of its own.
pub struct TopicTail {
    consumer: BaseConsumer,
}

impl TopicTail {
    /// Opens the tail of `topic`; returns it with the offset it starts from in each partition. Blocks (metadata and
    /// watermark round trips).
    pub fn open(settings: &ClientSettings, topic: &str) -> Result<(Self, HashMap<i32, i64>)> {
        let consumer: BaseConsumer = client_config::topic_tail(settings).create()?;
        let partitions = partition_count(settings, topic)?;
        let mut tpl = TopicPartitionList::new();
        let mut starts = HashMap::new();
        for partition in 0..partitions {
            let (_, high) = consumer.fetch_watermarks(topic, partition, TIMEOUT)?;
            tpl.add_partition_offset(topic, partition, Offset::Offset(high))?;
            starts.insert(partition, high);
        }
        consumer.assign(&tpl)?;
        Ok((Self { consumer }, starts))
    }

    /// The next message, waiting at most `timeout` for one.
    pub fn poll(&self, timeout: Duration) -> Option<Result<Message<'_>>> {
        self.consumer.poll(timeout).map(|message| Ok(Message::new(message?)))
    }

    /// Stops fetching every partition until [`TopicTail::resume`].
    pub fn pause(&self) -> Result<()> {
        Ok(self.consumer.pause(&self.consumer.assignment()?)?)
    }

    /// Fetches every partition again after [`TopicTail::pause`].
    pub fn resume(&self) -> Result<()> {
        Ok(self.consumer.resume(&self.consumer.assignment()?)?)
    }
}
