//! Criterion benchmarks for the sequencer's hot paths: block roots, proofs and log appends.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use pedigree_merkle::{CompactTree, Hash, inclusion_proof, leaf_hash, root, verify_inclusion};

fn leaves(n: u32) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
}

fn bench_root(c: &mut Criterion) {
    for n in [1_000u32, 10_000] {
        let leaves = leaves(n);
        c.bench_function(&format!("root/{n}"), |b| b.iter(|| root(black_box(&leaves))));
    }
}

fn bench_inclusion(c: &mut Criterion) {
    let leaves = leaves(10_000);
    let head = root(&leaves);
    let size = leaves.len() as u64;
    let index = 6_789u64;
    c.bench_function("inclusion/prove+verify/10000", |b| {
        b.iter(|| {
            let proof = inclusion_proof(black_box(&leaves), index).expect("index in range");
            verify_inclusion(&leaves[6_789], index, size, &proof, &head).expect("valid proof");
        })
    });
    let proof = inclusion_proof(&leaves, index).expect("index in range");
    c.bench_function("inclusion/verify/10000", |b| {
        b.iter(|| verify_inclusion(black_box(&leaves[6_789]), index, size, &proof, &head))
    });
}

fn bench_compact_tree(c: &mut Criterion) {
    let leaf = leaf_hash(b"event");
    // Start from a large, irregular size so pushes exercise realistic carry chains.
    let base: CompactTree = leaves(1_000_003).into_iter().collect();
    c.bench_function("compact_tree/push", |b| {
        b.iter_batched_ref(|| base.clone(), |t| t.push(black_box(leaf)), BatchSize::SmallInput)
    });
    c.bench_function("compact_tree/push+root", |b| {
        b.iter_batched_ref(
            || base.clone(),
            |t| {
                t.push(black_box(leaf));
                t.root()
            },
            BatchSize::SmallInput,
        )
    });
    c.bench_function("compact_tree/push_10000", |b| {
        b.iter(|| {
            let mut t = CompactTree::new();
            for i in 0u32..10_000 {
                t.push(black_box(leaf_hash(&i.to_be_bytes())));
            }
            t.root()
        })
    });
}

criterion_group!(benches, bench_root, bench_inclusion, bench_compact_tree);
criterion_main!(benches);
