//! Consistency proofs between two versions of an append-only tree: RFC 9162 section 2.1.4.
//!
//! A proof shows that the tree of `old_size` leaves is a prefix of the tree of `new_size` leaves, so a
//! verifier who trusted the old signed root can accept the new one without re-reading the log.

use crate::error::MerkleError;
use crate::hash::{Hash, node_hash};
use crate::inclusion::decompose;
use crate::root::{root, split_point, to_u64};

/// Builds the proof that the first `old_size` of `leaves` form a prefix of the whole tree
/// (RFC 9162 section 2.1.4.1). `leaves` are leaf hashes.
///
/// Returns an empty proof when `old_size == leaves.len()`, as the RFC does.
///
/// # Errors
///
/// [`MerkleError::OldSizeZero`] for `old_size == 0` (nothing to be consistent with) and
/// [`MerkleError::OldSizeExceedsNew`] when `old_size > leaves.len()`.
pub fn consistency_proof(leaves: &[Hash], old_size: u64) -> Result<Vec<Hash>, MerkleError> {
    let new_size = to_u64(leaves.len());
    check_sizes(old_size, new_size)?;
    let too_big = MerkleError::OldSizeExceedsNew { old_size, new_size };
    let mut m = usize::try_from(old_size).map_err(|_| too_big)?;
    // Iterative SUBPROOF(m, D[lo..hi], complete): `complete` stays true while the old tree is a whole
    // left subtree of the current range, whose hash the verifier already has as the old root.
    let (mut lo, mut hi) = (0, leaves.len());
    let mut complete = true;
    let mut proof = Vec::new();
    while m != hi - lo {
        let k = split_point(hi - lo);
        if m <= k {
            proof.push(root(&leaves[lo + k..hi]));
            hi = lo + k;
        } else {
            proof.push(root(&leaves[lo..lo + k]));
            lo += k;
            m -= k;
            complete = false;
        }
    }
    if !complete {
        proof.push(root(&leaves[lo..hi]));
    }
    // The recursion appends on the way back up, so the innermost hash comes first.
    proof.reverse();
    Ok(proof)
}

/// Checks that `new_root` (of `new_size` leaves) extends `old_root` (of `old_size` leaves)
/// (RFC 9162 section 2.1.4.2).
///
/// Equal sizes verify with an empty proof exactly when the roots are equal.
///
/// # Errors
///
/// [`MerkleError::OldSizeZero`], [`MerkleError::OldSizeExceedsNew`] for impossible sizes,
/// [`MerkleError::WrongProofLength`] if the proof has the wrong number of hashes, and
/// [`MerkleError::OldRootMismatch`] / [`MerkleError::RootMismatch`] if the recomputed old / new
/// root differs from the one supplied.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), MerkleError> {
    check_sizes(old_size, new_size)?;
    let expected = consistency_proof_len(old_size, new_size);
    if proof.len() != expected {
        return Err(MerkleError::WrongProofLength {
            expected,
            got: proof.len(),
        });
    }
    if old_size == new_size {
        return if old_root == new_root {
            Ok(())
        } else {
            Err(MerkleError::RootMismatch)
        };
    }
    let (old, new) = chain_consistency(old_size, new_size, old_root, proof)?;
    if old != *old_root {
        return Err(MerkleError::OldRootMismatch);
    }
    if new != *new_root {
        return Err(MerkleError::RootMismatch);
    }
    Ok(())
}

/// Rejects the size pairs no proof can relate.
fn check_sizes(old_size: u64, new_size: u64) -> Result<(), MerkleError> {
    if old_size == 0 {
        return Err(MerkleError::OldSizeZero);
    }
    if old_size > new_size {
        return Err(MerkleError::OldSizeExceedsNew { old_size, new_size });
    }
    Ok(())
}

/// Runs the RFC 9162 section 2.1.4.2 loop for `0 < old_size < new_size`, returning the (old, new)
/// roots the proof implies.
fn chain_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    proof: &[Hash],
) -> Result<(Hash, Hash), MerkleError> {
    let wrong_length = MerkleError::WrongProofLength {
        expected: consistency_proof_len(old_size, new_size),
        got: proof.len(),
    };
    // When the old tree is a perfect subtree the prover omits its hash: the verifier has it already.
    let (seed, rest) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        proof.split_first().ok_or(wrong_length.clone())?
    };
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    // Skip the levels where the old tree's last node is a right child inside the seed subtree.
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*seed, *seed);
    for c in rest {
        if sn == 0 {
            return Err(wrong_length);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            // A left sibling belongs to both trees.
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            // A right sibling was appended after the old tree, so only the new root includes it.
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(wrong_length);
    }
    Ok((fr, sr))
}

/// The exact number of hashes in a consistency proof for `0 < old_size <= new_size`.
///
/// It is the inclusion path of the old tree's last leaf in the new tree, minus the levels inside the
/// largest perfect subtree ending at that leaf (its hash replaces them), plus that subtree's hash unless
/// it is the whole old tree.
fn consistency_proof_len(old_size: u64, new_size: u64) -> usize {
    if old_size == new_size {
        return 0;
    }
    let (inner, border) = decompose(old_size - 1, new_size);
    let shift = old_size.trailing_zeros() as usize;
    let seed = usize::from(!old_size.is_power_of_two());
    seed + inner.saturating_sub(shift) + border
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    fn leaves(n: u32) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn every_pair_of_small_sizes_verifies() {
        let all = leaves(33);
        for new in 1..=all.len() {
            let new_root = root(&all[..new]);
            for old in 1..=new {
                let proof = consistency_proof(&all[..new], old as u64).expect("valid sizes");
                assert_eq!(proof.len(), consistency_proof_len(old as u64, new as u64));
                let old_root = root(&all[..old]);
                verify_consistency(old as u64, new as u64, &old_root, &new_root, &proof)
                    .unwrap_or_else(|e| panic!("{old} -> {new}: {e}"));
            }
        }
    }

    #[test]
    fn impossible_sizes_are_rejected() {
        let all = leaves(4);
        let r = root(&all);
        assert_eq!(consistency_proof(&all, 0), Err(MerkleError::OldSizeZero));
        assert_eq!(
            consistency_proof(&all, 5),
            Err(MerkleError::OldSizeExceedsNew {
                old_size: 5,
                new_size: 4
            })
        );
        assert_eq!(verify_consistency(0, 0, &r, &r, &[]), Err(MerkleError::OldSizeZero));
        assert_eq!(verify_consistency(0, 4, &r, &r, &[]), Err(MerkleError::OldSizeZero));
        assert!(verify_consistency(5, 4, &r, &r, &[]).is_err());
    }

    #[test]
    fn equal_sizes_need_equal_roots_and_no_proof() {
        let all = leaves(4);
        let r = root(&all);
        assert_eq!(consistency_proof(&all, 4), Ok(vec![]));
        assert_eq!(verify_consistency(4, 4, &r, &r, &[]), Ok(()));
        assert_eq!(
            verify_consistency(4, 4, &r, &all[0], &[]),
            Err(MerkleError::RootMismatch)
        );
        assert!(matches!(
            verify_consistency(4, 4, &r, &r, &[r]),
            Err(MerkleError::WrongProofLength { .. })
        ));
    }

    #[test]
    fn tampering_is_rejected() {
        let all = leaves(11);
        let (old_root, new_root) = (root(&all[..6]), root(&all));
        let proof = consistency_proof(&all, 6).expect("valid sizes");
        assert_eq!(verify_consistency(6, 11, &old_root, &new_root, &proof), Ok(()));
        assert_eq!(
            verify_consistency(6, 11, &new_root, &new_root, &proof),
            Err(MerkleError::OldRootMismatch)
        );
        assert_eq!(
            verify_consistency(6, 11, &old_root, &old_root, &proof),
            Err(MerkleError::RootMismatch)
        );
        assert!(verify_consistency(6, 11, &old_root, &new_root, &[]).is_err());
        assert!(verify_consistency(5, 11, &old_root, &new_root, &proof).is_err());
    }
}
