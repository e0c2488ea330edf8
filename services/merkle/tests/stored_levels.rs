//! Property tests: proofs and roots assembled from a tree kept on every `stride`-th level (grown block by block, as
//! the store grows it) equal the ones built from all the leaves, for random sizes, blocks and strides.

use pedigree_merkle::{
    Hash, Levels, ProofPlan, consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency, verify_inclusion,
};
use proptest::prelude::*;

fn leaves(seed: u64, n: usize) -> Vec<Hash> {
    (0..n as u64)
        .map(|i| leaf_hash(&[seed.to_be_bytes(), i.to_be_bytes()].concat()))
        .collect()
}

/// The kept levels after appending `leaves` in blocks of the given sizes, reading tails back as a store does.
fn grow(levels: Levels, leaves: &[Hash], blocks: &[usize]) -> Vec<Vec<Hash>> {
    let mut kept: Vec<Vec<Hash>> = vec![Vec::new()];
    let mut size = 0usize;
    let mut cuts = blocks.iter().cycle();
    while size < leaves.len() {
        let end = (size + cuts.next().copied().unwrap_or(1)).min(leaves.len());
        let tails: Vec<Vec<Hash>> = levels
            .kept(size as u64)
            .zip(&kept)
            .map(|(level, hashes)| {
                let r = levels.tail(level, size as u64);
                hashes[r.start as usize..r.end as usize].to_vec()
            })
            .collect();
        let added = levels
            .append(size as u64, &tails, &leaves[size..end])
            .expect("tails as read");
        for (i, new) in added.into_iter().enumerate() {
            if kept.len() <= i {
                kept.push(Vec::new());
            }
            kept[i].extend(new);
        }
        size = end;
    }
    kept
}

/// Runs a plan against kept levels: each node's hash is the root of its run.
fn run(plan: &ProofPlan, levels: Levels, kept: &[Vec<Hash>]) -> Vec<Hash> {
    let hashes: Vec<Hash> = plan
        .nodes()
        .iter()
        .map(|node| {
            let r = levels.run(*node);
            let level = &kept[(r.level / levels.stride()) as usize];
            root(&level[r.start as usize..(r.start + r.count) as usize])
        })
        .collect();
    plan.assemble(&hashes).expect("one hash per node")
}

fn case() -> impl Strategy<Value = (usize, u64, u64, u32, Vec<usize>)> {
    (1usize..2_500, 1u32..=5, prop::collection::vec(1usize..300, 1..6))
        .prop_flat_map(|(n, stride, blocks)| (Just(n), 0..n as u64, 1..=n as u64, Just(stride), Just(blocks)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn stored_proofs_equal_proofs_from_all_leaves((n, index, old, stride, blocks) in case(), seed in any::<u64>()) {
        let all = leaves(seed, n);
        let levels = Levels::new(stride)?;
        let kept = grow(levels, &all, &blocks);
        for (i, hashes) in kept.iter().enumerate() {
            prop_assert_eq!(hashes.len(), n >> (i as u32 * stride));
        }
        // Every prefix of the kept tree is a tree too: prove within a smaller size than what is kept.
        let size = (index + 1).max(old) + (n as u64 - (index + 1).max(old)) / 2;
        let part = &all[..size as usize];
        let head = run(&ProofPlan::root(size), levels, &kept);
        prop_assert_eq!(&head, &vec![root(part)]);
        let inclusion = run(&ProofPlan::inclusion(index, size)?, levels, &kept);
        prop_assert_eq!(&inclusion, &inclusion_proof(part, index)?);
        prop_assert_eq!(verify_inclusion(&all[index as usize], index, size, &inclusion, &head[0]), Ok(()));
        let consistency = run(&ProofPlan::consistency(old, size)?, levels, &kept);
        prop_assert_eq!(&consistency, &consistency_proof(part, old)?);
        let old_root = run(&ProofPlan::root(old), levels, &kept);
        prop_assert_eq!(verify_consistency(old, size, &old_root[0], &head[0], &consistency), Ok(()));
    }
}
