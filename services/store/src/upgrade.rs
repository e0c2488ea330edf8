//! Upgrading ledger state written in an older layout, by the sequencer (the only writer) before it writes a block.
//!
//! Layout 1 kept the log as one list `l` of leaf hashes and no proof index per block. Layout 2 ([`LAYOUT_VERSION`])
//! keeps the log as kept levels `l:{level}` and a proof index `x:{height}` per block, written by the block write
//! itself, so a replay of the log rebuilds them like everything else. Upgrading builds them from what layout 1 holds
//! (the list and the blocks' bytes), block by block exactly as the block write would have, then sets `v` and drops
//! `l`. It is one pass over the chain (a few round trips per block); one cut short starts over, and readers answer
//! log proofs "unavailable" until it is done (they check `v`).

use pedigree_core::Hash;

use crate::error::{Result, StoreError};
use crate::log_growth::{growth, hashes};
use crate::proof_index::BlockIndex;
use crate::schema::{HEAD, LAYOUT_VERSION, LOG_LEVELS, OLD_LEAVES, VERSION, block_key, log_level_key, proof_index_key};
use crate::store::Store;

impl Store {
    /// Brings state of layout 1 to [`LAYOUT_VERSION`]; returns whether it upgraded anything. State of an unknown
    /// layout (a newer version's) is refused.
    pub async fn upgrade_layout(&self) -> Result<bool> {
        let mut con = self.con.clone();
        let (head, version): (Option<u64>, Option<String>) =
            redis::pipe().get(HEAD).get(VERSION).query_async(&mut con).await?;
        let head = head.unwrap_or(0);
        match version {
            Some(v) if v == LAYOUT_VERSION.to_string() => return Ok(false),
            Some(found) => {
                return Err(StoreError::OldLayout {
                    found,
                    wanted: LAYOUT_VERSION,
                });
            }
            None if head == 0 => return Ok(false),
            None => {}
        }
        tracing::warn!(
            head,
            "redis holds ledger state of layout 1: building the log's levels and blocks' proof indexes"
        );
        // Start over from nothing: levels an upgrade cut short appended to.
        let mut drop = redis::cmd("DEL");
        LOG_LEVELS.kept(u64::MAX).for_each(|level| {
            drop.arg(log_level_key(level));
        });
        drop.query_async::<()>(&mut con).await?;
        for height in 1..=head {
            let bytes: Option<Vec<u8>> = redis::cmd("GET").arg(block_key(height)).query_async(&mut con).await?;
            let bytes =
                bytes.ok_or_else(|| StoreError::ProofData(format!("block {height} is missing: cannot upgrade")))?;
            let index = BlockIndex::of_block(&bytes)?;
            let first = index.prefix.first_leaf;
            let count = index.events.len() as u64;
            let leaves: Vec<Hash> = if count == 0 {
                Vec::new()
            } else {
                let raw: Vec<Vec<u8>> = redis::cmd("LRANGE")
                    .arg(OLD_LEAVES)
                    .arg(first)
                    .arg(first + count - 1)
                    .query_async(&mut con)
                    .await?;
                hashes(&raw.concat(), count, || format!("{OLD_LEAVES} at {first}"))?
            };
            let tails = self.log_tails(first).await?;
            let grown = growth(&index, &tails, &leaves)?;
            let mut pipe = redis::pipe();
            pipe.atomic();
            for (key, _, bytes) in grown.levels.iter().filter(|(_, _, b)| !b.is_empty()) {
                pipe.cmd("APPEND").arg(key).arg(bytes).ignore();
            }
            pipe.set(proof_index_key(height), grown.index).ignore();
            pipe.query_async::<()>(&mut con).await?;
        }
        redis::pipe()
            .atomic()
            .set(VERSION, LAYOUT_VERSION)
            .ignore()
            .del(OLD_LEAVES)
            .ignore()
            .query_async::<()>(&mut con)
            .await?;
        tracing::info!(head, "redis upgraded to layout {LAYOUT_VERSION}");
        Ok(true)
    }
}
