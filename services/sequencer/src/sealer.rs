//! The sealing loop.
//!
//! The loop runs in terms ([`crate::leadership`]): while standing by it waits for a valid term; when leading it
//! syncs the canonical chain and Redis ([`crate::resume::sync`]), reads events from the canonical tip's offsets,
//! and for each batch: check, apply on Redis state (which must be exactly at the tip), check the term is still
//! valid, seal with the term's epoch, append, read the topic back up to its own block, and only if that block is
//! canonical write its effects to Redis (fenced). Under a backlog the write overlaps the next batch: that batch's
//! packs are read first (Redis at the tip's parent, the tip's effects laid over them), then the tip's write is sent
//! and the state machine runs while Redis executes it; nothing is sealed on top before the write is acknowledged.
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
use pedigree_core::context::BlockContext;
use pedigree_core::keys::{KeyPair, PublicKey};
use pedigree_core::pb::PartitionOffset;
use pedigree_log::producer::send;
use pedigree_log::rdkafka::consumer::StreamConsumer;
use pedigree_log::rdkafka::producer::FutureProducer;
use pedigree_log::reader::PartitionReader;
use pedigree_store::{Fenced, RegistryView, Store};
use prost::Message;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::batch::{Collected, Limits, Raw, assign, next_batch, ready_batch};
use crate::chain::Canon;
use crate::config::Config;
use crate::leadership::{Leadership, Role, term_over};
use crate::process::{Applied, apply_ordinary, apply_prepared, check_all, prepare};
use crate::resume::{Ctx, Own, OwnFate, sync, write_effects};

/// How a term ended.
enum End {
    Stopped,
    /// The lease was lost or not renewed in time.
    Lost,
    /// The canonical tip carries a higher epoch than this term's.
    Superseded(u64),
}

/// How long a batch took before sealing (reported with the sealed block, for profiling).
#[derive(Clone, Copy)]
struct Phases {
    /// Registry refresh and the stateless checks (signatures, on the rayon pool).
    check: Duration,
    /// Dropping decided events, loading packs from Redis.
    load: Duration,
    /// The state machine, and waiting for the previous block's write when it ran alongside.
    apply: Duration,
}

/// What became of a sealed block.
enum Sealed {
    /// Canonical; its write, when left to the loop.
    Canonical(Option<Pending>),
    Stale,
}

/// The sealing loop's state.
pub(crate) struct Sealer {
    pub config: Config,
    pub sequencer_key: PublicKey,
    /// The registry as of Redis `head` (it changes with governance events).
    pub registry: tokio::sync::Mutex<RegistryView>,
    pub key: KeyPair,
    pub store: Store,
    pub producer: FutureProducer,
    /// The canonical chain as far as this sequencer read the blocks topic.
    pub canon: Canon,
    /// A reader kept open on the blocks topic, for reading back each appended block cheaply.
    pub tail: Arc<std::sync::Mutex<PartitionReader>>,
}

/// A switch that turns true when the sequencer is stopping or its term is over.
struct Halt {
    rx: watch::Receiver<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Halt {
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

impl Drop for Halt {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sealer {
    /// Seals while leading, until `stop`.
    pub async fn run(&mut self, mut stop: watch::Receiver<bool>, leadership: &Leadership) -> anyhow::Result<()> {
        let mut role = leadership.subscribe();
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
            match self.lead(epoch, &stop, &role, leadership).await? {
                End::Stopped => break,
                End::Lost => tracing::warn!(epoch, "leadership lost: batch in hand abandoned"),
                End::Superseded(by) => {
                    tracing::warn!(epoch, chain_epoch = by, "superseded by a higher epoch: stepping down");
                    leadership.step_down(epoch);
                }
            }
        }
        tracing::info!(height = self.canon.tip.height, "sequencer stopped");
        Ok(())
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            sequencer_key: &self.sequencer_key,
            registry: &self.registry,
            store: &self.store,
            tail: &self.tail,
        }
    }

    /// Syncs the canonical chain (and Redis) as far as the blocks topic goes; `own` is a block just appended.
    async fn sync(&mut self, own: Option<Own<'_>>, leadership: &Leadership) -> anyhow::Result<OwnFate> {
        let mut canon = std::mem::take(&mut self.canon);
        let result = sync(&self.ctx(), &mut canon, own).await;
        self.canon = canon;
        leadership.observe_epoch(self.canon.tip.epoch);
        result
    }

    /// One term: seals with `epoch` until stopped, the term ends, or a higher epoch shows in the chain. The last
    /// sealed block's write, if still to be made, is made whatever ended the term: the block is canonical, and the
    /// write is fenced.
    async fn lead(
        &mut self,
        epoch: u64,
        stop: &watch::Receiver<bool>,
        role: &watch::Receiver<Role>,
        leadership: &Leadership,
    ) -> anyhow::Result<End> {
        let mut pending = None;
        let end = self.term(epoch, stop, role, leadership, &mut pending).await;
        let flushed = flush(&self.store, &mut pending).await;
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
        pending: &mut Option<Pending>,
    ) -> anyhow::Result<End> {
        let limits = Limits {
            max_events: self.config.batch_max_events,
            max_bytes: self.config.batch_max_bytes,
            max_wait: Duration::from_millis(self.config.batch_max_wait_ms),
        };
        let mut halt = Halt::new(stop.clone(), role.clone(), epoch);
        'resume: loop {
            flush(&self.store, pending).await?;
            self.sync(None, leadership).await?;
            if self.canon.tip.epoch > epoch {
                return Ok(End::Superseded(self.canon.tip.epoch));
            }
            tracing::info!(
                epoch,
                height = self.canon.tip.height,
                offsets = ?self.canon.offsets,
                "resuming from the canonical tip"
            );
            let consumer = assign(&self.config, &self.canon.offsets).await?;
            let mut offsets = self.canon.offsets.clone();
            loop {
                let Some(batch) = self.take_batch(&consumer, limits, &mut halt.rx, pending).await? else {
                    return Ok(if *stop.borrow() { End::Stopped } else { End::Lost });
                };
                for raw in &batch {
                    offsets.insert(raw.partition, raw.offset + 1);
                }
                let Some((applied, phases)) = self.apply(batch, pending).await? else {
                    continue 'resume;
                };
                if applied.events.is_empty() && applied.rejected.is_empty() {
                    continue;
                }
                if role.borrow().valid_epoch(Instant::now()) != Some(epoch) {
                    return Ok(End::Lost);
                }
                match self.seal(epoch, &offsets, applied, phases, leadership).await? {
                    Sealed::Canonical(deferred) => *pending = deferred,
                    Sealed::Stale if self.canon.tip.epoch > epoch => {
                        return Ok(End::Superseded(self.canon.tip.epoch));
                    }
                    Sealed::Stale => continue 'resume,
                }
            }
        }
    }

    /// The next batch. While the last block's write is still to be made, a batch that is already fetched and full
    /// is taken at once (its packs are read before that write is sent, see [`Sealer::apply`]); otherwise the write is
    /// made first, so that a quiet topic never holds it back.
    async fn take_batch(
        &self,
        consumer: &StreamConsumer,
        limits: Limits,
        halt: &mut watch::Receiver<bool>,
        pending: &mut Option<Pending>,
    ) -> anyhow::Result<Option<Vec<Raw>>> {
        let mut start = Collected::default();
        if *halt.borrow() {
            return Ok(None);
        }
        if pending.is_some() {
            start = ready_batch(consumer, limits).await?;
            if start.is_full(&limits) {
                return Ok(Some(start.raws));
            }
            flush(&self.store, pending).await?;
        }
        next_batch(consumer, limits, halt, start).await
    }

    /// Checks and applies a batch on the canonical tip; `None` when Redis is not where this sequencer's chain says
    /// (then the term resumes from the canonical tip, and the batch is read again).
    ///
    /// With the last block's write still to be made (`pending`, Redis at its parent), the batch's packs are read
    /// first with that block's effects laid over them, then the write is sent and the state machine runs while Redis
    /// executes it: the two halves of the loop overlap. The write is awaited before anything is sealed on top.
    async fn apply(&self, batch: Vec<Raw>, pending: &mut Option<Pending>) -> anyhow::Result<Option<(Applied, Phases)>> {
        // Redis must hold exactly the canonical tip (or its parent, with the tip's write in hand): ahead means another
        // sequencer sealed (read on from the topic), behind means it lost blocks (replay).
        let expected = self.canon.tip.height - u64::from(pending.is_some());
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
        let registry = self.registry.lock().await.refresh(&self.store).await?;
        let checked = check_all(batch, registry.clone()).await?;
        let checked_at = Instant::now();
        let at = BlockContext::new(self.canon.tip.height + 1, now_ms());
        let before = pending.as_ref().map(|p| p.applied.as_ref());
        let prepared = prepare(checked, &self.store, &registry, before).await?;
        if prepared.has_governance() {
            flush(&self.store, pending).await?;
        }
        let loaded_at = Instant::now();
        let applied = match pending.take() {
            None => apply_prepared(prepared, &self.store, at, registry).await?,
            Some(previous) => {
                let height = previous.height;
                let write = tokio::spawn(previous.write(self.store.clone()));
                let applied = tokio::task::spawn_blocking(move || apply_ordinary(prepared, at, registry)).await?;
                match write.await?? {
                    Fenced::Written => {}
                    Fenced::Refused { head } if head == height => {}
                    Fenced::Refused { .. } => return Ok(None),
                }
                applied
            }
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
    ) -> anyhow::Result<Sealed> {
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
        };
        let (block, tip) = seal(&self.key, &self.canon.tip, content);
        let bytes = block.encode_to_vec();
        let landed = send(
            &self.producer,
            &self.config.blocks_topic,
            &tip.height.to_be_bytes(),
            &bytes,
        )
        .await
        .with_context(|| format!("appending block {} to the blocks topic", tip.height))?;
        let appended = started.elapsed();
        let own = Own {
            offset: landed.offset,
            bytes: &bytes,
            applied: &applied,
            // A block that changes the registry is written at once: the next batch is checked against Redis'.
            defer: applied.participants.is_empty(),
        };
        // Read back up to (at least) our own block: only a canonical block's effects go to Redis.
        let fate = self.sync(Some(own), leadership).await?;
        if !fate.canonical {
            tracing::warn!(
                height = tip.height,
                epoch,
                offset = landed.offset,
                chain_height = self.canon.tip.height,
                chain_epoch = self.canon.tip.epoch,
                "another block got in first: ours is stale, resuming from the canonical tip"
            );
            return Ok(Sealed::Stale);
        }
        tracing::debug!(
            height = tip.height,
            epoch,
            offset = landed.offset,
            events = block.events.len(),
            rejected = block.rejected.len(),
            packs = applied.packs.change_count(),
            check_ms = phases.check.as_millis() as u64,
            load_ms = phases.load.as_millis() as u64,
            apply_ms = phases.apply.as_millis() as u64,
            seal_append_ms = appended.as_millis() as u64,
            read_back_ms = (started.elapsed() - appended).as_millis() as u64,
            "sealed"
        );
        let deferred = fate.deferred.then(|| Pending {
            height: tip.height,
            bytes,
            applied: Arc::new(applied),
        });
        Ok(Sealed::Canonical(deferred))
    }
}

/// A canonical block whose effects are not in Redis yet (Redis is at its parent).
struct Pending {
    height: u64,
    bytes: Vec<u8>,
    applied: Arc<Applied>,
}

impl Pending {
    async fn write(self, store: Store) -> anyhow::Result<Fenced> {
        write_effects(&store, self.height, &self.bytes, &self.applied).await
    }
}

/// Makes the pending write, if any.
async fn flush(store: &Store, pending: &mut Option<Pending>) -> anyhow::Result<()> {
    if let Some(previous) = pending.take() {
        previous.write(store.clone()).await?;
    }
    Ok(())
}

/// The sequencer's clock, in ms since the Unix epoch.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
