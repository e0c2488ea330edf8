//! The bucketed pack layout on a real redis-server: packs written block after block (growing GTINs, updates of
//! existing packs) all read back, each where the Rust side computes it, with every bucket a small listpack hash.

use pedigree_core::keys::KeyPair;
use pedigree_core::pack_key::PackKey;
use pedigree_core::participant::{Genesis, ParticipantEntry, Registry, Role};
use pedigree_core::pb::{PackRecord, PackStatus};
use pedigree_devstack::Redis;
use pedigree_store::buckets::Meta;
use pedigree_store::schema::{bucket_key, meta_key};

mod support;
use pedigree_store::{BlockWrite, Fenced, RedisUser, Store};

fn registry() -> Registry {
    let key = KeyPair::generate().public().to_hex();
    let entry = |id: &str| ParticipantEntry {
        id: id.into(),
        role: Role::Distributor,
        name: id.into(),
        gln: None,
        public_key: KeyPair::generate().public().to_hex(),
    };
    Registry::from_genesis(&Genesis {
        chain_name: "buckets".into(),
        sequencer_public_key: key.clone(),
        governance_public_key: None,
        participants: vec![entry("mfr"), entry("dist")],
    })
    .unwrap()
}

fn record(holder: &str, height: u64) -> PackRecord {
    let mut record = PackRecord {
        lot: "L1".into(),
        expiry: "281231".into(),
        holder: holder.into(),
        last_height: height,
        ..Default::default()
    };
    record.set_status(PackStatus::Active);
    record
}

const GTINS: [&str; 2] = ["09506000134352", "00000000000017"];

fn key(gtin: &str, i: usize) -> PackKey {
    PackKey::parse(&format!("{gtin}SN{i:08}")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packs_stay_findable_while_their_gtin_grows() {
    let redis = Redis::start().unwrap();
    let store = Store::connect(&redis.config_for(RedisUser::Sequencer)).await.unwrap();
    let registry = registry();
    let mut all: Vec<(PackKey, PackRecord)> = Vec::new();
    // Uneven growth: 1, 47, 2, then 3000 and 9000 at once, then updates of the first 500 alongside 10 new packs.
    let steps: [(u64, usize, usize); 6] = [
        (1, 1, 0),
        (2, 47, 0),
        (3, 2, 0),
        (4, 3000, 0),
        (5, 9000, 0),
        (6, 10, 500),
    ];
    let mut next = 0usize;
    for (height, new, updates) in steps {
        let mut changes: Vec<(PackKey, PackRecord, bool)> = Vec::new();
        for gtin in GTINS {
            for i in next..next + new {
                changes.push((key(gtin, i), record("mfr", height), true));
            }
            for i in 0..updates {
                changes.push((key(gtin, i), record("dist", height), false));
            }
        }
        next += new;
        let bytes = support::block(height, 0, 0);
        let write = BlockWrite {
            height,
            block: &bytes,
            packs: changes.iter().map(|(k, r, c)| (k, r, *c)).collect(),
            registry: Some(&registry),
            ..Default::default()
        };
        assert_eq!(store.write_block_if_head(&write).await.unwrap(), Fenced::Written);
        for (key, record, _) in changes {
            match all.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = record,
                None => all.push((key, record)),
            }
        }
    }
    let keys: Vec<PackKey> = all.iter().map(|(k, _)| k.clone()).collect();
    let read = store.packs(&keys, &registry).await.unwrap();
    for ((key, expected), got) in all.iter().zip(read) {
        assert_eq!(got.as_ref(), Some(expected), "{key}");
    }
    assert_eq!(
        store
            .packs(&[PackKey::parse(&format!("{}SN-NONE", GTINS[0])).unwrap()], &registry)
            .await
            .unwrap(),
        vec![None]
    );
    let client = redis.admin_config().client().unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    for gtin in GTINS {
        let raw: Option<String> = redis::cmd("GET")
            .arg(meta_key(gtin))
            .query_async(&mut con)
            .await
            .unwrap();
        let meta = Meta::parse(raw.as_deref()).unwrap();
        assert_eq!(meta.count, next as u64);
        let mut total = 0;
        for b in 0..meta.buckets() {
            let key = bucket_key(gtin, b);
            let len: u64 = redis::cmd("HLEN").arg(&key).query_async(&mut con).await.unwrap();
            let encoding: String = redis::cmd("OBJECT")
                .arg("ENCODING")
                .arg(&key)
                .query_async(&mut con)
                .await
                .unwrap();
            assert_eq!(encoding, "listpack", "{key} holds {len} entries");
            total += len;
        }
        assert_eq!(total, next as u64, "every pack is in exactly one bucket");
        // A scan finds each pack too, in one round trip after the first.
        let (_, _, pack) = store.lookup(gtin, "SN00000007", &registry).await.unwrap();
        assert_eq!(pack.unwrap().holder, "dist");
        let (_, _, pack) = store.lookup(gtin, "SN00012000", &registry).await.unwrap();
        assert_eq!(pack.unwrap().holder, "mfr");
    }
}
