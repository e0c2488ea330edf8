//! Which stored subtree hashes a proof or a root needs, and how they fold into it: proofs in O(log n) from a tree
//! kept as its perfect subtrees.
//!
//! Every hash an RFC 6962 proof lists (and every root) is the hash of a range of leaves that starts at a multiple of
//! the largest power of two not above its length. Such a range is the concatenation of perfect subtrees aligned to
//! their size ([`Node`]s), largest first, and its hash is their hashes folded from the right, like a tree head from
//! its frontier. A proof's ranges are all perfect but at most one (the one on the tree's ragged right edge), so a
//! proof needs O(log n) nodes. [`ProofPlan`] lists them; the caller fetches their hashes from wherever it keeps
//! them and [`ProofPlan::assemble`] folds those into the proof. No IO here.

use crate::error::MerkleError;
use crate::hash::Hash;
use crate::root::fold_frontier;

/// A perfect subtree aligned to its size: the `2^level` leaves from leaf `index << level` on. Level 0 nodes are the
/// leaves themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Node {
    /// Height of the subtree: it has `2^level` leaves.
    pub level: u32,
    /// Position among the nodes of its level, left to right.
    pub index: u64,
}

/// The nodes a proof (or a root) needs and how they fold into its hashes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProofPlan {
    /// The nodes, output hash after output hash, each hash's nodes largest (leftmost) first.
    nodes: Vec<Node>,
    /// How many consecutive entries of `nodes` fold into each output hash.
    groups: Vec<usize>,
}

impl ProofPlan {
    /// The plan of the root of the first `size` leaves: one output hash ([`empty_root`](crate::empty_root) for 0).
    #[must_use]
    pub fn root(size: u64) -> Self {
        let mut plan = Self::default();
        plan.push_range(0, size);
        plan
    }

    /// The plan of the inclusion proof of leaf `index` in the tree of `size` leaves: its output equals
    /// [`inclusion_proof`](crate::inclusion_proof) of those leaves.
    ///
    /// # Errors
    ///
    /// [`MerkleError::IndexOutOfRange`] unless `index < size`.
    pub fn inclusion(index: u64, size: u64) -> Result<Self, MerkleError> {
        if index >= size {
            return Err(MerkleError::IndexOutOfRange { index, size });
        }
        // The same walk down from the root as `inclusion_proof`, recording ranges instead of hashing them.
        let (mut lo, mut hi, mut target) = (0, size, index);
        let mut ranges = Vec::new();
        while hi - lo > 1 {
            let k = split_point(hi - lo);
            if target < k {
                ranges.push((lo + k, hi));
                hi = lo + k;
            } else {
                ranges.push((lo, lo + k));
                lo += k;
                target -= k;
            }
        }
        Ok(Self::from_ranges(ranges.into_iter().rev()))
    }

    /// The plan of the proof that the tree of `old_size` leaves is a prefix of the tree of `new_size` leaves: its
    /// output equals [`consistency_proof`](crate::consistency_proof) (empty for equal sizes).
    ///
    /// # Errors
    ///
    /// [`MerkleError::OldSizeZero`] for `old_size == 0`, [`MerkleError::OldSizeExceedsNew`] for
    /// `old_size > new_size`.
    pub fn consistency(old_size: u64, new_size: u64) -> Result<Self, MerkleError> {
        if old_size == 0 {
            return Err(MerkleError::OldSizeZero);
        }
        if old_size > new_size {
            return Err(MerkleError::OldSizeExceedsNew { old_size, new_size });
        }
        // RFC 9162 SUBPROOF, iteratively, as in `consistency_proof`.
        let (mut lo, mut hi, mut m) = (0, new_size, old_size);
        let mut complete = true;
        let mut ranges = Vec::new();
        while m != hi - lo {
            let k = split_point(hi - lo);
            if m <= k {
                ranges.push((lo + k, hi));
                hi = lo + k;
            } else {
                ranges.push((lo, lo + k));
                lo += k;
                m -= k;
                complete = false;
            }
        }
        if !complete {
            ranges.push((lo, hi));
        }
        Ok(Self::from_ranges(ranges.into_iter().rev()))
    }

    fn from_ranges(ranges: impl Iterator<Item = (u64, u64)>) -> Self {
        let mut plan = Self::default();
        for (start, end) in ranges {
            plan.push_range(start, end);
        }
        plan
    }

    /// Appends the output hash of leaves `[start, end)`: its perfect subtrees, largest first.
    fn push_range(&mut self, start: u64, end: u64) {
        let before = self.nodes.len();
        let (mut at, mut left) = (start, end - start);
        while left > 0 {
            let level = u64::BITS - 1 - left.leading_zeros();
            debug_assert_eq!(at % (1 << level), 0, "ranges of RFC 6962 trees are aligned");
            self.nodes.push(Node {
                level,
                index: at >> level,
            });
            at += 1 << level;
            left -= 1 << level;
        }
        self.groups.push(self.nodes.len() - before);
    }

    /// The nodes whose hashes [`assemble`](Self::assemble) needs, in the order it needs them. A proof of a tree of
    /// `n` leaves needs at most about `2 log2(n)`.
    #[must_use]
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The number of hashes the plan outputs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether the plan outputs no hash (a proof needing none: one leaf, or equal sizes).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Folds the hashes of [`nodes`](Self::nodes) (same order) into the proof's hashes (or the root).
    ///
    /// # Errors
    ///
    /// [`MerkleError::NodeCount`] unless there is exactly one hash per node.
    pub fn assemble(&self, hashes: &[Hash]) -> Result<Vec<Hash>, MerkleError> {
        if hashes.len() != self.nodes.len() {
            return Err(MerkleError::NodeCount {
                expected: self.nodes.len(),
                got: hashes.len(),
            });
        }
        let mut rest = hashes;
        Ok(self
            .groups
            .iter()
            .map(|&n| {
                let (group, tail) = rest.split_at(n);
                rest = tail;
                fold_frontier(group)
            })
            .collect())
    }
}

/// The RFC's split point for a range of `n >= 2` leaves: the largest power of two strictly below `n`.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2, "only ranges of two or more leaves split");
    1 << (u64::BITS - 1 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{empty_root, leaf_hash};
    use crate::root::root;
    use crate::{consistency_proof, inclusion_proof};

    fn leaves(n: u32) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    /// A node's hash straight from the leaves.
    fn node_hash_of(leaves: &[Hash], node: Node) -> Hash {
        let start = usize::try_from(node.index << node.level).expect("small");
        root(&leaves[start..start + (1 << node.level)])
    }

    fn run(plan: &ProofPlan, leaves: &[Hash]) -> Vec<Hash> {
        let hashes: Vec<Hash> = plan.nodes().iter().map(|n| node_hash_of(leaves, *n)).collect();
        plan.assemble(&hashes).expect("one hash per node")
    }

    #[test]
    fn inclusion_plans_give_the_proofs_of_small_trees() {
        let all = leaves(70);
        for n in 1..=all.len() {
            for index in 0..n as u64 {
                let plan = ProofPlan::inclusion(index, n as u64).expect("in range");
                assert_eq!(
                    run(&plan, &all[..n]),
                    inclusion_proof(&all[..n], index).expect("in range")
                );
            }
        }
    }

    #[test]
    fn consistency_plans_give_the_proofs_of_small_trees() {
        let all = leaves(70);
        for new in 1..=all.len() {
            for old in 1..=new as u64 {
                let plan = ProofPlan::consistency(old, new as u64).expect("valid sizes");
                assert_eq!(
                    run(&plan, &all[..new]),
                    consistency_proof(&all[..new], old).expect("valid")
                );
            }
        }
    }

    #[test]
    fn root_plans_fold_the_frontier() {
        let all = leaves(70);
        for n in 0..=all.len() {
            let plan = ProofPlan::root(n as u64);
            assert_eq!(plan.nodes().len(), n.count_ones() as usize);
            assert_eq!(run(&plan, &all[..n]), vec![root(&all[..n])]);
        }
        assert_eq!(ProofPlan::root(0).assemble(&[]), Ok(vec![empty_root()]));
    }

    #[test]
    fn a_plan_needs_logarithmically_many_nodes() {
        let size = 10_000_000_019u64;
        for index in [0, 1, size / 3, size - 2, size - 1] {
            let plan = ProofPlan::inclusion(index, size).expect("in range");
            assert!(plan.nodes().len() <= 2 * 64, "{index}: {}", plan.nodes().len());
            assert_eq!(plan.len(), crate::inclusion::inclusion_proof_len(index, size));
        }
        let plan = ProofPlan::consistency(size / 2 + 7, size).expect("valid sizes");
        assert!(plan.nodes().len() <= 2 * 64);
        // Every node lies inside the tree.
        for node in plan.nodes() {
            assert!((node.index + 1) << node.level <= size);
        }
    }

    #[test]
    fn impossible_requests_are_refused() {
        assert_eq!(
            ProofPlan::inclusion(5, 5),
            Err(MerkleError::IndexOutOfRange { index: 5, size: 5 })
        );
        assert_eq!(ProofPlan::consistency(0, 3), Err(MerkleError::OldSizeZero));
        assert_eq!(
            ProofPlan::consistency(4, 3),
            Err(MerkleError::OldSizeExceedsNew {
                old_size: 4,
                new_size: 3
            })
        );
        assert_eq!(ProofPlan::consistency(3, 3).map(|p| p.is_empty()), Ok(true));
        let plan = ProofPlan::inclusion(2, 7).expect("in range");
        assert_eq!(
            plan.assemble(&[]),
            Err(MerkleError::NodeCount {
                expected: plan.nodes().len(),
                got: 0
            })
        );
    }
}
