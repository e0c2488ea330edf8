//! Tree heads (RFC 9162 section 2.1.1) and the tree-shape arithmetic shared by proofs and the log.
//!
//! The RFC defines the root recursively, splitting at the largest power of two below `n`. That tree is
//! exactly the sequence of perfect subtrees named by the set bits of `n` (its "frontier"), folded from the
//! right, so [`root`] builds the frontier in a fixed stack array as it streams over the leaves: no
//! recursion, no heap allocation, `n - 1` node hashes.

use crate::hash::{Hash, empty_root, node_hash};

/// A frontier holds one hash per set bit of the leaf count, so 64 entries cover any `u64` size.
pub(crate) const MAX_FRONTIER: usize = u64::BITS as usize;

/// Computes the Merkle tree hash of `leaves`, which must already be leaf hashes.
///
/// Returns [`empty_root`] for no leaves and the leaf hash itself for a single leaf.
#[must_use]
pub fn root(leaves: &[Hash]) -> Hash {
    let mut frontier = [[0u8; 32]; MAX_FRONTIER];
    let mut len = 0;
    for (absorbed, leaf) in leaves.iter().enumerate() {
        let mut carry = *leaf;
        // Each trailing one bit of the count so far is a perfect subtree of the same height as `carry`,
        // waiting for a right sibling: merge, exactly like incrementing a binary counter.
        let mut count = absorbed;
        while count & 1 == 1 {
            len -= 1;
            carry = node_hash(&frontier[len], &carry);
            count >>= 1;
        }
        frontier[len] = carry;
        len += 1;
    }
    fold_frontier(&frontier[..len])
}

/// Folds perfect-subtree roots (largest, leftmost first) into the tree head.
///
/// The rightmost, smallest subtrees pair up first, which is what the RFC's split at the largest power of
/// two produces when unrolled.
pub(crate) fn fold_frontier(frontier: &[Hash]) -> Hash {
    match frontier.split_last() {
        None => empty_root(),
        Some((last, rest)) => rest.iter().rev().fold(*last, |acc, left| node_hash(left, &acc)),
    }
}

/// The RFC's split point `k` for a tree of `n >= 2` leaves: the largest power of two strictly below `n`.
pub(crate) fn split_point(n: usize) -> usize {
    debug_assert!(n >= 2, "only trees of two or more leaves split");
    // For n >= 2, n - 1 >= 1 and its highest set bit is the largest power of two that is < n.
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// Converts a tree size or index that fits a slice to `u64`; lossless on every platform Rust supports.
pub(crate) fn to_u64(n: usize) -> u64 {
    // usize is at most 64 bits on all supported targets, so this never saturates in practice.
    u64::try_from(n).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    /// The RFC 6962 reference leaves used by the transparency-dev `testonly` package.
    fn reference_leaves() -> Vec<Hash> {
        [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
        .iter()
        .map(|h| leaf_hash(&hex::decode(h).expect("valid hex")))
        .collect()
    }

    /// Roots of the first 1..=8 reference leaves, from RFC 6962's reference tests.
    const REFERENCE_ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    /// The RFC's recursive definition, kept deliberately naive as an oracle.
    fn recursive_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split_point(n);
                node_hash(&recursive_root(&leaves[..k]), &recursive_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn reference_roots_for_sizes_one_to_eight() {
        let leaves = reference_leaves();
        for (size, want) in (1..=8).zip(REFERENCE_ROOTS) {
            assert_eq!(hex::encode(root(&leaves[..size])), want, "size {size}");
        }
    }

    #[test]
    fn empty_and_single_leaf() {
        assert_eq!(root(&[]), empty_root());
        let leaf = leaf_hash(b"only");
        assert_eq!(root(&[leaf]), leaf);
    }

    #[test]
    fn matches_recursive_definition() {
        let leaves: Vec<Hash> = (0u32..200).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for n in 0..=leaves.len() {
            assert_eq!(root(&leaves[..n]), recursive_root(&leaves[..n]), "size {n}");
        }
    }

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        let cases = [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (1000, 512), (1024, 512)];
        for (n, k) in cases {
            assert_eq!(split_point(n), k, "n = {n}");
        }
    }
}
