//! Property tests: generated proofs verify, tampered ones do not, and the compact log agrees with the
//! batch root for every prefix.

use pedigree_merkle::{
    CompactTree, Hash, MerkleError, consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency,
    verify_inclusion,
};
use proptest::prelude::*;

/// Distinct leaf hashes; the seed varies the tree between cases.
fn leaves(seed: u64, n: usize) -> Vec<Hash> {
    (0..n as u64)
        .map(|i| leaf_hash(&[seed.to_be_bytes(), i.to_be_bytes()].concat()))
        .collect()
}

/// A tree size in 1..300 and an index inside it.
fn size_and_index() -> impl Strategy<Value = (usize, u64)> {
    (1usize..300).prop_flat_map(|n| (Just(n), 0..n as u64))
}

/// A tree size in 1..300 and an old size in 1..=n.
fn sizes() -> impl Strategy<Value = (usize, u64)> {
    (1usize..300).prop_flat_map(|n| (Just(n), 1..=n as u64))
}

proptest! {
    #[test]
    fn inclusion_proofs_verify((n, index) in size_and_index(), seed in any::<u64>()) {
        let leaves = leaves(seed, n);
        let head = root(&leaves);
        let proof = inclusion_proof(&leaves, index)?;
        prop_assert_eq!(
            verify_inclusion(&leaves[index as usize], index, n as u64, &proof, &head),
            Ok(())
        );
    }

    #[test]
    fn inclusion_tampering_fails(
        (n, index) in (2usize..300).prop_flat_map(|n| (Just(n), 0..n as u64)),
        other in any::<prop::sample::Index>(),
        element in any::<prop::sample::Index>(),
        bit in 0usize..256,
        seed in any::<u64>(),
    ) {
        let leaves = leaves(seed, n);
        let head = root(&leaves);
        let size = n as u64;
        let leaf = leaves[index as usize];
        let proof = inclusion_proof(&leaves, index)?;

        let mut flipped = proof.clone();
        let i = element.index(flipped.len());
        flipped[i][bit / 8] ^= 1 << (bit % 8);
        prop_assert_eq!(
            verify_inclusion(&leaf, index, size, &flipped, &head),
            Err(MerkleError::RootMismatch)
        );

        let wrong = (index + 1 + other.index(n - 1) as u64) % size;
        prop_assert_ne!(wrong, index);
        prop_assert!(verify_inclusion(&leaf, wrong, size, &proof, &head).is_err());
        prop_assert!(verify_inclusion(&leaf, index + size, size, &proof, &head).is_err());
        prop_assert!(verify_inclusion(&leaves[wrong as usize], index, size, &proof, &head).is_err());
    }

    #[test]
    fn compact_tree_matches_root_for_every_prefix(n in 0usize..300, seed in any::<u64>()) {
        let leaves = leaves(seed, n);
        let mut tree = CompactTree::new();
        prop_assert_eq!(tree.root(), root(&[]));
        for (i, leaf) in leaves.iter().enumerate() {
            tree.push(*leaf);
            prop_assert_eq!(tree.size(), i as u64 + 1);
            prop_assert_eq!(tree.root(), root(&leaves[..=i]));
        }
        let restored = CompactTree::from_frontier(tree.size(), tree.frontier().to_vec())?;
        prop_assert_eq!(restored, tree);
    }

    #[test]
    fn consistency_proofs_verify((n, old) in sizes(), seed in any::<u64>()) {
        let leaves = leaves(seed, n);
        let old_root = root(&leaves[..old as usize]);
        let new_root = root(&leaves);
        let proof = consistency_proof(&leaves, old)?;
        prop_assert_eq!(verify_consistency(old, n as u64, &old_root, &new_root, &proof), Ok(()));
    }

    #[test]
    fn consistency_tampering_fails(
        (n, old) in (2usize..300).prop_flat_map(|n| (Just(n), 1..n as u64)),
        element in any::<prop::sample::Index>(),
        bit in 0usize..256,
        delta in 1u64..300,
        seed in any::<u64>(),
    ) {
        let leaves = leaves(seed, n);
        let new = n as u64;
        let old_root = root(&leaves[..old as usize]);
        let new_root = root(&leaves);
        let proof = consistency_proof(&leaves, old)?;

        let mut flipped = proof.clone();
        let i = element.index(flipped.len());
        flipped[i][bit / 8] ^= 1 << (bit % 8);
        prop_assert!(verify_consistency(old, new, &old_root, &new_root, &flipped).is_err());

        let wrong_old = (old + delta) % new;
        if wrong_old != old {
            prop_assert!(verify_consistency(wrong_old, new, &old_root, &new_root, &proof).is_err());
        }
        // No check of a wrong *new* size with the true new root: the root does not commit to the size,
        // so e.g. the proof for 1 -> 17 also verifies as 1 -> 18 (leaf 16's hash stands in for the
        // subtree over leaves 16..18). Signed tree heads bind the size, not this proof.
        prop_assert!(verify_consistency(old, new, &new_root, &old_root, &proof).is_err());
        prop_assert!(verify_consistency(old, new, &old_root, &old_root, &proof).is_err());
    }
}
