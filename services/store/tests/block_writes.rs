//! A block's write on a real redis-server is idempotent: writing the same block again (a retried write, a second
//! sequencer replaying it) changes nothing, not even the log's levels; and Redis freshness as readers see it.

use pedigree_core::history::{Item, Link, encode_links, pack_digest, previous};
use pedigree_core::keys::KeyPair;
use pedigree_core::pack_key::PackKey;
use pedigree_core::participant::{Genesis, ParticipantEntry, Registry, Role};
use pedigree_core::pb::{EventOutcome, PackRecord, PackStatus, ProductRecord, event_outcome};
use pedigree_devstack::Redis;
use pedigree_store::{BlockWrite, Fenced, Freshness, RedisUser, Stale, Store};

mod support;

fn registry() -> Registry {
    let entry = |id: &str| ParticipantEntry {
        id: id.into(),
        role: Role::Manufacturer,
        name: id.into(),
        gln: None,
        public_key: KeyPair::generate().public().to_hex(),
    };
    Registry::from_genesis(&Genesis {
        chain_name: "idempotent".into(),
        sequencer_public_key: KeyPair::generate().public().to_hex(),
        governance_public_key: None,
        participants: vec![entry("mfr")],
    })
    .unwrap()
}

/// Every key with its type and contents, sorted: the whole database, to compare before and after.
async fn dump(redis: &Redis) -> Vec<(Vec<u8>, String, Vec<Vec<u8>>)> {
    let client = redis.admin_config().client().unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let mut keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query_async(&mut con).await.unwrap();
    keys.sort();
    let mut out = Vec::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE").arg(&key).query_async(&mut con).await.unwrap();
        let mut contents: Vec<Vec<u8>> = match kind.as_str() {
            "string" => vec![redis::cmd("GET").arg(&key).query_async(&mut con).await.unwrap()],
            "list" => redis::cmd("LRANGE")
                .arg(&key)
                .arg(0)
                .arg(-1)
                .query_async(&mut con)
                .await
                .unwrap(),
            "hash" => redis::cmd("HGETALL").arg(&key).query_async(&mut con).await.unwrap(),
            other => panic!("unexpected key type {other}"),
        };
        if kind == "hash" {
            // HGETALL's order is not fixed: sort field-value pairs.
            let mut pairs: Vec<Vec<Vec<u8>>> = contents.chunks(2).map(<[_]>::to_vec).collect();
            pairs.sort();
            contents = pairs.concat();
        }
        out.push((key, kind, contents));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writing_the_same_block_twice_changes_nothing() {
    let redis = Redis::start().unwrap();
    let store = Store::connect(&redis.config_for(RedisUser::Sequencer)).await.unwrap();
    let registry = registry();
    let key = PackKey::parse("09506000134352SN00000001").unwrap();
    let mut record = PackRecord {
        lot: "L1".into(),
        expiry: "281231".into(),
        holder: "mfr".into(),
        last_height: 1,
        ..Default::default()
    };
    record.set_status(PackStatus::Active);
    let product = ProductRecord {
        owner: "mfr".into(),
        ..Default::default()
    };
    let outcomes = [(
        [7u8; 32],
        EventOutcome {
            height: 1,
            outcome: Some(event_outcome::Outcome::CommittedHeight(1)),
            ..Default::default()
        },
    )];
    let participants: Vec<_> = registry.records();
    let bytes = support::block(1, 0, 1);
    let item = pack_digest(&key);
    let link = Link {
        at: (1, 3),
        item: Item::Digest(item),
        prev: Some((1, 1)),
    };
    let write = BlockWrite {
        height: 1,
        block: &bytes,
        packs: vec![(&key, &record, true)],
        registry: Some(&registry),
        products: vec![("09506000134352", &product)],
        containers: Vec::new(),
        outcomes: &outcomes,
        leaves: vec![[9u8; 32]],
        participants: &participants,
        sequencer_keys: None,
        offset: Some(0),
        links: encode_links(&[link], |_| unreachable!("no pack named by position")),
        party_events: vec![("acme-pharma", &ACME_EVENTS[..]), ("city-pharmacy", &CITY_EVENTS[..])],
    };
    assert_eq!(store.write_block_if_head(&write).await.unwrap(), Fenced::Written);
    // The block's back links are read back as written; a block not written has none.
    let links = store.block_links(1).await.unwrap().expect("written with the block");
    assert_eq!(previous(&links, 3, &item), Some((1, 1)));
    assert_eq!(store.block_links(2).await.unwrap(), None);
    // Each participant's list of events, read a page at a time by the verifier's user.
    let reader = Store::connect(&redis.config_for(RedisUser::Verifier)).await.unwrap();
    let page = reader.party_events("acme-pharma", 1, 5).await.unwrap();
    assert_eq!((page.entries, page.total, page.kept_from), (vec![(1, 3)], 2, Some(1)));
    let city = reader.party_events("city-pharmacy", 0, 5).await.unwrap();
    assert_eq!((city.entries, city.total), (vec![(1, 3)], 1));
    let none = reader.party_events("north-wholesale", 0, 5).await.unwrap();
    assert_eq!((none.entries, none.total), (vec![], 0));
    let once = dump(&redis).await;
    assert!(
        once.iter()
            .any(|(k, kind, v)| k == b"l:0" && kind == "string" && v == &[vec![9u8; 32]])
    );
    // The same block again, as a retried write or a second sequencer would send it: refused, nothing changed.
    for _ in 0..3 {
        assert_eq!(
            store.write_block_if_head(&write).await.unwrap(),
            Fenced::Refused { head: 1 }
        );
    }
    assert_eq!(dump(&redis).await, once, "a repeated block write changed redis");
    assert_eq!(store.head().await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_see_an_empty_or_rebuilding_redis_as_such() {
    let mut redis = Redis::start().unwrap();
    let store = Store::connect(&redis.config_for(RedisUser::Sequencer)).await.unwrap();
    let reader = Store::connect(&redis.config_for(RedisUser::Verifier)).await.unwrap();
    assert_eq!(reader.freshness().await.unwrap().check(0), Err(Stale::Empty));
    store.init_head().await.unwrap();
    assert_eq!(
        reader.freshness().await.unwrap(),
        Freshness {
            head: Some(0),
            target: 0
        }
    );
    assert_eq!(reader.freshness().await.unwrap().check(0), Ok(0));
    // A replay towards height 5 has begun: not fresh until head gets there (or within the allowed lag).
    store.set_sync_target(5).await.unwrap();
    assert_eq!(
        reader.freshness().await.unwrap().check(0),
        Err(Stale::Rebuilding { head: 0, target: 5 })
    );
    assert_eq!(reader.freshness().await.unwrap().check(5), Ok(0));
    // init_head never moves an existing head.
    let registry = registry();
    let bytes = support::block(1, 0, 0);
    let write = BlockWrite {
        height: 1,
        block: &bytes,
        registry: Some(&registry),
        ..Default::default()
    };
    assert_eq!(store.write_block_if_head(&write).await.unwrap(), Fenced::Written);
    store.init_head().await.unwrap();
    assert_eq!(store.head().await.unwrap(), 1);
    // A restart without persistence: empty again, and said so (the reader's connection comes back by itself).
    redis.restart_empty().unwrap();
    let mut seen = None;
    for _ in 0..100 {
        match reader.freshness().await {
            Ok(f) => {
                seen = Some(f);
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    assert_eq!(seen.map(|f| f.check(u64::MAX)), Some(Err(Stale::Empty)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_may_evict_keys_is_refused() {
    let redis = Redis::start().unwrap();
    let client = redis.admin_config().client().unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("allkeys-lru")
        .query_async(&mut con)
        .await
        .unwrap();
    for user in RedisUser::ALL {
        let refused = Store::connect(&redis.config_for(user)).await.err().expect("refused");
        let message = refused.to_string();
        assert!(
            message.contains("allkeys-lru") && message.contains("noeviction"),
            "{user}: {message}"
        );
    }
}

/// Entries of `pedigree_core::party_index`: (1, 0) and (1, 3) for acme-pharma, (1, 3) for city-pharmacy.
const ACME_EVENTS: [u8; 24] = [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3];
const CITY_EVENTS: [u8; 12] = [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3];
