//! Following the canonical chain: reading the blocks topic, folding it ([`crate::chain`]), and bringing Redis up to
//! its tip.
//!
//! The blocks topic is read in offset order: the last message is *not* necessarily the head, since a fenced-off
//! sequencer may have appended a stale block after it. A sequencer reads the whole topic once when it starts leading,
//! then only what was appended since (its [`Canon`] remembers the next offset): the canonical prefix of an
//! append-only topic never changes, so nothing read needs reading again. The exception is Redis being behind what
//! was already read (emptied, or restored from an old snapshot): the topic is then read again from the start to
//! replay the blocks Redis lacks.
//!
//! Redis is a cache of the canonical chain: every canonical block above Redis `head` is replayed
//! ([`crate::replay`]) and handed to the [`WriteBehind`], whose writes are fenced on `head`, so two sequencers
//! replaying or sealing at once cannot apply a block twice, out of order, or one that is not canonical. The
//! follower reports what became of the caller's own block (canonical, stale or superseded); a canonical own block
//! is handed to the write-behind as held, never written here.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::bail;
use pedigree_core::block::{BlockError, tip_of};
use pedigree_core::pb::Block;
use pedigree_kafka::PartitionReader;
use pedigree_store::Store;
use prost::Message;
use tokio::sync::mpsc;

use crate::chain::{Canon, Folded};
use crate::effects::BlockEffects;
use crate::halt::halt;
use crate::progress::Progress;
use crate::replay::replay;
use crate::write_behind::WriteBehind;

/// A block this sequencer just appended: where it landed, the epoch it was sealed with, and its effects.
pub struct OwnBlock {
    pub offset: i64,
    pub epoch: u64,
    pub effects: BlockEffects,
}

/// What became of an own block once the topic was read past it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// It extends the canonical chain; its write is held by the write-behind (or Redis already had it).
    Canonical,
    /// Another block got its height first, in the same or a lower epoch.
    Stale,
    /// The canonical tip carries a higher epoch than the block's: its term is over.
    Superseded { chain_epoch: u64 },
}

/// What following the chain reads and writes.
pub struct Follower<'a> {
    /// The blocks-topic reader, kept open across reads.
    pub tail: &'a Arc<Mutex<PartitionReader>>,
    pub store: &'a Store,
    pub write_behind: &'a mut WriteBehind,
    /// Touched for every block read: a long replay is progress, not a stall.
    pub progress: &'a Progress,
}

impl Follower<'_> {
    /// Reads the blocks topic from `canon.next_offset` to its end and brings Redis up to the canonical tip.
    pub async fn catch_up(&mut self, canon: &mut Canon) -> anyhow::Result<()> {
        self.follow(canon, None).await.map(|_| ())
    }

    /// Reads the blocks topic at least past `own` (just appended), bringing Redis up to the canonical tip but for
    /// `own` itself, which is handed to the write-behind as held when canonical; reports what became of it.
    pub async fn read_back(&mut self, canon: &mut Canon, own: OwnBlock) -> anyhow::Result<Fate> {
        let epoch = own.epoch;
        let canonical = self.follow(canon, Some(own)).await?;
        Ok(if canonical {
            Fate::Canonical
        } else if canon.tip.epoch > epoch {
            Fate::Superseded {
                chain_epoch: canon.tip.epoch,
            }
        } else {
            Fate::Stale
        })
    }

    /// Returns whether `own` turned out canonical.
    async fn follow(&mut self, canon: &mut Canon, mut own: Option<OwnBlock>) -> anyhow::Result<bool> {
        let target = own.as_ref().map_or(0, |o| o.offset + 1);
        let mut canonical = false;
        for round in 0..20 {
            if canon.next_offset == 0 && canon.checkpoints {
                self.take_checkpoint(canon).await?;
            }
            let redis_head = self.store.head().await?;
            if redis_head + self.write_behind.lag() < canon.tip.height {
                tracing::warn!(
                    redis_head,
                    chain_head = canon.tip.height,
                    "redis is behind the log, replaying from the start of the blocks topic"
                );
                // Readers stay unavailable until Redis is back at the chain's tip.
                self.store.set_sync_target(canon.tip.height).await?;
                canon.restart();
            }
            let messages = self.fold_topic(canon, redis_head, &mut own, &mut canonical).await?;
            if canon.tip.height == 0 {
                // A chain without blocks: Redis holds the state before block 1 (readers may answer from it).
                self.store.init_head().await?;
            }
            if canon.next_offset < target {
                // The acknowledgement came back before the high watermark moved: read again.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            let head = self.store.head().await?;
            if head <= canon.tip.height {
                return Ok(canonical);
            }
            // Redis is ahead of what was read: another sequencer appended and applied since the read started.
            if messages == 0 && round > 2 {
                halt!(
                    "redis is at height {head}, ahead of the canonical chain in the blocks topic at {}: the blocks \
                     topic lost blocks (recreated, or records deleted) or redis belongs to another chain; refusing to \
                     seal over it",
                    canon.tip.height
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if canon.next_offset < target {
            bail!("block at offset {} never showed in the blocks topic", target - 1);
        }
        bail!("redis keeps moving ahead of the blocks topic");
    }

    /// Starts `canon` (nothing read yet) from Redis' head block instead of offset 0, when that block is in the
    /// blocks topic at the offset Redis names, byte for byte, verifies under the sequencer key for this chain, and
    /// commits to the registry Redis holds. Then only what follows it is read: a new leader's start does not grow
    /// with the chain. Anything that does not check out leaves `canon` as it is, to fold from the start.
    async fn take_checkpoint(&mut self, canon: &mut Canon) -> anyhow::Result<()> {
        let Some((head, offset, bytes)) = self.store.checkpoint().await? else {
            return Ok(());
        };
        let (_, records, schedule) = self.store.registry_records().await?;
        let registry = match (**canon.genesis())
            .clone()
            .with_records(&records)
            .and_then(|r| r.with_sequencer_keys(&schedule))
        {
            Ok(registry) => registry,
            Err(e) => {
                tracing::warn!(error = %e, "redis' registry does not parse: folding the blocks topic from the start");
                return Ok(());
            }
        };
        let tail = self.tail.clone();
        let in_topic = tokio::task::spawn_blocking(move || {
            let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
            tail.read_at(offset)
        })
        .await??;
        if in_topic.as_deref() != Some(bytes.as_slice()) {
            tracing::warn!(
                head,
                offset,
                "redis' head block is not in the blocks topic at its offset: folding the topic from the start"
            );
            return Ok(());
        }
        match Canon::from_checkpoint(canon.genesis().clone(), offset, &bytes, registry) {
            Some(checkpoint) if checkpoint.tip.height == head => {
                tracing::info!(height = head, offset, "resuming from redis' head block (checkpoint)");
                *canon = checkpoint;
            }
            _ => tracing::warn!(
                head,
                offset,
                "redis' head block does not check out (signature, chain, registry root): folding from the start"
            ),
        }
        Ok(())
    }

    /// Folds what the topic holds from `canon.next_offset`; returns how many messages were read.
    async fn fold_topic(
        &mut self,
        canon: &mut Canon,
        redis_head: u64,
        own: &mut Option<OwnBlock>,
        canonical: &mut bool,
    ) -> anyhow::Result<u64> {
        // Each message comes with the end of the topic as the read started (to bound how far a replay goes).
        let (tx, mut rx) = mpsc::channel::<(i64, Vec<u8>, i64)>(16);
        let (tail, from) = (self.tail.clone(), canon.next_offset);
        let reading = tokio::task::spawn_blocking(move || {
            // A poisoned lock only means an earlier read panicked; the reader re-positions itself when needed.
            let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
            tail.read_range_to(from, |offset, payload, high| {
                // A closed channel means the folding side failed; its error is the one reported.
                let _ = tx.blocking_send((offset, payload.to_vec(), high));
                Ok(())
            })
        });
        let (mut messages, mut replayed) = (0u64, 0u64);
        while let Some((offset, payload, high)) = rx.recv().await {
            messages += 1;
            // The registry as of the block's parent, to replay the block on.
            let registry = canon.registry.clone();
            let folded = match canon.fold(offset, &payload) {
                Ok(folded) => folded,
                Err(e) => halt!("the blocks topic holds an invalid block at offset {offset}: {e:#}"),
            };
            self.progress.advanced();
            match folded {
                Folded::Canonical { block, header } => {
                    let mine = own.take_if(|o| o.offset == offset);
                    *canonical |= mine.is_some();
                    if header.height <= redis_head {
                        continue;
                    }
                    match mine {
                        Some(o) => self.write_behind.hold(o.effects).await?,
                        None => {
                            if replayed == 0 {
                                // Readers stay unavailable until Redis has caught up: at most one block per message
                                // left in the topic.
                                let left = u64::try_from(high - 1 - offset).unwrap_or(0);
                                self.store.set_sync_target(header.height + left).await?;
                            }
                            replay(
                                &block,
                                &header,
                                offset,
                                payload,
                                self.store,
                                registry,
                                self.write_behind,
                            )
                            .await?;
                            replayed += 1;
                        }
                    }
                }
                Folded::Stale(BlockError::Height { got, expected }) if canon.from_checkpoint && got > expected => {
                    // Nothing canonical is ever more than one height above the tip it follows: the checkpoint was
                    // not on the canonical chain. Fold from the start, without checkpoints.
                    tracing::warn!(
                        offset,
                        got,
                        expected,
                        "a block above the checkpoint's chain: the checkpoint is not canonical, folding from the start"
                    );
                    canon.checkpoints = false;
                    canon.restart();
                    return Ok(messages);
                }
                Folded::Stale(reason) => {
                    let height = Block::decode(payload.as_slice())
                        .ok()
                        .and_then(|b| tip_of(&b, &canon.tip.chain_id).ok())
                        .map(|(h, _)| (h.height, h.epoch));
                    tracing::info!(offset, ?height, %reason, "stale block skipped");
                }
            }
        }
        reading.await??;
        if replayed > 0 {
            self.store.set_sync_target(canon.tip.height).await?;
            tracing::info!(blocks = replayed, height = canon.tip.height, "replayed into redis");
        }
        Ok(messages)
    }
}
