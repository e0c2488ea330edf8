//! Log proofs and per-event block proofs read from a real redis-server's kept levels and proof indexes equal the ones
//! built from all the leaves; state of the older layout (the log as one list) is refused by the block write and
//! upgraded to exactly what block writes produce.

use pedigree_core::Hash;
use pedigree_core::merkle::{consistency_proof, inclusion_proof, leaf_hash, root};
use pedigree_core::pb::{Block, InclusionProof};
use pedigree_devstack::Redis;
use pedigree_store::{BlockWrite, Fenced, RedisUser, Store, StoreError};
use prost::Message;

mod support;

/// Events per block: empty blocks, single events, sizes around the kept levels' groups (16, 256) and above.
const BLOCKS: [usize; 12] = [0, 1, 3, 16, 17, 0, 300, 5, 255, 1, 64, 513];

fn leaf(i: usize) -> Hash {
    leaf_hash(&(i as u64).to_be_bytes())
}

/// Writes every block of [`BLOCKS`]; returns the blocks' bytes and all leaves.
async fn write_all(store: &Store) -> (Vec<Vec<u8>>, Vec<Hash>) {
    let (mut blocks, mut leaves) = (Vec::new(), Vec::new());
    for (i, &events) in BLOCKS.iter().enumerate() {
        let height = i as u64 + 1;
        let bytes = support::block(height, leaves.len() as u64, events);
        let new: Vec<Hash> = (leaves.len()..leaves.len() + events).map(leaf).collect();
        let write = BlockWrite {
            height,
            block: &bytes,
            leaves: new.clone(),
            ..Default::default()
        };
        assert_eq!(store.write_block_if_head(&write).await.unwrap(), Fenced::Written);
        leaves.extend(new);
        blocks.push(bytes);
    }
    (blocks, leaves)
}

/// Sizes and indexes to try: the ends, around every group boundary, and a spread between.
fn samples(n: usize) -> Vec<usize> {
    let mut out: Vec<usize> = (0..n).step_by(37).collect();
    let edges = [
        1,
        15,
        16,
        17,
        255,
        256,
        257,
        511,
        512,
        513,
        1024,
        n.saturating_sub(1),
        n,
    ];
    for edge in edges.into_iter().filter(|&e| e > 0 && e <= n) {
        out.push(edge - 1);
        out.push(edge.min(n - 1));
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proofs_from_kept_levels_equal_proofs_from_all_leaves() {
    let redis = Redis::start().unwrap();
    let store = Store::connect(&redis.config_for(RedisUser::Sequencer)).await.unwrap();
    let (blocks, leaves) = write_all(&store).await;
    let reader = Store::connect(&redis.config_for(RedisUser::Verifier)).await.unwrap();
    let n = leaves.len();
    assert_eq!(reader.log_size().await.unwrap(), n as u64);
    for size in samples(n).into_iter().map(|s| s + 1) {
        let part = &leaves[..size];
        assert_eq!(reader.log_root(size as u64).await.unwrap(), root(part));
        for index in samples(size) {
            let (proof, head) = reader.log_inclusion(index as u64, size as u64).await.unwrap();
            assert_eq!(
                proof,
                inclusion_proof(part, index as u64).unwrap(),
                "leaf {index} of {size}"
            );
            assert_eq!(head, root(part));
        }
        for old in samples(size).into_iter().map(|s| s + 1) {
            let (proof, old_root, new_root) = reader.log_consistency(old as u64, size as u64).await.unwrap();
            assert_eq!(proof, consistency_proof(part, old as u64).unwrap(), "{old} -> {size}");
            assert_eq!((old_root, new_root), (root(&leaves[..old]), root(part)));
        }
    }
    assert!(reader.log_inclusion(n as u64, n as u64).await.is_err());

    // Each block's events, with their inclusion in the block, without reading the block whole.
    let mut first = 0;
    for (i, bytes) in blocks.iter().enumerate() {
        let height = i as u64 + 1;
        let block = Block::decode(bytes.as_slice()).unwrap();
        let own = &leaves[first..first + block.events.len()];
        for index in samples(block.events.len().max(1))
            .into_iter()
            .filter(|&e| e < own.len())
        {
            let event = reader
                .block_event(height, index as u32)
                .await
                .unwrap()
                .expect("an event");
            assert_eq!(Some(&event.header), block.header.as_ref());
            assert_eq!(event.envelope, block.events[index]);
            let expected = InclusionProof {
                leaf_index: index as u64,
                tree_size: own.len() as u64,
                hashes: inclusion_proof(own, index as u64)
                    .unwrap()
                    .iter()
                    .map(|h| h.to_vec())
                    .collect(),
            };
            assert_eq!(event.inclusion, expected, "event {index} of block {height}");
            assert_eq!(
                reader.log_index_of(height, &own[index]).await.unwrap(),
                Some((first + index) as u64)
            );
        }
        assert_eq!(reader.block_event(height, own.len() as u32).await.unwrap(), None);
        assert_eq!(reader.log_index_of(height, &leaf(n + 1)).await.unwrap(), None);
        first += own.len();
    }
    assert_eq!(reader.block_event(BLOCKS.len() as u64 + 1, 0).await.unwrap(), None);
}

/// Every key's name and value under a prefix (as the admin sees them).
async fn strings(redis: &Redis, pattern: &str) -> Vec<(String, Vec<u8>)> {
    let client = redis.admin_config().client().unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let mut keys: Vec<String> = redis::cmd("KEYS").arg(pattern).query_async(&mut con).await.unwrap();
    keys.sort();
    let mut out = Vec::new();
    for key in keys {
        let value: Vec<u8> = redis::cmd("GET").arg(&key).query_async(&mut con).await.unwrap();
        out.push((key, value));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_of_the_older_layout_is_refused_then_upgraded_to_what_block_writes_make() {
    // What block writes make.
    let native = Redis::start().unwrap();
    let store = Store::connect(&native.config_for(RedisUser::Sequencer)).await.unwrap();
    let (blocks, leaves) = write_all(&store).await;

    // The same chain as layout 1 held it: blocks, head, and the log as one list; no `v`, no levels, no indexes.
    let old = Redis::start().unwrap();
    let client = old.admin_config().client().unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    for (i, bytes) in blocks.iter().enumerate() {
        let _: () = redis::cmd("SET")
            .arg(format!("b:{}", i + 1))
            .arg(bytes)
            .query_async(&mut con)
            .await
            .unwrap();
    }
    for chunk in leaves.chunks(100) {
        let mut push = redis::cmd("RPUSH");
        push.arg("l");
        chunk.iter().for_each(|l| {
            push.arg(l.as_slice());
        });
        let _: () = push.query_async(&mut con).await.unwrap();
    }
    let _: () = redis::cmd("SET")
        .arg("head")
        .arg(blocks.len())
        .query_async(&mut con)
        .await
        .unwrap();

    let upgrader = Store::connect(&old.config_for(RedisUser::Sequencer)).await.unwrap();
    let reader = Store::connect(&old.config_for(RedisUser::Verifier)).await.unwrap();
    assert!(matches!(reader.log_size().await, Err(StoreError::OldLayout { .. })));
    assert!(matches!(
        reader.log_inclusion(0, 1).await,
        Err(StoreError::OldLayout { .. })
    ));
    assert!(matches!(
        reader.block_event(2, 0).await,
        Err(StoreError::OldLayout { .. })
    ));
    // A block written on it before the upgrade is refused, and nothing of it is written.
    let next = support::block(blocks.len() as u64 + 1, leaves.len() as u64, 1);
    let write = BlockWrite {
        height: blocks.len() as u64 + 1,
        block: &next,
        leaves: vec![leaf(leaves.len())],
        ..Default::default()
    };
    let refused = upgrader.write_block_if_head(&write).await.unwrap_err();
    assert!(refused.to_string().contains("layout"), "{refused}");
    assert_eq!(upgrader.head().await.unwrap(), blocks.len() as u64);

    assert!(upgrader.upgrade_layout().await.unwrap());
    assert!(
        !upgrader.upgrade_layout().await.unwrap(),
        "a second upgrade has nothing to do"
    );
    for pattern in ["l:*", "x:*", "v"] {
        assert_eq!(
            strings(&old, pattern).await,
            strings(&native, pattern).await,
            "{pattern}"
        );
    }
    assert!(strings(&old, "l").await.is_empty(), "the list is gone");
    assert_eq!(reader.log_size().await.unwrap(), leaves.len() as u64);
    // Blocks go on from there.
    assert_eq!(upgrader.write_block_if_head(&write).await.unwrap(), Fenced::Written);
    assert_eq!(reader.log_size().await.unwrap(), leaves.len() as u64 + 1);
    let (proof, head) = reader.log_inclusion(3, leaves.len() as u64 + 1).await.unwrap();
    let mut all = leaves.clone();
    all.push(leaf(leaves.len()));
    assert_eq!((proof, head), (inclusion_proof(&all, 3).unwrap(), root(&all)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_that_disagrees_with_the_log_is_refused() {
    let redis = Redis::start().unwrap();
    let store = Store::connect(&redis.config_for(RedisUser::Sequencer)).await.unwrap();
    let first = support::block(1, 0, 2);
    let write = BlockWrite {
        height: 1,
        block: &first,
        leaves: vec![leaf(0), leaf(1)],
        ..Default::default()
    };
    assert_eq!(store.write_block_if_head(&write).await.unwrap(), Fenced::Written);
    // Its header says the log held 5 leaves before it: the log's levels say 2.
    let wrong = support::block(2, 5, 1);
    let write = BlockWrite {
        height: 2,
        block: &wrong,
        leaves: vec![leaf(5)],
        ..Default::default()
    };
    assert!(store.write_block_if_head(&write).await.is_err());
    // Leaves that are not one per event.
    let short = support::block(2, 2, 3);
    let write = BlockWrite {
        height: 2,
        block: &short,
        leaves: vec![leaf(2)],
        ..Default::default()
    };
    assert!(matches!(
        store.write_block_if_head(&write).await,
        Err(StoreError::BadBlock(_))
    ));
    assert_eq!(store.head().await.unwrap(), 1);
    assert_eq!(store.log_size().await.unwrap(), 2);
}
