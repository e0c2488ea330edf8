//! Collecting a batch from the events topic: up to a count or a byte size, or until a wait after its first event.

use std::time::Duration;

use pedigree_log::rdkafka::Message;
use pedigree_log::rdkafka::consumer::StreamConsumer;
use tokio::sync::watch;
use tokio::time::{Instant, timeout_at};

/// One message of the events topic.
#[derive(Clone, Debug)]
pub struct Raw {
    pub partition: i32,
    pub offset: i64,
    pub payload: Vec<u8>,
}

/// Batch limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_events: usize,
    pub max_bytes: usize,
    pub max_wait: Duration,
}

/// The next batch, or `None` once `stop` turns true. A batch being collected when `stop` turns is dropped whole:
/// its offsets were not sealed, so it is read again after restart.
pub async fn next_batch(
    consumer: &StreamConsumer,
    limits: Limits,
    stop: &mut watch::Receiver<bool>,
) -> anyhow::Result<Option<Vec<Raw>>> {
    let first = tokio::select! {
        message = consumer.recv() => message?,
        _ = stop.wait_for(|s| *s) => return Ok(None),
    };
    let deadline = Instant::now() + limits.max_wait;
    let mut bytes = first.payload_len();
    let mut batch = vec![raw(&first)];
    while batch.len() < limits.max_events && bytes < limits.max_bytes {
        tokio::select! {
            next = timeout_at(deadline, consumer.recv()) => match next {
                Ok(message) => {
                    let message = message?;
                    bytes += message.payload_len();
                    batch.push(raw(&message));
                }
                Err(_) => break,
            },
            _ = stop.wait_for(|s| *s) => return Ok(None),
        }
    }
    Ok(Some(batch))
}

fn raw(message: &impl Message) -> Raw {
    Raw {
        partition: message.partition(),
        offset: message.offset(),
        payload: message.payload().unwrap_or_default().to_vec(),
    }
}
