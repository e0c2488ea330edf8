//! Synchronous readers over one partition: the last message, or every message from an offset up to the end as it
//! was when the read started. Run them on a blocking thread.

use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::{LogError, Result};

const TIMEOUT: Duration = Duration::from_secs(10);

fn consumer(brokers: &str) -> Result<BaseConsumer> {
    Ok(ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("broker.address.family", "v4")
        .set("group.id", "pedigree-reader")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .create()?)
}

/// (low, high) watermarks of a partition.
pub fn watermarks(brokers: &str, topic: &str, partition: i32) -> Result<(i64, i64)> {
    Ok(consumer(brokers)?.fetch_watermarks(topic, partition, TIMEOUT)?)
}

/// Number of partitions of `topic`.
pub fn partition_count(brokers: &str, topic: &str) -> Result<i32> {
    let consumer = consumer(brokers)?;
    let metadata = consumer.fetch_metadata(Some(topic), TIMEOUT)?;
    let partitions = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .map(|t| t.partitions().len() as i32)
        .unwrap_or(0);
    if partitions == 0 {
        return Err(LogError::Topic {
            topic: topic.into(),
            reason: "does not exist or has no partitions".into(),
        });
    }
    Ok(partitions)
}

/// Calls `each(offset, payload)` for every message of the partition from `from` to the high watermark taken at the
/// start; returns how many it read.
pub fn read_range(
    brokers: &str,
    topic: &str,
    partition: i32,
    from: i64,
    mut each: impl FnMut(i64, &[u8]) -> Result<()>,
) -> Result<u64> {
    let consumer = consumer(brokers)?;
    let (low, high) = consumer.fetch_watermarks(topic, partition, TIMEOUT)?;
    let start = from.max(low);
    if start >= high {
        return Ok(0);
    }
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, partition, Offset::Offset(start))?;
    consumer.assign(&tpl)?;
    let mut next = start;
    let mut last_progress = Instant::now();
    while next < high {
        match consumer.poll(Duration::from_millis(200)) {
            Some(message) => {
                let message = message?;
                each(message.offset(), message.payload().unwrap_or_default())?;
                next = message.offset() + 1;
                last_progress = Instant::now();
            }
            None if last_progress.elapsed() > TIMEOUT => {
                let reason = format!("no message at offset {next} after {TIMEOUT:?} (high watermark {high})");
                return Err(LogError::Topic {
                    topic: topic.into(),
                    reason,
                });
            }
            None => {}
        }
    }
    Ok((high - start) as u64)
}

/// The last message of a partition, if any.
pub fn read_last(brokers: &str, topic: &str, partition: i32) -> Result<Option<(i64, Vec<u8>)>> {
    let (low, high) = watermarks(brokers, topic, partition)?;
    if high <= low {
        return Ok(None);
    }
    let mut last = None;
    read_range(brokers, topic, partition, high - 1, |offset, payload| {
        last = Some((offset, payload.to_vec()));
        Ok(())
    })?;
    Ok(last)
}
