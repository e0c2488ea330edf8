//! Proofs over the append-only log of every committed event (RFC 6962), built from the leaf list in Redis.
//!
//! Building a proof reads the first `tree_size` leaf hashes (32 bytes each): linear in the log's size, fine for
//! auditors' occasional requests; a per-scan proof uses the block-local bundle instead.

use pedigree_core::Hash;
use pedigree_core::merkle::{consistency_proof, inclusion_proof, leaf_hash, root};
use pedigree_core::pb::{BlockHeader, ConsistencyProof, InclusionProof, LogInclusionProof, event_outcome};
use prost::Message;

use crate::error::VerifyError;
use crate::verify::{Verifier, inconsistent};

fn to_bytes(hashes: &[Hash]) -> Vec<Vec<u8>> {
    hashes.iter().map(|h| h.to_vec()).collect()
}

impl Verifier {
    /// The log's current size (the head block's tree_size).
    async fn log_size(&self) -> Result<u64, VerifyError> {
        let height = self.store.head().await?;
        if height == 0 {
            return Ok(0);
        }
        Ok(self.header(height).await?.tree_size)
    }

    async fn header(&self, height: u64) -> Result<BlockHeader, VerifyError> {
        let block = self.store.block(height).await?.ok_or(VerifyError::NoBlock(height))?;
        let signed = block.header.ok_or_else(|| inconsistent("block without header"))?;
        BlockHeader::decode(signed.header.as_slice()).map_err(|_| inconsistent("undecodable header"))
    }

    pub async fn log_inclusion(&self, raw_id: &[u8], tree_size: u64) -> Result<LogInclusionProof, VerifyError> {
        let id: Hash = raw_id.try_into().map_err(|_| VerifyError::EventId(raw_id.len()))?;
        let outcome = self.store.event_outcome(&id).await?;
        let Some(event_outcome::Outcome::CommittedHeight(height)) = outcome.and_then(|o| o.outcome) else {
            return Err(VerifyError::NotCommitted);
        };
        let block = self.store.block(height).await?.ok_or(VerifyError::NoBlock(height))?;
        let local = pedigree_core::proof::block_inclusion(&block, &id)
            .ok_or_else(|| inconsistent("committed event not in its block"))?;
        let header = self.header(height).await?;
        let index = header.tree_size - u64::from(header.event_count) + local.leaf_index;
        let size = self.pick_size(tree_size).await?;
        if index >= size {
            return Err(VerifyError::TreeSize(format!(
                "{size} is too small to hold leaf {index}"
            )));
        }
        let leaves = self.store.log_leaves(size).await?;
        let hashes = inclusion_proof(&leaves, index).map_err(|e| inconsistent(&e.to_string()))?;
        Ok(LogInclusionProof {
            proof: Some(InclusionProof {
                leaf_index: index,
                tree_size: size,
                hashes: to_bytes(&hashes),
            }),
            leaf_hash: leaf_hash(&id).to_vec(),
            root: root(&leaves).to_vec(),
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
        let leaves = self.store.log_leaves(new_size).await?;
        let hashes = consistency_proof(&leaves, old_size).map_err(|e| inconsistent(&e.to_string()))?;
        Ok(ConsistencyProof {
            old_size,
            new_size,
            old_root: root(&leaves[..old_size as usize]).to_vec(),
            new_root: root(&leaves).to_vec(),
            hashes: to_bytes(&hashes),
        })
    }
}
