//! The sealing loop.
//!
//! The loop runs in terms ([`crate::leadership`]): while standing by it waits for a valid term; when leading it
//! follows the canonical chain and brings Redis up to it ([`crate::follow`]), reads events from the canonical tip's
//! offsets, and for each batch: re-check ([`crate::recheck`]), load ([`crate::load`]) and apply
//! ([`crate::apply`]) on Redis state (which must be exactly at the tip), check the term is still valid, seal with the
//! term's epoch, append, read the topic back up to its own block, and only if that block is canonical hand its
//! write to the [`WriteBehind`], which owns every Redis write of a block. Under a backlog the write overlaps the
//! next batch: that batch's packs are read first (Redis at the tip's parent, the tip's effects laid over them),
//! then the tip's write is sent and the state machine runs while Redis executes it; nothing is sealed on top before
//! the write is acknowledged.
//!
//! A stale own block, or Redis ahead of the tip, means someone else sealed first: the batch in hand is dropped and
//! the term goes on from the new canonical tip (its events are read again, and those the winner decided are
//! skipped). A higher epoch at the tip means this term is superseded: step down. A term that ends (lease lost or not
//! renewed in time) abandons the batch in hand unsealed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use pedigree_core::block::{BlockContent, seal};
use pedigree_core::block_size::event_budget;
use pedigree_core::context::BlockContext;
use pedigree_core::keys::KeyPair;
use pedigree_core::pb::PartitionOffset;
use pedigree_kafka::{PartitionReader, Producer};
use pedigree_store::Store;
use prost::Message;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::apply::{Applied, apply_ordinary, apply_prepared};
use crate::batch::{Collected, EventRecord, EventSource, Limits, assign, next_batch, ready_batch};
use crate::chain::Canon;
use crate::config::Config;
use crate::effects::BlockEffects;
use crate::follow::{Fate, Follower, OwnBlock};
use crate::halt::{halt, is_fatal};
use crate::leadership::Leadership;
use crate::load::prepare;
use crate::metrics::Metrics;
use crate::progress::Progress;
use crate::recheck::check_all;
use crate::role::{Role, term_over};
use crate::write_behind::WriteBehind;

/// How a term ended.
enum TermEnd {
    Stopped,
    /// The lease was lost or not renewed in time.
    Lost,
    /// The canonical tip carries a higher epoch than this term's.
    Superseded(u64),
}

/// How long a batch took before sealing (reported with the sealed block, for profiling).
#[derive(Clone, Copy)]
struct Phases {
    /// The stateless checks (signatures, on the rayon pool).
    check: Duration,
    /// Dropping decided events, loading packs from Redis.
    load: Duration,
    /// The state machine, and waiting for the previous block's write when it ran alongside.
    apply: Duration,
}

/// The sealing loop's state.
pub(crate) struct Sealer {
    pub config: Config,
    /// The signing keys it holds; the one the chain's schedule names for the next block signs it.
    pub keys: Vec<KeyPair>,
    pub store: Store,
    pub producer: Producer,
    /// The canonical chain as far as this sequencer read the blocks topic, and the registry folded from it (the
    /// only one events are judged against: never read back from Redis).
    pub canon: Canon,
    /// A reader kept open on the blocks topic, for reading back each appended block cheaply.
    pub tail: Arc<std::sync::Mutex<PartitionReader>>,
    /// Every Redis write of a sealed block goes through it.
    pub write_behind: WriteBehind,
    /// The loop's last sign of life, for health.
    pub progress: Progress,
    pub metrics: Metrics,
}

/// A switch that turns true when the sequencer is stopping or its term is over.
struct TermWatch {
    rx: watch::Receiver<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl TermWatch {
    fn new(mut stop: watch::Receiver<bool>, mut role: watch::Receiver<Role>, epoch: u64) -> Self {
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => {}
                () = term_over(&mut role, epoch) => {}
            }
            let _ = tx.send(true);
        });
        Self { rx, task }
    }
}

impl Drop for TermWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sealer {
    /// Seals while leading, until `stop`.
    pub async fn run(&mut self, mut stop: watch::Receiver<bool>, leadership: &Leadership) -> anyhow::Result<()> {
        let mut role = leadership.subscribe();
        let mut backoff = Backoff::default();
        loop {
            let floor = self.canon.tip.epoch;
            let wanted = |r: &Role| r.valid_epoch(Instant::now()).is_some_and(|e| e >= floor);
            if !wanted(&role.borrow()) {
                tracing::info!(height = self.canon.tip.height, chain_epoch = floor, "standing by");
            }
            let epoch = tokio::select! {
                r = role.wait_for(wanted) => match r {
                    Ok(r) => r.valid_epoch(Instant::now()),
                    Err(_) => bail!("leadership ended"),
                },
                _ = stop.wait_for(|s| *s) => break,
            };
            let Some(epoch) = epoch else { continue };
            tracing::info!(epoch, "leading: sealing");
            self.progress.busy();
            self.metrics.leading(true);
            let led = self.lead(epoch, &stop, &role, leadership).await;
            self.metrics.leading(false);
            match led {
                Ok(TermEnd::Stopped) => break,
                Ok(TermEnd::Lost) => tracing::warn!(epoch, "leadership lost: batch in hand abandoned"),
                Ok(TermEnd::Superseded(by)) => {
                    tracing::warn!(epoch, chain_epoch = by, "superseded by a higher epoch: stepping down");
                    leadership.step_down(epoch);
                }
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => {
                    self.metrics.failed();
                    // Redis or the broker failed (restarted, unreachable): the batch in hand is dropped (its offsets
                    // were not sealed), and the term resumes from the canonical tip once they answer again.
                    let wait = backoff.next();
                    tracing::warn!(epoch, error = %format!("{e:#}"), ?wait, "sealing failed: retrying");
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        _ = stop.wait_for(|s| *s) => break,
                    }
                    continue;
                }
            }
            self.progress.idle();
            backoff.reset();
        }
        tracing::info!(height = self.canon.tip.height, "sequencer stopped");
        Ok(())
    }

    /// Follows the canonical chain as far as the blocks topic goes (and brings Redis up to it); with `own`, a
    /// block just appended, reads at least past it and reports what became of it.
    async fn follow(&mut self, own: Option<OwnBlock>, leadership: &Leadership) -> anyhow::Result<Option<Fate>> {
        let mut follower = Follower {
            tail: &self.tail,
            store: &self.store,
            write_behind: &mut self.write_behind,
            progress: &self.progress,
        };
        let fate = match own {
            Some(own) => Some(follower.read_back(&mut self.canon, own).await?),
            None => follower.catch_up(&mut self.canon).await.map(|()| None)?,
        };
        leadership.observe_epoch(self.canon.tip.epoch);
        self.metrics.tip(self.canon.tip.height, &self.canon.offsets);
        Ok(fate)
    }

    /// One term: seals with `epoch` until stopped, the term ends, or a higher epoch shows in the chain. The last
    /// sealed block's write, if still held, is made whatever ended the term: the block is canonical, and the write
    /// is fenced.
    async fn lead(
        &mut self,
        epoch: u64,
        stop: &watch::Receiver<bool>,
        role: &watch::Receiver<Role>,
        leadership: &Leadership,
    ) -> anyhow::Result<TermEnd> {
        let end = self.term(epoch, stop, role, leadership).await;
        let flushed = self.write_behind.flush().await;
        let end = end?;
        flushed?;
        Ok(end)
    }

    async fn term(
        &mut self,
        epoch: u64,
        stop: &watch::Receiver<bool>,
        role: &watch::Receiver<Role>,
        leadership: &Leadership,
    ) -> anyhow::Result<TermEnd> {
        let limits = Limits {
            max_events: self.config.batch_max_events,
            // Blocks stay under the block size limit (see batch.rs).
            max_bytes: self
                .config
                .batch_max_bytes
                .min(event_budget(self.config.block_max_bytes as usize)),
            max_wait: Duration::from_millis(self.config.batch_max_wait_ms),
        };
        let mut term_watch = TermWatch::new(stop.clone(), role.clone(), epoch);
        'resume: loop {
            self.write_behind.flush().await?;
            // State an older version wrote is brought to the current layout before any block is written on it.
            self.store.upgrade_layout().await?;
            self.follow(None, leadership).await?;
            if self.canon.tip.epoch > epoch {
                return Ok(TermEnd::Superseded(self.canon.tip.epoch));
            }
            tracing::info!(
                epoch,
                height = self.canon.tip.height,
                offsets = ?self.canon.offsets,
                "resuming from the canonical tip"
            );
            let mut source = assign(&self.config, &self.canon.offsets).await?;
            let mut offsets = self.canon.offsets.clone();
            loop {
                let batch = match self.take_batch(&mut source, limits, &mut term_watch.rx).await? {
                    Taken::Batch(batch) => batch,
                    Taken::RedisBehind => continue 'resume,
                    Taken::TermOver if *stop.borrow() => return Ok(TermEnd::Stopped),
                    Taken::TermOver => return Ok(TermEnd::Lost),
                };
                self.progress.busy();
                for record in &batch {
                    offsets.insert(record.partition, record.offset + 1);
                }
                let Some((applied, phases)) = self.apply(batch).await? else {
                    continue 'resume;
                };
                if applied.events.is_empty() && applied.rejected.is_empty() {
                    continue;
                }
                if role.borrow().valid_epoch(Instant::now()) != Some(epoch) {
                    return Ok(TermEnd::Lost);
                }
                match self.seal(epoch, &offsets, applied, phases, leadership).await? {
                    Fate::Canonical => self.progress.advanced(),
                    Fate::Superseded { chain_epoch } => return Ok(TermEnd::Superseded(chain_epoch)),
                    Fate::Stale => continue 'resume,
                }
            }
        }
    }

    /// The next batch. While the last block's write is still held, a batch that is already fetched and full is
    /// taken at once (its packs are read before that write is sent, see [`Sealer::apply`]); otherwise the write is
    /// made first, so that a quiet topic never holds it back.
    ///
    /// While it waits for events, Redis is watched: one that lost its state (restarted empty) or fell behind is
    /// brought back at once rather than at the next event, so that readers are not left unavailable on a quiet
    /// topic.
    async fn take_batch(
        &mut self,
        source: &mut EventSource,
        limits: Limits,
        term_over: &mut watch::Receiver<bool>,
    ) -> anyhow::Result<Taken> {
        let mut start = Collected::default();
        if *term_over.borrow() {
            return Ok(Taken::TermOver);
        }
        if self.write_behind.lag() > 0 {
            start = ready_batch(source, limits).await?;
            if start.is_full(&limits) || source.carries() {
                return Ok(Taken::Batch(start.records));
            }
            self.write_behind.flush().await?;
        }
        if start.records.is_empty() {
            // Waiting for events is not a stall.
            self.progress.idle();
        }
        // The batch being collected is dropped if Redis falls behind meanwhile: its offsets were not sealed.
        tokio::select! {
            taken = next_batch(source, limits, term_over, start) => {
                Ok(taken?.map_or(Taken::TermOver, Taken::Batch))
            }
            () = redis_behind(&self.store, self.canon.tip.height) => Ok(Taken::RedisBehind),
        }
    }

    /// Checks and applies a batch on the canonical tip; `None` when Redis is not where this sequencer's chain says
    /// (then the term resumes from the canonical tip, and the batch is read again).
    ///
    /// With the last block's write still held (Redis at its parent), the batch's packs are read first with that
    /// block's effects laid over them, then the write is sent and the state machine runs while Redis executes it:
    /// the two halves of the loop overlap. The write is awaited before anything is sealed on top.
    async fn apply(&mut self, batch: Vec<EventRecord>) -> anyhow::Result<Option<(Applied, Phases)>> {
        // Redis must hold exactly the canonical tip (or its parent, with the tip's write held): ahead means another
        // sequencer sealed (read on from the topic), behind means it lost blocks (replay).
        let expected = self.canon.tip.height - self.write_behind.lag();
        let head = self.store.head().await?;
        if head != expected {
            tracing::info!(
                redis_head = head,
                height = self.canon.tip.height,
                "redis is not at this sequencer's tip: syncing"
            );
            return Ok(None);
        }
        let started = Instant::now();
        let registry = self.canon.registry.clone();
        let checked = check_all(batch, registry.clone(), self.config.max_envelope_bytes()).await?;
        let checked_at = Instant::now();
        // Block time never goes back along the chain (check_block refuses it): a clock that stepped back seals at the
        // tip's time.
        let at = BlockContext::new(self.canon.tip.height + 1, now_ms().max(self.canon.tip.time_ms));
        let prepared = prepare(checked, &self.store, &registry, self.write_behind.held()).await?;
        if prepared.has_governance() {
            // Applying may read Redis again mid-batch: it must hold the tip.
            self.write_behind.flush().await?;
        }
        let loaded_at = Instant::now();
        let applied = if self.write_behind.lag() == 0 {
            apply_prepared(prepared, &self.store, at, registry).await?
        } else {
            let (applied, landed) = self
                .write_behind
                .flush_alongside(move || apply_ordinary(prepared, at, registry))
                .await?;
            if !landed {
                return Ok(None);
            }
            applied
        };
        let phases = Phases {
            check: checked_at - started,
            load: loaded_at - checked_at,
            apply: loaded_at.elapsed(),
        };
        Ok(Some((applied, phases)))
    }

    async fn seal(
        &mut self,
        epoch: u64,
        offsets: &BTreeMap<i32, i64>,
        applied: Applied,
        phases: Phases,
        leadership: &Leadership,
    ) -> anyhow::Result<Fate> {
        let started = Instant::now();
        let content = BlockContent {
            events: applied.events.clone(),
            rejected: applied.rejected.clone(),
            resume_offsets: offsets
                .iter()
                .map(|(&partition, &next_offset)| PartitionOffset { partition, next_offset })
                .collect(),
            // The time the batch was applied at: undo windows and expiry were judged against it, and replays
            // judge against this header field.
            time_ms: applied.at.time_ms,
            epoch,
            registry_root: applied.registry.root(),
        };
        // The key of the registry before the batch: a block that seals a rotation is signed by the old key.
        let wanted = self.canon.registry.sequencer_key();
        let Some(key) = self.keys.iter().find(|k| k.public() == wanted) else {
            halt!(
                "the chain's sequencer key for block {} is {}, which this sequencer does not hold (it holds {}): \
                 configure it as PEDIGREE_SEQUENCER_KEY or PEDIGREE_SEQUENCER_NEXT_KEY",
                self.canon.tip.height + 1,
                wanted.key_id(),
                self.keys.iter().map(KeyPair::key_id).collect::<Vec<_>>().join(", ")
            );
        };
        let (block, tip) = seal(key, &self.canon.tip, content);
        let bytes = block.encode_to_vec();
        if bytes.len() > self.config.block_max_bytes as usize {
            // Batches are bounded so that this cannot happen (batch.rs): a bug, not a condition to retry.
            halt!(
                "block {} would be {} bytes, above the {} byte limit",
                tip.height,
                bytes.len(),
                self.config.block_max_bytes
            );
        }
        let landed = self
            .producer
            .send(&self.config.blocks_topic, &tip.height.to_be_bytes(), &bytes)
            .await
            .with_context(|| format!("appending block {} to the blocks topic", tip.height))?;
        let appended = started.elapsed();
        let (events, rejected, packs) = (block.events.len(), block.rejected.len(), applied.packs.change_count());
        let size = bytes.len();
        let changes_registry = !applied.participants.is_empty() || applied.sequencer_keys.is_some();
        let own = OwnBlock {
            offset: landed.offset,
            epoch,
            effects: BlockEffects {
                height: tip.height,
                offset: landed.offset,
                bytes,
                applied: Arc::new(applied),
            },
        };
        // Read back up to (at least) our own block: only a canonical block's effects go to Redis.
        let fate = self
            .follow(Some(own), leadership)
            .await?
            .context("reading back an own block reports its fate")?;
        let read_back = started.elapsed() - appended;
        if fate != Fate::Canonical {
            self.metrics.stale();
            tracing::warn!(
                height = tip.height,
                epoch,
                offset = landed.offset,
                chain_height = self.canon.tip.height,
                chain_epoch = self.canon.tip.epoch,
                "another block got in first: ours is stale, resuming from the canonical tip"
            );
            return Ok(fate);
        }
        self.metrics.sealed(events, rejected, size);
        for (phase, took) in [
            ("check", phases.check),
            ("load", phases.load),
            ("apply", phases.apply),
            ("seal_append", appended),
            ("read_back", read_back),
        ] {
            self.metrics.phase(phase, took);
        }
        if changes_registry {
            // Written at once: custody and the verifier read the registry from Redis.
            self.write_behind.flush().await?;
        }
        tracing::debug!(
            height = tip.height,
            epoch,
            offset = landed.offset,
            events,
            rejected,
            packs,
            check_ms = phases.check.as_millis() as u64,
            load_ms = phases.load.as_millis() as u64,
            apply_ms = phases.apply.as_millis() as u64,
            seal_append_ms = appended.as_millis() as u64,
            read_back_ms = read_back.as_millis() as u64,
            "sealed"
        );
        Ok(Fate::Canonical)
    }
}

/// What the sealing loop got when it asked for a batch.
enum Taken {
    Batch(Vec<EventRecord>),
    /// Stopping, or the term ended.
    TermOver,
    /// Redis lost its state or fell behind the canonical tip: bring it back first.
    RedisBehind,
}

/// Returns once Redis holds no ledger state or a head below `tip` (checked every 500 ms; an unreachable Redis is
/// checked again, not reported: the loop fails on it when it next needs Redis).
async fn redis_behind(store: &Store, tip: u64) {
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        match store.freshness().await {
            Ok(f) if f.head.is_none_or(|head| head < tip) => {
                tracing::warn!(redis_head = ?f.head, tip, "redis lost its state or fell behind: bringing it back");
                return;
            }
            _ => {}
        }
    }
}

/// Waits between retries after a failure: 200 ms, doubling up to 5 s.
#[derive(Debug, Default)]
struct Backoff {
    failures: u32,
}

impl Backoff {
    fn next(&mut self) -> Duration {
        let wait = Duration::from_millis(200u64 << self.failures.min(5)).min(Duration::from_secs(5));
        self.failures += 1;
        wait
    }

    fn reset(&mut self) {
        self.failures = 0;
    }
}

/// The sequencer's clock, in ms since the Unix epoch.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_seconds_and_resets() {
        let mut backoff = Backoff::default();
        let waits: Vec<u64> = (0..8).map(|_| backoff.next().as_millis() as u64).collect();
        assert_eq!(waits, [200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
        backoff.reset();
        assert_eq!(backoff.next(), Duration::from_millis(200));
    }
}
