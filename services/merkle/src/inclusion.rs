//! Inclusion proofs (audit paths): RFC 9162 section 2.1.3.
//!
//! A proof lists the sibling subtree hashes from the leaf up to the root, so a verifier holding only the
//! leaf hash, its index, the tree size and the signed root can recompute that root.

use crate::error::MerkleError;
use crate::hash::{Hash, node_hash};
use crate::root::{root, split_point, to_u64};

/// Builds the inclusion proof of leaf `index` in the tree of `leaves` (RFC 9162 section 2.1.3.1).
///
/// `leaves` are leaf hashes. The proof is ordered from the leaf's sibling up to the root's child. Cost is
/// O(n) hashing in total, since the sibling subtrees partition the other leaves.
///
/// # Errors
///
/// [`MerkleError::IndexOutOfRange`] if `index` is not below `leaves.len()`.
pub fn inclusion_proof(leaves: &[Hash], index: u64) -> Result<Vec<Hash>, MerkleError> {
    let size = to_u64(leaves.len());
    let out_of_range = MerkleError::IndexOutOfRange { index, size };
    if index >= size {
        return Err(out_of_range);
    }
    let mut target = usize::try_from(index).map_err(|_| out_of_range)?;
    // Walk down from the root instead of recursing, narrowing [lo, hi) to the subtree holding `target`
    // and recording the other half; the RFC lists those siblings bottom-up, so reverse at the end.
    let (mut lo, mut hi) = (0, leaves.len());
    let mut proof = Vec::with_capacity(proof_capacity(leaves.len()));
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if target < k {
            proof.push(root(&leaves[lo + k..hi]));
            hi = lo + k;
        } else {
            proof.push(root(&leaves[lo..lo + k]));
            lo += k;
            target -= k;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// Checks that `leaf_hash` is leaf `index` of the tree of `tree_size` leaves with head `root`
/// (RFC 9162 section 2.1.3.2).
///
/// # Errors
///
/// [`MerkleError::IndexOutOfRange`] if `index >= tree_size` (so any empty tree),
/// [`MerkleError::WrongProofLength`] if the proof is not exactly as long as such a proof must be, and
/// [`MerkleError::RootMismatch`] if the recomputed root differs from `root`.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    tree_size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), MerkleError> {
    if index >= tree_size {
        return Err(MerkleError::IndexOutOfRange { index, size: tree_size });
    }
    let expected = inclusion_proof_len(index, tree_size);
    if proof.len() != expected {
        return Err(MerkleError::WrongProofLength {
            expected,
            got: proof.len(),
        });
    }
    if chain_inclusion(leaf_hash, index, tree_size, proof)? != *root {
        return Err(MerkleError::RootMismatch);
    }
    Ok(())
}

/// Runs the RFC 9162 section 2.1.3.2 loop, returning the root the proof implies.
///
/// Requires `index < tree_size`. `fn_` tracks the node's index on each level and `sn` the last node's,
/// so the loop knows whether the sibling lies left or right and when the right border is reached.
fn chain_inclusion(leaf_hash: &Hash, index: u64, tree_size: u64, proof: &[Hash]) -> Result<Hash, MerkleError> {
    let wrong_length = MerkleError::WrongProofLength {
        expected: inclusion_proof_len(index, tree_size),
        got: proof.len(),
    };
    let (mut fn_, mut sn) = (index, tree_size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if sn == 0 {
            return Err(wrong_length);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            // On the right border a left child has no right sibling: climb past the levels where the
            // node is simply promoted.
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(wrong_length);
    }
    Ok(r)
}

/// The exact number of hashes in an inclusion proof for leaf `index` of a tree of `size` leaves.
///
/// Below the level where the paths to `index` and to the last leaf diverge ("inner"), every level
/// contributes a sibling; above it the path runs along the right border, where only levels at which
/// the node is a right child contribute one (a set bit of the shifted index).
pub(crate) fn inclusion_proof_len(index: u64, size: u64) -> usize {
    let (inner, border) = decompose(index, size);
    inner + border
}

/// Splits an inclusion path for `index` in a tree of `size > index` leaves into its (inner, border)
/// lengths; shared with consistency proofs, which reuse the path of the old tree's last leaf.
pub(crate) fn decompose(index: u64, size: u64) -> (usize, usize) {
    let inner = u64::BITS - (index ^ (size - 1)).leading_zeros();
    // A shift by 64 would overflow; the border above the top level is empty.
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner as usize, border as usize)
}

/// An upper bound on proof length, to allocate once: one hash per level of the tree.
fn proof_capacity(size: usize) -> usize {
    (usize::BITS - size.leading_zeros()) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    fn leaves(n: u32) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn every_leaf_of_small_trees_verifies() {
        for n in 1..=33u32 {
            let leaves = leaves(n);
            let head = root(&leaves);
            for (i, leaf) in leaves.iter().enumerate() {
                let index = i as u64;
                let proof = inclusion_proof(&leaves, index).expect("index in range");
                assert_eq!(proof.len(), inclusion_proof_len(index, u64::from(n)));
                verify_inclusion(leaf, index, u64::from(n), &proof, &head).expect("valid proof");
            }
        }
    }

    #[test]
    fn single_leaf_proof_is_empty() {
        let leaf = leaf_hash(b"x");
        assert_eq!(inclusion_proof(&[leaf], 0), Ok(vec![]));
        assert_eq!(verify_inclusion(&leaf, 0, 1, &[], &leaf), Ok(()));
    }

    #[test]
    fn out_of_range_index_is_rejected() {
        let leaves = leaves(5);
        assert_eq!(
            inclusion_proof(&leaves, 5),
            Err(MerkleError::IndexOutOfRange { index: 5, size: 5 })
        );
        assert!(inclusion_proof(&[], 0).is_err());
        let leaf = leaves[0];
        assert_eq!(
            verify_inclusion(&leaf, 0, 0, &[], &leaf),
            Err(MerkleError::IndexOutOfRange { index: 0, size: 0 })
        );
    }

    #[test]
    fn tampering_is_rejected() {
        let leaves = leaves(7);
        let head = root(&leaves);
        let proof = inclusion_proof(&leaves, 3).expect("index in range");
        assert_eq!(
            verify_inclusion(&leaves[4], 3, 7, &proof, &head),
            Err(MerkleError::RootMismatch)
        );
        assert!(matches!(
            verify_inclusion(&leaves[3], 3, 7, &proof[1..], &head),
            Err(MerkleError::WrongProofLength { .. })
        ));
        let mut flipped = proof.clone();
        flipped[0][0] ^= 1;
        assert_eq!(
            verify_inclusion(&leaves[3], 3, 7, &flipped, &head),
            Err(MerkleError::RootMismatch)
        );
    }

    #[test]
    fn huge_sizes_do_not_overflow() {
        let leaf = leaf_hash(b"x");
        let len = inclusion_proof_len(u64::MAX - 1, u64::MAX);
        assert_eq!(len, 63);
        assert!(verify_inclusion(&leaf, u64::MAX - 1, u64::MAX, &[leaf; 63], &leaf).is_err());
        assert!(verify_inclusion(&leaf, 0, u64::MAX, &[], &leaf).is_err());
    }
}
