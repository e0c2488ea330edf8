//! A tree kept as the hashes of its perfect subtrees, on every `stride`-th level: how a growing log appends to them
//! and where a [`Node`]'s hash is found. No IO here; the store keeps each level as one string of 32-byte hashes.
//!
//! Level 0 holds the leaf hashes, level `stride` the roots of the aligned groups of `2^stride` leaves, level
//! `2 * stride` those of `2^(2 * stride)` leaves, and so on: a tree of `n` leaves keeps about
//! `n / (1 - 2^-stride)` hashes (stride 1 keeps every level, `2n`). A node on a level that is not kept is the root of
//! a [`Run`] of at most `2^(stride - 1)` consecutive nodes of the kept level below it, so any node costs one read of
//! at most that many hashes and fewer node hashes, whatever the size of the tree.

use std::ops::Range;

use crate::error::MerkleError;
use crate::hash::Hash;
use crate::plan::Node;
use crate::root::root;

/// Which levels of a tree are kept: every `stride`-th one from the leaves up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Levels {
    stride: u32,
}

/// Consecutive nodes of one kept level: the nodes one read fetches, whose root is a [`Node`]'s hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// The kept level.
    pub level: u32,
    /// The first node's index on that level.
    pub start: u64,
    /// How many nodes (a power of two).
    pub count: u64,
}

/// The largest stride: a group of `2^16` hashes is 2 MiB.
const MAX_STRIDE: u32 = 16;

impl Levels {
    /// Keeps every `stride`-th level.
    ///
    /// # Errors
    ///
    /// [`MerkleError::Stride`] unless `1 <= stride <= 16`.
    pub const fn new(stride: u32) -> Result<Self, MerkleError> {
        if stride == 0 || stride > MAX_STRIDE {
            return Err(MerkleError::Stride(stride));
        }
        Ok(Self { stride })
    }

    /// The distance between kept levels.
    #[must_use]
    pub const fn stride(self) -> u32 {
        self.stride
    }

    /// The kept levels that hold at least one node of a tree of `size` leaves (level 0 always), from 0 up.
    pub fn kept(self, size: u64) -> impl Iterator<Item = u32> {
        (0..u64::BITS)
            .step_by(self.stride as usize)
            .take_while(move |&level| level == 0 || size >> level > 0)
    }

    /// The kept nodes whose root is `node`'s hash: `node` itself when its level is kept.
    #[must_use]
    pub fn run(self, node: Node) -> Run {
        let level = node.level / self.stride * self.stride;
        let below = node.level - level;
        Run {
            level,
            start: node.index << below,
            count: 1 << below,
        }
    }

    /// The nodes of kept `level` in a tree of `size` leaves not yet combined into the kept level above (the last,
    /// incomplete group of `2^stride`): what appending needs to read back.
    #[must_use]
    pub fn tail(self, level: u32, size: u64) -> Range<u64> {
        let width = size.checked_shr(level).unwrap_or(0);
        let group = 1u64 << self.stride;
        width - width % group..width
    }

    /// What appending `leaves` to a tree of `size` leaves adds to each kept level, from level 0 up (the leaves
    /// themselves first; levels that gain nothing are left out at the end). `tails[i]` holds the hashes of
    /// [`tail`](Self::tail) of kept level `i * stride` for `size` (missing entries read as empty).
    ///
    /// # Errors
    ///
    /// [`MerkleError::TailLength`] if a tail that the append combines has the wrong number of hashes.
    pub fn append(self, size: u64, tails: &[Vec<Hash>], leaves: &[Hash]) -> Result<Vec<Vec<Hash>>, MerkleError> {
        let group = 1usize << self.stride;
        let mut added = vec![leaves.to_vec()];
        for (i, level) in self.kept(u64::MAX).enumerate() {
            let tail = tails.get(i).map_or(&[][..], Vec::as_slice);
            let range = self.tail(level, size);
            let expected = usize::try_from(range.end - range.start).unwrap_or(usize::MAX);
            if tail.len() != expected {
                return Err(MerkleError::TailLength {
                    level,
                    expected,
                    got: tail.len(),
                });
            }
            let new = &added[i];
            if tail.len() + new.len() < group {
                break;
            }
            // The tail starts a group, so the complete groups of tail ++ new are the next kept level's new nodes.
            let combined: Vec<Hash> = tail.iter().chain(new).copied().collect();
            let above: Vec<Hash> = combined.chunks_exact(group).map(root).collect();
            added.push(above);
        }
        Ok(added)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    fn leaves(n: u32) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    /// Grows kept levels block by block, as a store would.
    fn grow(levels: Levels, blocks: &[&[Hash]]) -> Vec<Vec<Hash>> {
        let mut kept: Vec<Vec<Hash>> = vec![Vec::new()];
        let mut size = 0u64;
        for block in blocks {
            let tails: Vec<Vec<Hash>> = levels
                .kept(size)
                .zip(&kept)
                .map(|(level, hashes)| {
                    let r = levels.tail(level, size);
                    hashes[r.start as usize..r.end as usize].to_vec()
                })
                .collect();
            for (i, new) in levels
                .append(size, &tails, block)
                .expect("right tails")
                .into_iter()
                .enumerate()
            {
                if kept.len() <= i {
                    kept.push(Vec::new());
                }
                kept[i].extend(new);
            }
            size += block.len() as u64;
        }
        kept
    }

    #[test]
    fn kept_levels_hold_the_perfect_subtrees() {
        let all = leaves(1_000);
        for stride in 1..=5 {
            let levels = Levels::new(stride).expect("valid stride");
            let blocks: Vec<&[Hash]> = all.chunks(37).collect();
            let kept = grow(levels, &blocks);
            for (i, hashes) in kept.iter().enumerate() {
                let level = i as u32 * stride;
                assert_eq!(hashes.len(), all.len() >> level, "stride {stride} level {level}");
                for (index, hash) in hashes.iter().enumerate() {
                    let start = index << level;
                    assert_eq!(*hash, root(&all[start..start + (1 << level)]));
                }
            }
            assert_eq!(levels.kept(all.len() as u64).count(), kept.len());
        }
    }

    #[test]
    fn a_node_is_the_root_of_its_run() {
        let levels = Levels::new(4).expect("valid stride");
        assert_eq!(
            levels.run(Node { level: 6, index: 3 }),
            Run {
                level: 4,
                start: 12,
                count: 4
            }
        );
        assert_eq!(
            levels.run(Node { level: 8, index: 5 }),
            Run {
                level: 8,
                start: 5,
                count: 1
            }
        );
        assert_eq!(levels.tail(0, 37), 32..37);
        assert_eq!(levels.tail(4, 37), 0..2);
        assert_eq!(levels.tail(8, 37), 0..0);
        assert_eq!(levels.tail(64, u64::MAX), 0..0);
    }

    #[test]
    fn wrong_tails_and_strides_are_refused() {
        let levels = Levels::new(2).expect("valid stride");
        let four = leaves(4);
        assert_eq!(
            levels.append(3, &[], &four),
            Err(MerkleError::TailLength {
                level: 0,
                expected: 3,
                got: 0
            })
        );
        assert_eq!(Levels::new(0), Err(MerkleError::Stride(0)));
        assert_eq!(Levels::new(17), Err(MerkleError::Stride(17)));
        assert_eq!(levels.append(0, &[], &[]), Ok(vec![vec![]]));
    }
}
