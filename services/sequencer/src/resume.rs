//! Finding where the canonical chain stands, and bringing Redis up to it.
//!
//! The blocks topic is read in offset order and folded into the canonical chain ([`crate::chain`]): the last
//! message is *not* necessarily the head, since a fenced-off sequencer may have appended a stale block after it. A
//! sequencer reads the whole topic once when it starts leading, then only what was appended since (its [`Canon`]
//! remembers the next offset): the canonical prefix of an append-only topic never changes, so nothing read needs
//! reading again. The exception is Redis being behind what was already read (emptied, or restored from an old
//! snapshot): the topic is then read again from the start to replay the blocks Redis lacks.
//!
//! Redis is a cache of the canonical chain: every canonical block above Redis `head` is applied with a fenced write
//! (`Store::write_block_if_head`: only if `head` is its parent, atomically), so two sequencers replaying or sealing at once cannot apply a
//! block twice, out of order, or one that is not canonical.

use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use pedigree_core::block::tip_of;
use pedigree_core::keys::PublicKey;
use pedigree_core::merkle::leaf_hash;
use pedigree_core::pb::event_outcome;
use pedigree_core::pb::{Block, BlockHeader};
use pedigree_log::reader::PartitionReader;
use pedigree_store::{Fenced, RegistryView, Store};
use prost::Message;
use tokio::sync::mpsc;

use crate::batch::Raw;
use crate::chain::{Canon, Folded};
use crate::process::{Applied, Checked, apply_batch, check_all};
use pedigree_core::context::BlockContext;

/// What a sync needs: the blocks-topic reader, the sequencer key, the registry (event checks for replays), Redis.
pub struct Ctx<'a> {
    pub sequencer_key: &'a PublicKey,
    /// The registry as of Redis `head`, re-read when a block changed it.
    pub registry: &'a tokio::sync::Mutex<RegistryView>,
    pub store: &'a Store,
    /// The blocks-topic reader kept open across reads.
    pub tail: &'a Arc<Mutex<PartitionReader>>,
}

/// A block this sequencer just appended: where it landed and its effects, written if it turns out canonical.
#[derive(Clone, Copy)]
pub struct Own<'a> {
    pub offset: i64,
    pub bytes: &'a [u8],
    pub applied: &'a Applied,
    /// Leave the write to the caller if the block is the last canonical one read (the sealing loop overlaps it with
    /// the next batch); a canonical block after it forces the write in order.
    pub defer: bool,
}

/// What a sync found of the caller's own block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OwnFate {
    pub canonical: bool,
    /// Canonical, and its effects left for the caller to write (Redis is at its parent).
    pub deferred: bool,
}

/// Reads the blocks topic from `canon.next_offset` to its end (at least past `own`, if given), keeps the canonical
/// blocks, and brings Redis up to the canonical tip (but for a deferred `own`). Returns what became of `own`.
pub async fn sync(ctx: &Ctx<'_>, canon: &mut Canon, own: Option<Own<'_>>) -> anyhow::Result<OwnFate> {
    let mut fate = OwnFate::default();
    let target = own.map_or(0, |o| o.offset + 1);
    for round in 0..20 {
        let redis_head = ctx.store.head().await?;
        if redis_head + u64::from(fate.deferred) < canon.tip.height {
            tracing::warn!(
                redis_head,
                chain_head = canon.tip.height,
                "redis is behind the log, replaying from the start of the blocks topic"
            );
            *canon = Canon::default();
        }
        let read = fold_topic(ctx, canon, redis_head, own, &mut fate).await?;
        if canon.next_offset < target {
            // The acknowledgement came back before the high watermark moved: read again.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            continue;
        }
        let head = ctx.store.head().await?;
        if head <= canon.tip.height {
            return Ok(fate);
        }
        // Redis is ahead of what was read: another sequencer appended and applied since the read started.
        if read.messages == 0 && round > 2 {
            bail!(
                "redis is at height {head}, ahead of the canonical chain in the blocks topic at {}: redis belongs \
                 to another chain",
                canon.tip.height
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    if canon.next_offset < target {
        bail!("block at offset {} never showed in the blocks topic", target - 1);
    }
    bail!("redis keeps moving ahead of the blocks topic");
}

struct Read {
    messages: u64,
}

async fn fold_topic(
    ctx: &Ctx<'_>,
    canon: &mut Canon,
    redis_head: u64,
    own: Option<Own<'_>>,
    fate: &mut OwnFate,
) -> anyhow::Result<Read> {
    let (tx, mut rx) = mpsc::channel::<(i64, Vec<u8>)>(16);
    let (tail, from) = (ctx.tail.clone(), canon.next_offset);
    let reading = tokio::task::spawn_blocking(move || {
        // A poisoned lock only means an earlier read panicked; the reader re-positions itself when needed.
        let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
        tail.read_range(from, |offset, payload| {
            // A closed channel means the folding side failed; its error is the one reported.
            let _ = tx.blocking_send((offset, payload.to_vec()));
            Ok(())
        })
    });
    let mut read = Read { messages: 0 };
    let mut replayed = 0u64;
    while let Some((offset, payload)) = rx.recv().await {
        read.messages += 1;
        match canon.fold(offset, &payload, ctx.sequencer_key) {
            Folded::Canonical { block, header } => {
                let mine = own.filter(|o| o.offset == offset);
                fate.canonical |= mine.is_some();
                if header.height <= redis_head {
                    continue;
                }
                if let Some(o) = own.filter(|_| fate.deferred && mine.is_none()) {
                    // A block on top of ours: ours goes to Redis first.
                    write_effects(ctx.store, header.height - 1, o.bytes, o.applied).await?;
                    fate.deferred = false;
                }
                match mine {
                    Some(o) if o.defer => fate.deferred = true,
                    Some(o) => {
                        write_effects(ctx.store, header.height, o.bytes, o.applied).await?;
                    }
                    None => {
                        replay_block(ctx, &block, &header, &payload).await?;
                        replayed += 1;
                    }
                }
            }
            Folded::Stale(reason) => {
                let height = Block::decode(payload.as_slice())
                    .ok()
                    .and_then(|b| tip_of(&b).ok())
                    .map(|(h, _)| (h.height, h.epoch));
                tracing::info!(offset, ?height, %reason, "stale block skipped");
            }
        }
    }
    reading.await??;
    if replayed > 0 {
        tracing::info!(blocks = replayed, height = canon.tip.height, "replayed into redis");
    }
    Ok(read)
}

/// Writes a canonical block's effects to Redis, fenced on `head == height - 1`. A refusal because Redis already
/// holds this height is someone else (a sequencer replaying) having written the same block: fine. A refusal because
/// Redis is further behind is left to the caller's next check, which replays from the start.
pub(crate) async fn write_effects(
    store: &Store,
    height: u64,
    bytes: &[u8],
    applied: &Applied,
) -> anyhow::Result<Fenced> {
    let write = pedigree_store::BlockWrite {
        height,
        block: bytes,
        packs: applied
            .packs
            .changes()
            .map(|(key, record)| (key, record, applied.packs.is_created(key)))
            .collect(),
        registry: Some(&applied.registry),
        products: applied.packs.product_changes().collect(),
        outcomes: &applied.outcomes,
        // Accepted events' outcomes are recorded in block order, so their ids give the log's new leaves.
        leaves: applied
            .outcomes
            .iter()
            .filter(|(_, o)| matches!(o.outcome, Some(event_outcome::Outcome::CommittedHeight(_))))
            .map(|(id, _)| leaf_hash(id))
            .collect(),
        participants: &applied.participants,
    };
    let started = std::time::Instant::now();
    let fenced = store
        .write_block_if_head(&write)
        .await
        .with_context(|| format!("writing block {height} to redis"))?;
    match fenced {
        Fenced::Written => {
            tracing::debug!(
                height,
                packs = write.packs.len(),
                write_ms = started.elapsed().as_millis() as u64,
                "written to redis"
            );
        }
        Fenced::Refused { head } if head >= height => {
            tracing::debug!(height, redis_head = head, "block already in redis");
        }
        Fenced::Refused { head } => {
            tracing::warn!(height, redis_head = head, "redis fell behind while writing");
        }
    }
    Ok(fenced)
}

async fn replay_block(ctx: &Ctx<'_>, block: &Block, header: &BlockHeader, bytes: &[u8]) -> anyhow::Result<()> {
    let raws = block
        .events
        .iter()
        .map(|e| Raw {
            partition: 0,
            offset: 0,
            payload: e.encode_to_vec(),
        })
        .collect();
    // The registry as of the parent block: Redis is at the parent (fenced writes), and `rv` tells if it moved.
    let registry = ctx.registry.lock().await.refresh(ctx.store).await?;
    let mut checked = check_all(raws, registry.clone()).await?;
    checked.extend(block.rejected.iter().cloned().map(|r| Checked::Invalid(r, None)));
    let at = BlockContext::new(header.height, header.time_ms);
    let applied = apply_batch(checked, ctx.store, at, registry).await?;
    if applied.events.len() != block.events.len() {
        if ctx.store.head().await? >= header.height {
            // Another sequencer applied this block while we were computing it.
            return Ok(());
        }
        bail!(
            "block {}: {} of its {} events apply again; the log and redis disagree",
            header.height,
            applied.events.len(),
            block.events.len()
        );
    }
    write_effects(ctx.store, header.height, bytes, &applied)
        .await
        .map(|_| ())
}
