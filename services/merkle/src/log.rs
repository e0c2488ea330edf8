//! The append-only tree a sequencer keeps over every event since genesis, stored as its compact frontier.
//!
//! A tree of `n` leaves is the concatenation of perfect subtrees, one per set bit of `n`, largest first.
//! Keeping only those subtree roots (at most 64 hashes) is enough to append and to compute the root, so
//! memory stays O(log n) however long the log grows, and a restarted sequencer can resume from a stored
//! `(size, frontier)` pair without replaying the log.

use crate::error::MerkleError;
use crate::hash::Hash;
use crate::hash::node_hash;
use crate::root::fold_frontier;

/// Append-only tree kept as its compact frontier (at most log2(n)+1 hashes: the roots of the perfect
/// subtrees), so a sequencer can keep one tree over every event since genesis in O(log n) memory and get
/// the root after each append.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompactTree {
    /// Number of leaves appended so far.
    size: u64,
    /// Roots of the perfect subtrees, largest (leftmost) first; `frontier.len() == size.count_ones()`.
    frontier: Vec<Hash>,
}

impl CompactTree {
    /// An empty tree.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Restores a tree from a stored size and frontier, e.g. after a sequencer restart.
    ///
    /// The frontier's hashes cannot be checked without the leaves, only its shape; callers should compare
    /// the restored [`root`](Self::root) against the last signed root.
    ///
    /// # Errors
    ///
    /// [`MerkleError::FrontierLength`] unless the frontier holds exactly one hash per set bit of `size`.
    pub fn from_frontier(size: u64, frontier: Vec<Hash>) -> Result<Self, MerkleError> {
        let expected = size.count_ones() as usize;
        if frontier.len() != expected {
            return Err(MerkleError::FrontierLength {
                size,
                expected,
                got: frontier.len(),
            });
        }
        Ok(Self { size, frontier })
    }

    /// Number of leaves appended so far.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Roots of the perfect subtrees, largest (leftmost) first; persist this with [`size`](Self::size).
    #[must_use]
    pub fn frontier(&self) -> &[Hash] {
        &self.frontier
    }

    /// Appends one leaf hash (the output of [`leaf_hash`](crate::leaf_hash)).
    ///
    /// Costs O(1) amortised node hashes, O(log n) at worst. A tree cannot hold more than `u64::MAX`
    /// leaves; reaching that would take centuries at any realistic rate, so it is not handled.
    pub fn push(&mut self, leaf_hash: Hash) {
        let mut carry = leaf_hash;
        // Like incrementing a binary counter: each trailing one bit of the size is a perfect subtree of
        // the same height as `carry`, which now gets its right sibling and merges upward.
        let mut count = self.size;
        while count & 1 == 1 {
            match self.frontier.pop() {
                Some(left) => carry = node_hash(&left, &carry),
                // Unreachable while the frontier/size invariant holds, which every constructor enforces.
                None => break,
            }
            count >>= 1;
        }
        self.frontier.push(carry);
        self.size += 1;
    }

    /// The tree head of everything appended so far; [`empty_root`](crate::empty_root) when empty.
    ///
    /// Costs one node hash per frontier entry beyond the first (at most 63).
    #[must_use]
    pub fn root(&self) -> Hash {
        fold_frontier(&self.frontier)
    }
}

impl Extend<Hash> for CompactTree {
    fn extend<I: IntoIterator<Item = Hash>>(&mut self, leaf_hashes: I) {
        for leaf in leaf_hashes {
            self.push(leaf);
        }
    }
}

impl FromIterator<Hash> for CompactTree {
    fn from_iter<I: IntoIterator<Item = Hash>>(leaf_hashes: I) -> Self {
        let mut tree = Self::new();
        tree.extend(leaf_hashes);
        tree
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{empty_root, leaf_hash};
    use crate::root::root;

    fn leaves(n: u32) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn empty_tree() {
        let tree = CompactTree::new();
        assert_eq!(tree.size(), 0);
        assert!(tree.frontier().is_empty());
        assert_eq!(tree.root(), empty_root());
    }

    #[test]
    fn root_matches_batch_root_for_every_prefix() {
        let all = leaves(130);
        let mut tree = CompactTree::new();
        for (i, leaf) in all.iter().enumerate() {
            tree.push(*leaf);
            assert_eq!(tree.size(), i as u64 + 1);
            assert_eq!(tree.frontier().len(), (i + 1).count_ones() as usize);
            assert_eq!(tree.root(), root(&all[..=i]), "size {}", i + 1);
        }
    }

    #[test]
    fn frontier_round_trips() {
        let all = leaves(45);
        let tree: CompactTree = all[..37].iter().copied().collect();
        let mut restored = CompactTree::from_frontier(tree.size(), tree.frontier().to_vec()).expect("valid shape");
        assert_eq!(restored, tree);
        restored.extend(all[37..].iter().copied());
        assert_eq!(restored.root(), root(&all));
    }

    #[test]
    fn malformed_frontier_is_rejected() {
        let h = leaf_hash(b"x");
        assert_eq!(
            CompactTree::from_frontier(3, vec![h]),
            Err(MerkleError::FrontierLength {
                size: 3,
                expected: 2,
                got: 1
            })
        );
        assert!(CompactTree::from_frontier(0, vec![h]).is_err());
        assert!(CompactTree::from_frontier(u64::MAX, vec![h; 64]).is_ok());
    }
}
