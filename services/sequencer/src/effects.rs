//! A sealed block's effects and the one function that writes them to Redis ([`write_block`]).
//!
//! Only [`crate::write_behind::WriteBehind`] calls it: the sealing loop's own blocks and the blocks replayed from
//! the log both reach Redis through that owner, which keeps them in chain order.

use std::sync::Arc;

use anyhow::Context;
use pedigree_core::merkle::leaf_hash;
use pedigree_core::pb::event_outcome;
use pedigree_store::{BlockWrite, Fenced, Store};

use crate::apply::Applied;

/// A canonical block (its bytes as in the blocks topic) and what applying it changed.
pub struct BlockEffects {
    pub height: u64,
    /// Its offset in the blocks topic.
    pub offset: i64,
    pub bytes: Vec<u8>,
    pub applied: Arc<Applied>,
}

impl BlockEffects {
    /// Whether Redis holds this block after a fenced write that answered `fenced`: written now, or already there
    /// (someone replaying wrote the same canonical block).
    pub fn landed(&self, fenced: Fenced) -> bool {
        match fenced {
            Fenced::Written => true,
            Fenced::Refused { head } => head >= self.height,
        }
    }
}

/// Writes a canonical block's effects to Redis in one atomic script, fenced on `head == height - 1`. A refusal
/// because Redis already holds this height is someone else (a sequencer replaying) having written the same block:
/// fine. A refusal because Redis is further behind is left to the caller's next check, which replays from the start.
pub(crate) async fn write_block(store: &Store, effects: &BlockEffects) -> anyhow::Result<Fenced> {
    let (height, applied) = (effects.height, &effects.applied);
    let write = BlockWrite {
        height,
        block: &effects.bytes,
        packs: applied
            .packs
            .changes()
            .map(|(key, record)| (key, record, applied.packs.is_created(key)))
            .collect(),
        registry: Some(&applied.registry),
        products: applied.packs.product_changes().collect(),
        containers: applied.packs.container_changes().collect(),
        outcomes: &applied.outcomes,
        // Accepted events' outcomes are recorded in block order, so their ids give the log's new leaves.
        leaves: applied
            .outcomes
            .iter()
            .filter(|(_, o)| matches!(o.outcome, Some(event_outcome::Outcome::CommittedHeight(_))))
            .map(|(id, _)| leaf_hash(id))
            .collect(),
        participants: &applied.participants,
        sequencer_keys: applied.sequencer_keys.as_deref(),
        offset: Some(effects.offset),
        links: applied.packs.encoded_links(),
        party_events: applied.party_events.entries().collect(),
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
