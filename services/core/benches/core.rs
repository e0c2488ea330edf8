//! Hot paths of the domain: signing and verifying events, checking envelopes, the state machine on single-pack and
//! 1,000-pack events, and sealing a block.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use pedigree_core::block::{BlockContent, Tip, seal};
use pedigree_core::body;
use pedigree_core::context::BlockContext;
use pedigree_core::envelope::{check_envelope, new_payload, sign_payload};
use pedigree_core::keys::{EVENT_TAG, KeyPair};
use pedigree_core::participant::{Genesis, ParticipantEntry, Registry, Role};
use pedigree_core::state::{WorkingSet, apply};
use std::hint::black_box;

const GTIN: &str = "09506000134352";

fn registry(mfr: &KeyPair) -> Registry {
    let genesis = Genesis {
        chain_name: "bench".into(),
        sequencer_public_key: KeyPair::generate().public().to_hex(),
        governance_public_key: None,
        participants: vec![ParticipantEntry {
            id: "mfr".into(),
            role: Role::Manufacturer,
            name: "m".into(),
            gln: None,
            public_key: mfr.public().to_hex(),
        }],
    };
    Registry::from_genesis(&genesis).expect("genesis")
}

fn serials(n: usize, prefix: &str) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:08}")).collect()
}

fn crypto(c: &mut Criterion) {
    let key = KeyPair::generate();
    let payload = vec![7u8; 200];
    let signature = key.sign(EVENT_TAG, &payload);
    c.bench_function("sign 200-byte payload", |b| {
        b.iter(|| key.sign(EVENT_TAG, black_box(&payload)))
    });
    c.bench_function("verify 200-byte payload", |b| {
        b.iter(|| {
            key.public()
                .verify(EVENT_TAG, black_box(&payload), &signature)
                .expect("valid")
        })
    });
}

fn envelopes(c: &mut Criterion) {
    let key = KeyPair::generate();
    let registry = registry(&key);
    let single = sign_payload(
        &key,
        &new_payload(
            &registry.chain_id,
            "mfr",
            body::commission(GTIN, "L1", "281231", &["S1"]),
        ),
    );
    let bulk = sign_payload(
        &key,
        &new_payload(
            &registry.chain_id,
            "mfr",
            body::commission(GTIN, "L1", "281231", &serials(1000, "B")),
        ),
    );
    c.bench_function("check_envelope single-pack", |b| {
        b.iter(|| check_envelope(black_box(&single), &registry))
    });
    let mut group = c.benchmark_group("check_envelope 1000 packs");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("bulk", |b| b.iter(|| check_envelope(black_box(&bulk), &registry)));
    group.finish();
}

fn state_machine(c: &mut Criterion) {
    let key = KeyPair::generate();
    let registry = registry(&key);
    let at = BlockContext::new(1, 1_767_225_600_000);
    let event = |b| {
        check_envelope(
            &sign_payload(&key, &new_payload(&registry.chain_id, "mfr", b)),
            &registry,
        )
        .expect("valid")
    };
    let single = event(body::commission(GTIN, "L1", "281231", &["S1"]));
    let bulk = event(body::commission(GTIN, "L1", "281231", &serials(1000, "B")));
    c.bench_function("apply commission 1 pack", |b| {
        b.iter_batched(
            WorkingSet::default,
            |mut ws| apply(&single, at, &mut ws),
            BatchSize::SmallInput,
        )
    });
    let mut group = c.benchmark_group("apply commission 1000 packs");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("bulk", |b| {
        b.iter_batched(
            WorkingSet::default,
            |mut ws| apply(&bulk, at, &mut ws),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn sealing(c: &mut Criterion) {
    let key = KeyPair::generate();
    let sequencer = KeyPair::generate();
    let events: Vec<_> = (0..2000)
        .map(|i| {
            sign_payload(
                &key,
                &new_payload(
                    &[0; 32],
                    "mfr",
                    body::commission(GTIN, "L1", "281231", &[format!("S{i}")]),
                ),
            )
        })
        .collect();
    let mut group = c.benchmark_group("seal block of 2000 events");
    group.throughput(Throughput::Elements(2000));
    group.bench_function("seal", |b| {
        b.iter_batched(
            || BlockContent {
                events: events.clone(),
                rejected: vec![],
                resume_offsets: vec![],
                time_ms: 0,
                epoch: 1,
                registry_root: [0; 32],
            },
            |content| seal(&sequencer, &Tip::genesis([0; 32]), content),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, crypto, envelopes, state_machine, sealing);
criterion_main!(benches);
