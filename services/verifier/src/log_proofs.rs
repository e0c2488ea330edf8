//! Proofs over the append-only log of every committed event (RFC 6962), assembled from the log's perfect subtrees
//! that Redis keeps (`l:{level}`, see `pedigree_store::schema`).
//!
//! An inclusion or consistency proof, and the roots that go with it, read O(log n) hashes in one pipelined round
//! trip and cost O(log n) hashing, whatever the size of the log: the log size is one `STRLEN`, an event's leaf index
//! is found among its block's leaves (32 bytes per event of that block, no hashing). Neither a block nor the leaf list
//! is read whole. The per-scan proof bundle is built the same way from the block's proof index (`verify.rs`).

use pedigree_core::Hash;
use pedigree_core::merkle::leaf_hash;
use pedigree_core::pb::{ConsistencyProof, InclusionProof, LogInclusionProof, event_outcome};

use crate::error::VerifyError;
use crate::verify::{Verifier, inconsistent};

fn to_bytes(hashes: &[Hash]) -> Vec<Vec<u8>> {
    hashes.iter().map(|h| h.to_vec()).collect()
}

impl Verifier {
    /// The log's current size (the head block's tree_size).
    async fn log_size(&self) -> Result<u64, VerifyError> {
        Ok(self.store.log_size().await?)
    }

    pub async fn log_inclusion(&self, raw_id: &[u8], tree_size: u64) -> Result<LogInclusionProof, VerifyError> {
        let id: Hash = raw_id.try_into().map_err(|_| VerifyError::EventId(raw_id.len()))?;
        let outcome = self.store.event_outcome(&id).await?;
        let Some(event_outcome::Outcome::CommittedHeight(height)) = outcome.and_then(|o| o.outcome) else {
            return Err(VerifyError::NotCommitted);
        };
        let leaf = leaf_hash(&id);
        let index = self
            .store
            .log_index_of(height, &leaf)
            .await?
            .ok_or_else(|| inconsistent("committed event not in its block"))?;
        let size = self.pick_size(tree_size).await?;
        if index >= size {
            return Err(VerifyError::TreeSize(format!(
                "{size} is too small to hold leaf {index}"
            )));
        }
        let (hashes, root) = self.store.log_inclusion(index, size).await?;
        Ok(LogInclusionProof {
            proof: Some(InclusionProof {
                leaf_index: index,
                tree_size: size,
                hashes: to_bytes(&hashes),
            }),
            leaf_hash: leaf.to_vec(),
            root: root.to_vec(),
            height,
        })
    }

    async fn pick_size(&self, asked: u64) -> Result<u64, VerifyError> {
        let size = self.log_size().await?;
        match asked {
            0 => Ok(size),
            n if n > size => Err(VerifyError::TreeSize(format!(
                "{n} is larger than the log ({size} leaves)"
            ))),
            n => Ok(n),
        }
    }

    pub async fn log_consistency(&self, old_size: u64, new_size: u64) -> Result<ConsistencyProof, VerifyError> {
        if old_size == 0 || old_size > new_size {
            return Err(VerifyError::TreeSize(format!(
                "need 1 <= old_size <= new_size, got {old_size} and {new_size}"
            )));
        }
        let new_size = self.pick_size(new_size).await?;
        let (hashes, old_root, new_root) = self.store.log_consistency(old_size, new_size).await?;
        Ok(ConsistencyProof {
            old_size,
            new_size,
            old_root: old_root.to_vec(),
            new_root: new_root.to_vec(),
            hashes: to_bytes(&hashes),
        })
    }
}
