//! Synchronous readers over one partition: the last message, or every message from an offset up to the end as it
//! was when the read started. Run them on a blocking thread.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::client_config::{self, ClientSettings};
use crate::{KafkaError, Result};

const TIMEOUT: Duration = Duration::from_secs(10);

fn consumer(settings: &ClientSettings) -> Result<BaseConsumer> {
    Ok(client_config::reader(settings).create()?)
}

/// (low, high) watermarks of a partition.
pub fn watermarks(settings: &ClientSettings, topic: &str, partition: i32) -> Result<(i64, i64)> {
    Ok(consumer(settings)?.fetch_watermarks(topic, partition, TIMEOUT)?)
}

/// (low, high) watermarks of every partition of `topic`, with one client (for a process that asks again and again:
/// the sequencer measuring its lag).
pub fn all_watermarks(settings: &ClientSettings, topic: &str) -> Result<Vec<(i64, i64)>> {
    let consumer = consumer(settings)?;
    let partitions = count_partitions(&consumer, topic)?;
    (0..partitions)
        .map(|partition| Ok(consumer.fetch_watermarks(topic, partition, TIMEOUT)?))
        .collect()
}

/// Number of partitions of `topic`.
pub fn partition_count(settings: &ClientSettings, topic: &str) -> Result<i32> {
    count_partitions(&consumer(settings)?, topic)
}

fn count_partitions(consumer: &BaseConsumer, topic: &str) -> Result<i32> {
    let metadata = consumer.fetch_metadata(Some(topic), TIMEOUT)?;
    let partitions = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .map(|t| t.partitions().len() as i32)
        .unwrap_or(0);
    if partitions == 0 {
        return Err(KafkaError::Topic {
            topic: topic.into(),
            reason: "does not exist or has no partitions".into(),
        });
    }
    Ok(partitions)
}

/// Calls `each(offset, payload)` for every message of the partition from `from` to the high watermark taken at the
/// start; returns how many it read. Fails, naming the offsets, when the partition no longer holds `from` (its low
/// watermark is above it): records were deleted or the topic recreated, and nothing is skipped silently.
pub fn read_range(
    settings: &ClientSettings,
    topic: &str,
    partition: i32,
    from: i64,
    each: impl FnMut(i64, &[u8]) -> Result<()>,
) -> Result<u64> {
    PartitionReader::new(settings, topic, partition)?.read_range(from, each)
}

/// A reader kept open on one partition, for a process that reads the same partition again and again (a sequencer
/// reading back the blocks it appends): creating a consumer costs a metadata round trip and a fetch cycle (over
/// 100 ms), while a kept one is already positioned and fetching, so reading what was just appended costs one
/// watermark query and the fetch.
pub struct PartitionReader {
    consumer: BaseConsumer,
    topic: String,
    partition: i32,
    /// The next offset the consumer will deliver, when known.
    position: Option<i64>,
}

impl PartitionReader {
    pub fn new(settings: &ClientSettings, topic: &str, partition: i32) -> Result<Self> {
        Ok(Self {
            consumer: consumer(settings)?,
            topic: topic.to_string(),
            partition,
            position: None,
        })
    }

    /// The message at `offset`, if the partition holds one there (`None` past its end).
    pub fn read_at(&mut self, offset: i64) -> Result<Option<Vec<u8>>> {
        let (low, high) = self.consumer.fetch_watermarks(&self.topic, self.partition, TIMEOUT)?;
        if offset < low {
            return Err(KafkaError::Lost {
                topic: self.topic.clone(),
                partition: self.partition,
                from: offset,
                low,
            });
        }
        if offset >= high {
            return Ok(None);
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&self.topic, self.partition, Offset::Offset(offset))?;
        self.consumer.assign(&tpl)?;
        self.position = Some(offset);
        let started = Instant::now();
        while started.elapsed() < TIMEOUT {
            if let Some(message) = self.consumer.poll(Duration::from_millis(100)) {
                let message = message?;
                self.position = Some(message.offset() + 1);
                if message.offset() == offset {
                    return Ok(Some(message.payload().unwrap_or_default().to_vec()));
                }
                // A compacted-away offset: the next message is past it.
                return Ok(None);
            }
        }
        self.position = None;
        Err(KafkaError::Topic {
            topic: self.topic.clone(),
            reason: format!("no message at offset {offset} after {TIMEOUT:?} (high watermark {high})"),
        })
    }

    /// Like [`read_range`], reusing the consumer (and its position when `from` is where it stopped).
    pub fn read_range(&mut self, from: i64, mut each: impl FnMut(i64, &[u8]) -> Result<()>) -> Result<u64> {
        self.read_range_to(from, |offset, payload, _| each(offset, payload))
    }

    /// Like [`PartitionReader::read_range`], also handing `each` the high watermark the read goes up to (the end of
    /// the partition as the read started).
    pub fn read_range_to(&mut self, from: i64, mut each: impl FnMut(i64, &[u8], i64) -> Result<()>) -> Result<u64> {
        let (low, high) = self.consumer.fetch_watermarks(&self.topic, self.partition, TIMEOUT)?;
        if from < low {
            return Err(KafkaError::Lost {
                topic: self.topic.clone(),
                partition: self.partition,
                from,
                low,
            });
        }
        let start = from;
        if start >= high {
            return Ok(0);
        }
        if self.position != Some(start) {
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(&self.topic, self.partition, Offset::Offset(start))?;
            self.consumer.assign(&tpl)?;
            self.position = Some(start);
        }
        let mut next = start;
        let mut last_progress = Instant::now();
        while next < high {
            match self.consumer.poll(Duration::from_millis(100)) {
                Some(message) => {
                    let message = message?;
                    each(message.offset(), message.payload().unwrap_or_default(), high)?;
                    next = message.offset() + 1;
                    self.position = Some(next);
                    last_progress = Instant::now();
                }
                None if last_progress.elapsed() > TIMEOUT => {
                    // Position unknown after a stall: assign afresh next time.
                    self.position = None;
                    let reason = format!("no message at offset {next} after {TIMEOUT:?} (high watermark {high})");
                    return Err(KafkaError::Topic {
                        topic: self.topic.clone(),
                        reason,
                    });
                }
                None => {}
            }
        }
        Ok((high - start) as u64)
    }
}

/// The last message of a partition, if any.
pub fn read_last(settings: &ClientSettings, topic: &str, partition: i32) -> Result<Option<(i64, Vec<u8>)>> {
    let (low, high) = watermarks(settings, topic, partition)?;
    if high <= low {
        return Ok(None);
    }
    let mut last = None;
    read_range(settings, topic, partition, high - 1, |offset, payload| {
        last = Some((offset, payload.to_vec()));
        Ok(())
    })?;
    Ok(last)
}
