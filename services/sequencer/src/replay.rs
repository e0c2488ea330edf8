//! Replaying a canonical block into Redis: its events checked and applied again on Redis at its parent, exactly as
//! the sealer did (every decision depends only on the log), and the result handed to the write-behind.

use std::sync::Arc;

use pedigree_core::context::BlockContext;
use pedigree_core::participant::Registry;
use pedigree_core::pb::{Block, BlockHeader};
use pedigree_store::Store;
use prost::Message;

use crate::apply::apply_batch;
use crate::batch::EventRecord;
use crate::effects::BlockEffects;
use crate::halt::halt;
use crate::recheck::{Checked, check_all};
use crate::write_behind::WriteBehind;

/// Applies `block` (whose bytes are `bytes`) on Redis at its parent, judging its events against `registry` (folded
/// from the chain up to the parent, see [`crate::chain`]), and writes it through `write_behind`.
pub async fn replay(
    block: &Block,
    header: &BlockHeader,
    offset: i64,
    bytes: Vec<u8>,
    store: &Store,
    registry: Arc<Registry>,
    write_behind: &mut WriteBehind,
) -> anyhow::Result<()> {
    // Redis must be at the parent: a held write goes first.
    write_behind.flush().await?;
    let records = block
        .events
        .iter()
        .map(|e| EventRecord {
            partition: 0,
            offset: 0,
            payload: e.encode_to_vec(),
        })
        .collect();
    // Every envelope of a sealed block fits: no size limit when judging them again.
    let mut checked = check_all(records, registry.clone(), usize::MAX).await?;
    checked.extend(block.rejected.iter().cloned().map(|r| Checked::Invalid(r, None)));
    let at = BlockContext::new(header.height, header.time_ms);
    let applied = apply_batch(checked, store, at, registry).await?;
    if applied.events.len() != block.events.len() {
        if store.head().await? >= header.height {
            // Another sequencer applied this block while we were computing it.
            return Ok(());
        }
        halt!(
            "block {}: {} of its {} events apply again; the log and redis disagree",
            header.height,
            applied.events.len(),
            block.events.len()
        );
    }
    let effects = BlockEffects {
        height: header.height,
        offset,
        bytes,
        applied: Arc::new(applied),
    };
    write_behind.write(effects).await.map(|_| ())
}
