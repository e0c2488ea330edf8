//! Reads the blocks topic from where it ended before the run and stamps, for every event id it finds (accepted or
//! rejected), when its block was consumed: a close upper bound of when it was sealed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use pedigree_core::Hash;
use pedigree_core::event::event_id;
use pedigree_core::pb::{Block, BlockHeader};
use pedigree_kafka::{ClientSettings, TopicTail};
use prost::Message as _;

use crate::report::WatcherReport;

/// Where and how often an event id appeared on the blocks topic.
#[derive(Clone, Copy, Debug)]
pub struct Seen {
    /// When the first block holding it was consumed.
    pub first: Instant,
    /// Appearances across blocks (accepted or rejected): exactly one is right.
    pub count: u32,
    /// The reject code, if a block recorded it as rejected.
    pub rejected: Option<i32>,
}

#[derive(Default)]
struct Shared {
    seen: Mutex<HashMap<Hash, Seen>>,
    blocks: AtomicU64,
    undecodable: AtomicU64,
    poll_errors: AtomicU64,
    /// Per block: consumption time minus the header's time_ms (ms), the header's time_ms, and its event count.
    blocks_meta: Mutex<Vec<BlockMeta>>,
    stop: AtomicBool,
    /// Asked for by [`Watcher::pause`] / [`Watcher::resume`], applied by the thread.
    paused: AtomicBool,
    /// Per partition, the offset after the last block consumed (the start offset before any).
    next_offsets: Mutex<HashMap<i32, i64>>,
}

#[derive(Clone, Copy)]
struct BlockMeta {
    lag_ms: i64,
    time_ms: i64,
    events: usize,
}

/// A background thread consuming the blocks topic.
pub struct Watcher {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    kafka: ClientSettings,
    topic: String,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Shared {
    fn note(&self, seen: &mut HashMap<Hash, Seen>, id: Hash, at: Instant, rejected: Option<i32>) {
        seen.entry(id).and_modify(|s| s.count += 1).or_insert(Seen {
            first: at,
            count: 1,
            rejected,
        });
    }

    fn consume(&self, payload: &[u8], at: Instant) {
        let Ok(block) = Block::decode(payload) else {
            self.undecodable.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if let Some(header) = block
            .header
            .as_ref()
            .and_then(|h| BlockHeader::decode(h.header.as_slice()).ok())
        {
            let meta = BlockMeta {
                lag_ms: now_ms() - header.time_ms,
                time_ms: header.time_ms,
                events: block.events.len() + block.rejected.len(),
            };
            self.blocks_meta.lock().unwrap_or_else(|e| e.into_inner()).push(meta);
        }
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        for envelope in &block.events {
            self.note(&mut seen, event_id(&envelope.payload), at, None);
        }
        for rejection in &block.rejected {
            if let Ok(id) = Hash::try_from(rejection.event_id.as_slice()) {
                self.note(&mut seen, id, at, Some(rejection.code));
            }
        }
        drop(seen);
        self.blocks.fetch_add(1, Ordering::Relaxed);
    }

    fn run(&self, tail: TopicTail) {
        let mut paused = false;
        while !self.stop.load(Ordering::Relaxed) {
            let wanted = self.paused.load(Ordering::Relaxed);
            if wanted != paused {
                let applied = if wanted { tail.pause() } else { tail.resume() };
                // A refused pause or resume is tried again next turn.
                if applied.is_ok() {
                    paused = wanted;
                }
            }
            match tail.poll(Duration::from_millis(20)) {
                Some(Ok(message)) => {
                    let next = message.offset() + 1;
                    self.consume(message.payload(), Instant::now());
                    self.next_offsets
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(message.partition(), next);
                }
                Some(Err(_)) => {
                    self.poll_errors.fetch_add(1, Ordering::Relaxed);
                }
                None => {}
            }
        }
    }
}

impl Watcher {
    /// Starts reading `topic` from its current end (taken now, before any load is sent).
    pub async fn start(kafka: &ClientSettings, topic: &str) -> anyhow::Result<Self> {
        let (k, t) = (kafka.clone(), topic.to_string());
        let (tail, starts) = tokio::task::spawn_blocking(move || TopicTail::open(&k, &t))
            .await
            .context("the consumer set-up task failed")?
            .with_context(|| format!("opening the tail of {topic}"))?;
        let shared = Arc::new(Shared {
            next_offsets: Mutex::new(starts),
            ..Shared::default()
        });
        let running = shared.clone();
        let thread = std::thread::Builder::new()
            .name("blocks-watcher".into())
            .spawn(move || running.run(tail))
            .context("starting the blocks watcher thread")?;
        Ok(Self {
            shared,
            thread: Some(thread),
            kafka: kafka.clone(),
            topic: topic.to_string(),
        })
    }

    /// Stops fetching blocks until [`Watcher::resume`], for phases that seal nothing: tansu answers an idle fetch
    /// with a storage query every `fetch.wait.max.ms`, so an idle watcher costs the broker CPU the stack needs.
    pub fn pause(&self) {
        self.shared.paused.store(true, Ordering::Relaxed);
    }

    /// Fetches again, and waits until every block appended up to now was read; false if that took over `stall`.
    pub async fn resume(&self, stall: Duration) -> anyhow::Result<bool> {
        self.shared.paused.store(false, Ordering::Relaxed);
        let partitions: Vec<i32> = self.next_offsets().keys().copied().collect();
        let (kafka, topic) = (self.kafka.clone(), self.topic.clone());
        let ends = tokio::task::spawn_blocking(move || {
            partitions
                .into_iter()
                .map(|p| Ok((p, pedigree_kafka::watermarks(&kafka, &topic, p)?.1)))
                .collect::<anyhow::Result<Vec<(i32, i64)>>>()
        })
        .await
        .context("the watermarks task failed")??;
        let deadline = Instant::now() + stall;
        loop {
            let next = self.next_offsets();
            if ends.iter().all(|(p, end)| next.get(p).is_some_and(|n| n >= end)) {
                return Ok(true);
            }
            if Instant::now() > deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn next_offsets(&self) -> HashMap<i32, i64> {
        self.shared
            .next_offsets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn seen(&self, id: &Hash) -> Option<Seen> {
        self.shared
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .copied()
    }

    /// Waits until every id of `ids` was seen, or until no block arrived for `stall`; returns how many are missing.
    pub async fn wait_for(&self, ids: &[Hash], stall: Duration) -> usize {
        let mut next = 0;
        let mut blocks = self.shared.blocks.load(Ordering::Relaxed);
        let mut progress = Instant::now();
        loop {
            {
                let seen = self.shared.seen.lock().unwrap_or_else(|e| e.into_inner());
                while next < ids.len() && seen.contains_key(&ids[next]) {
                    next += 1;
                }
                if next == ids.len() {
                    return 0;
                }
                if progress.elapsed() > stall {
                    return ids[next..].iter().filter(|id| !seen.contains_key(*id)).count();
                }
            }
            let now = self.shared.blocks.load(Ordering::Relaxed);
            if now != blocks {
                (blocks, progress) = (now, Instant::now());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Stops the thread and returns what it saw, with a summary.
    pub fn stop(mut self) -> (HashMap<Hash, Seen>, WatcherReport) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let seen = std::mem::take(&mut *self.shared.seen.lock().unwrap_or_else(|e| e.into_inner()));
        let meta = std::mem::take(&mut *self.shared.blocks_meta.lock().unwrap_or_else(|e| e.into_inner()));
        let mut report = summarize(&meta);
        report.blocks = self.shared.blocks.load(Ordering::Relaxed);
        report.ids = seen.len() as u64;
        report.undecodable_blocks = self.shared.undecodable.load(Ordering::Relaxed);
        report.poll_errors = self.shared.poll_errors.load(Ordering::Relaxed);
        (seen, report)
    }
}

fn median(mut values: Vec<i64>) -> i64 {
    values.sort_unstable();
    values.get(values.len() / 2).copied().unwrap_or(0)
}

/// Consumption lag, block sizes and the time between consecutive blocks' headers.
fn summarize(meta: &[BlockMeta]) -> WatcherReport {
    let events: usize = meta.iter().map(|m| m.events).sum();
    WatcherReport {
        consume_lag_p50_ms: median(meta.iter().map(|m| m.lag_ms).collect()),
        consume_lag_max_ms: meta.iter().map(|m| m.lag_ms).max().unwrap_or(0),
        events_per_block_mean: events as f64 / meta.len().max(1) as f64,
        events_per_block_max: meta.iter().map(|m| m.events).max().unwrap_or(0) as u64,
        block_interval_p50_ms: median(meta.windows(2).map(|w| w[1].time_ms - w[0].time_ms).collect()),
        ..WatcherReport::default()
    }
}
