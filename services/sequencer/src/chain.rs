//! The canonical chain: a deterministic fold over the blocks topic in offset order.
//!
//! A message of the blocks topic is *canonical* when it is a valid successor of the canonical tip so far
//! ([`check_block`]: height = tip + 1, previous hash, epoch not below the tip's, signature, roots, log). Anything
//! else — a competing block at a height already taken, a block of an older epoch, something that does not decode —
//! is *stale* and skipped. Because the topic is append-only and the rule only looks at what came before, the
//! canonical chain up to an offset never changes once that offset is read: every reader (sequencers, `pedigree
//! verify`, the tests) agrees on it, whoever wrote what.

use std::collections::BTreeMap;

use pedigree_core::block::{BlockError, Tip, check_block};
use pedigree_core::keys::PublicKey;
use pedigree_core::pb::{Block, BlockHeader};
use prost::Message;

/// Where the canonical chain stands after reading the blocks topic up to (not including) `next_offset`.
#[derive(Clone, Debug, Default)]
pub struct Canon {
    pub tip: Tip,
    /// Next blocks-topic offset to read.
    pub next_offset: i64,
    /// Events-topic offsets the canonical tip resumes from (next offset to read, per partition).
    pub offsets: BTreeMap<i32, i64>,
}

/// What one message of the blocks topic turned out to be.
pub enum Folded {
    /// The next block of the chain.
    Canonical {
        block: Box<Block>,
        header: Box<BlockHeader>,
    },
    /// Not a successor of the tip: skipped.
    Stale(BlockError),
}

impl Canon {
    /// Folds the message at `offset` (the next one: offsets are read in order, gaps allowed).
    pub fn fold(&mut self, offset: i64, payload: &[u8], sequencer: &PublicKey) -> Folded {
        debug_assert!(offset >= self.next_offset, "blocks are folded in offset order");
        self.next_offset = offset + 1;
        let block = match Block::decode(payload) {
            Ok(block) => block,
            Err(e) => return Folded::Stale(BlockError::Decode(e.to_string())),
        };
        match check_block(&block, &self.tip, sequencer) {
            Ok((header, tip)) => {
                self.tip = tip;
                self.offsets = header
                    .resume_offsets
                    .iter()
                    .map(|o| (o.partition, o.next_offset))
                    .collect();
                Folded::Canonical {
                    block: Box::new(block),
                    header: Box::new(header),
                }
            }
            Err(e) => Folded::Stale(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use pedigree_core::block::{BlockContent, seal};
    use pedigree_core::keys::KeyPair;
    use pedigree_core::pb::PartitionOffset;

    use super::*;

    fn content(epoch: u64, next_offset: i64) -> BlockContent {
        BlockContent {
            events: vec![],
            rejected: vec![],
            resume_offsets: vec![PartitionOffset {
                partition: 0,
                next_offset,
            }],
            time_ms: 0,
            epoch,
        }
    }

    /// Two sealers on the same tip, an old epoch after a newer one: one chain, in offset order.
    #[test]
    fn competing_and_older_blocks_are_stale() {
        let key = KeyPair::generate();
        let public = key.public();
        let (b1, t1) = seal(&key, &Tip::default(), content(1, 10));
        let (b2a, t2a) = seal(&key, &t1, content(1, 20));
        let (b2b, _) = seal(&key, &t1, content(2, 25));
        let (b3_old, _) = seal(&key, &t2a, content(1, 30));
        let (b3, _) = seal(&key, &t2a, content(2, 40));
        let (b4_old, _) = seal(&key, &Tip { ..t2a.clone() }, content(1, 50));
        let mut canon = Canon::default();
        let topic = [&b1, &b2a, &b2b, &b3, &b3_old, &b4_old];
        let verdicts: Vec<bool> = topic
            .iter()
            .enumerate()
            .map(|(i, b)| {
                matches!(
                    canon.fold(i as i64, &b.encode_to_vec(), &public),
                    Folded::Canonical { .. }
                )
            })
            .collect();
        assert_eq!(verdicts, [true, true, false, true, false, false]);
        assert_eq!((canon.tip.height, canon.tip.epoch, canon.next_offset), (3, 2, 6));
        assert_eq!(canon.offsets.get(&0), Some(&40));
        assert!(matches!(
            canon.fold(6, b"not a block", &public),
            Folded::Stale(BlockError::Decode(_))
        ));
    }

    #[test]
    fn a_block_of_an_older_epoch_cannot_extend_a_newer_tip() {
        let key = KeyPair::generate();
        let (b1, t1) = seal(&key, &Tip::default(), content(3, 1));
        let (b2, _) = seal(&key, &t1, content(2, 2));
        let mut canon = Canon::default();
        assert!(matches!(
            canon.fold(0, &b1.encode_to_vec(), &key.public()),
            Folded::Canonical { .. }
        ));
        assert!(matches!(
            canon.fold(1, &b2.encode_to_vec(), &key.public()),
            Folded::Stale(BlockError::StaleEpoch { got: 2, head: 3 })
        ));
    }
}
