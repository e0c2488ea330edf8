//! Proof latency against the log's size: a real redis-server filled through the store's block write to 10^4, 10^5,
//! 10^6 and 10^7 leaves, timing at each size an inclusion proof (with the root), a consistency proof (with both
//! roots) and a proof bundle's block read (header, one event, its inclusion in a 2,000-event block), all through the
//! store as the verifier calls it. Before the timings, each size prints what Redis holds per leaf, and the old way (the
//! whole leaf list read and hashed) is timed once up to 10^5 for comparison.
//!
//! `cargo bench -p pedigree-store --bench log_proofs` (needs `redis-server` on PATH; Redis grows to about 1 GB).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use pedigree_core::Hash;
use pedigree_core::merkle::{inclusion_proof, leaf_hash, root, verify_consistency, verify_inclusion};
use pedigree_core::pb::{Block, BlockHeader, SignedEnvelope, SignedHeader};
use pedigree_devstack::Redis;
use pedigree_store::{BlockWrite, Fenced, RedisUser, Store};
use prost::Message;
use redis::aio::MultiplexedConnection;

/// Leaves per filling block: the fill goes through the block write, in blocks far larger than real ones to be quick.
const FILL_BLOCK: u64 = 1 << 16;
/// Events in the block that bundles are read from: a full 1 MiB block.
const BUNDLE_BLOCK: u64 = 2_000;

fn leaf(i: u64) -> Hash {
    leaf_hash(&i.to_be_bytes())
}

/// A small xorshift: the same requests on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn block(height: u64, first_leaf: u64, events: u64) -> Vec<u8> {
    let header = BlockHeader {
        height,
        tree_size: first_leaf + events,
        event_count: events as u32,
        ..Default::default()
    };
    Block {
        header: Some(SignedHeader {
            header: header.encode_to_vec(),
            signature: vec![1; 64],
        }),
        events: (0..events)
            .map(|i| SignedEnvelope {
                payload: (first_leaf + i).to_be_bytes().to_vec(),
                signature: Vec::new(),
                signer: String::new(),
            })
            .collect(),
        ..Default::default()
    }
    .encode_to_vec()
}

/// Grows the log to `size` leaves through the store's block write; the last block holds [`BUNDLE_BLOCK`] events.
async fn fill(store: &Store, height: &mut u64, from: u64, size: u64) {
    let mut at = from;
    while at < size {
        let left = size - at;
        let events = if left <= BUNDLE_BLOCK {
            left
        } else {
            (left - BUNDLE_BLOCK).min(FILL_BLOCK)
        };
        *height += 1;
        let bytes = block(*height, at, events);
        let write = BlockWrite {
            height: *height,
            block: &bytes,
            leaves: (at..at + events).map(leaf).collect(),
            ..Default::default()
        };
        assert_eq!(
            store.write_block_if_head(&write).await.expect("written"),
            Fenced::Written
        );
        at += events;
    }
}

async fn memory(con: &mut MultiplexedConnection, key: &str) -> u64 {
    let used: Option<u64> = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(key)
        .arg("SAMPLES")
        .arg(0)
        .query_async(con)
        .await
        .expect("MEMORY USAGE");
    used.unwrap_or(0)
}

/// Redis bytes per leaf of the kept levels, and per event of the last block's proof index and bytes.
async fn report_memory(con: &mut MultiplexedConnection, size: u64, height: u64) {
    let mut levels = 0;
    for level in (0..64).step_by(4) {
        levels += memory(con, &format!("l:{level}")).await;
    }
    let index = memory(con, &format!("x:{height}")).await;
    let block = memory(con, &format!("b:{height}")).await;
    println!(
        "size {size}: kept levels {:.2} B/leaf; last block ({BUNDLE_BLOCK} events): proof index {:.2} B/event, block {:.2} B/event",
        levels as f64 / size as f64,
        index as f64 / BUNDLE_BLOCK as f64,
        block as f64 / BUNDLE_BLOCK as f64,
    );
}

/// The old way, once: the leaf list `l` of `size` leaves read whole (LRANGE) and hashed into a proof and root.
async fn old_way(con: &mut MultiplexedConnection, size: u64) {
    let _: () = redis::cmd("DEL").arg("l").query_async(con).await.expect("DEL");
    for start in (0..size).step_by(10_000) {
        let mut push = redis::cmd("RPUSH");
        push.arg("l");
        (start..(start + 10_000).min(size)).for_each(|i| {
            push.arg(leaf(i).as_slice());
        });
        let _: () = push.query_async(con).await.expect("RPUSH");
    }
    let list = memory(con, "l").await;
    let started = Instant::now();
    let raw: Vec<Vec<u8>> = redis::cmd("LRANGE")
        .arg("l")
        .arg(0)
        .arg(size - 1)
        .query_async(con)
        .await
        .expect("LRANGE");
    let leaves: Vec<Hash> = raw.iter().map(|h| h.as_slice().try_into().expect("32 bytes")).collect();
    let proof = inclusion_proof(&leaves, size / 3).expect("in range");
    let head = root(&leaves);
    let took = started.elapsed();
    black_box((proof, head));
    println!(
        "size {size}: old way (LRANGE all + hash) {:.1} ms for one inclusion proof; the list held {:.2} B/leaf",
        took.as_secs_f64() * 1e3,
        list as f64 / size as f64
    );
    let _: () = redis::cmd("DEL").arg("l").query_async(con).await.expect("DEL");
}

fn log_proofs(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let redis = Redis::start().expect("redis-server");
    let (store, mut admin) = rt.block_on(async {
        let store = Store::connect(&redis.config_for(RedisUser::Sequencer))
            .await
            .expect("store");
        let client = redis.admin_config().client().expect("client");
        (store, client.get_multiplexed_async_connection().await.expect("admin"))
    });
    let reader = rt
        .block_on(Store::connect(&redis.config_for(RedisUser::Verifier)))
        .expect("reader");
    let (mut height, mut size) = (0u64, 0u64);
    let mut group = c.benchmark_group("log_proofs");
    group
        .sample_size(100)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    for target in [10_000u64, 100_000, 1_000_000, 10_000_000] {
        let started = Instant::now();
        rt.block_on(fill(&store, &mut height, size, target));
        size = target;
        println!("size {size}: filled in {:.1} s", started.elapsed().as_secs_f64());
        rt.block_on(report_memory(&mut admin, size, height));
        // At 10^6 the old way's LRANGE alone outlasts the client's 0.5 s response timeout.
        if size <= 100_000 {
            rt.block_on(old_way(&mut admin, size));
        }
        // Each answer checked once: the proofs verify against the roots.
        rt.block_on(async {
            let index = size / 3 + 1;
            let (proof, head) = reader.log_inclusion(index, size).await.expect("inclusion");
            verify_inclusion(&leaf(index), index, size, &proof, &head).expect("inclusion verifies");
            let (proof, old, new) = reader.log_consistency(size / 2 + 3, size).await.expect("consistency");
            assert_eq!(new, head);
            verify_consistency(size / 2 + 3, size, &old, &new, &proof).expect("consistency verifies");
        });
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        group.bench_function(format!("inclusion/{size}"), |b| {
            b.iter(|| {
                let index = rng.below(size);
                rt.block_on(reader.log_inclusion(index, size)).expect("inclusion")
            })
        });
        group.bench_function(format!("consistency/{size}"), |b| {
            b.iter(|| {
                let old = 1 + rng.below(size);
                rt.block_on(reader.log_consistency(old, size)).expect("consistency")
            })
        });
        group.bench_function(format!("bundle_block_read/{size}"), |b| {
            b.iter(|| {
                let event = rng.below(BUNDLE_BLOCK) as u32;
                rt.block_on(reader.block_event(height, event)).expect("block event")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, log_proofs);
criterion_main!(benches);
