//! After a chaos run: the chain audited from the blocks topic, every acknowledged event sealed exactly once in the
//! canonical chain, Redis equal to a replay of the log (head, every log leaf), and every pack's verify answer equal
//! to the verdict a replay gives.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use pedigree_core::Hash;
use pedigree_core::audit::Auditor;
use pedigree_core::event::event_id;
use pedigree_core::gs1::parse_scan;
use pedigree_core::pack_key::PackKey;
use pedigree_core::participant::Registry;
use pedigree_core::pb::{Block, Verdict};
use pedigree_core::verdict::{Lookup, today_utc, verdict, verdict_name};
use pedigree_kafka::{ClientSettings, KafkaError};
use pedigree_store::{RedisConfig, Store};
use prost::Message as _;
use serde::Serialize;

use crate::report::ExactlyOnce;
use crate::submit::Pool;
use crate::watcher::Seen;

/// The chain as a replay of the blocks topic saw it.
pub struct Replay {
    pub auditor: Auditor,
    /// Canonical appearances of each event id (accepted or rejected).
    pub seen: HashMap<Hash, Seen>,
}

/// Audits the whole blocks topic (stale competitors skipped, as the verifier skips them); `Err` names the first
/// failure.
pub fn replay(kafka: &ClientSettings, topic: &str, registry: Registry) -> Result<Replay, String> {
    let mut auditor = Auditor::new(registry);
    let mut seen: HashMap<Hash, Seen> = HashMap::new();
    let mut failure = None;
    let at = Instant::now();
    let read = pedigree_kafka::read_range(kafka, topic, 0, 0, |offset, payload| {
        let before = auditor.progress().blocks;
        let outcome = Block::decode(payload)
            .map_err(|e| format!("block at log position {offset} does not decode: {e}"))
            .and_then(|block| {
                auditor.check(offset as u64, &block).map_err(|e| e.to_string())?;
                Ok(block)
            });
        match outcome {
            Ok(block) if auditor.progress().blocks > before => {
                let mut note = |id: Hash, rejected: Option<i32>| {
                    seen.entry(id).and_modify(|s| s.count += 1).or_insert(Seen {
                        first: at,
                        count: 1,
                        rejected,
                    });
                };
                for envelope in &block.events {
                    note(event_id(&envelope.payload), None);
                }
                for rejection in &block.rejected {
                    if let Ok(id) = Hash::try_from(rejection.event_id.as_slice()) {
                        note(id, Some(rejection.code));
                    }
                }
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(e) => {
                failure = Some(e);
                Err(KafkaError::Topic {
                    topic: topic.into(),
                    reason: "audit failed".into(),
                })
            }
        }
    });
    if let Some(failure) = failure {
        return Err(failure);
    }
    read.map_err(|e| format!("reading the blocks topic: {e}"))?;
    Ok(Replay { auditor, seen })
}

/// Redis against the replay.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StoreCheck {
    pub redis_head: u64,
    pub chain_head: u64,
    pub redis_leaves: u64,
    pub chain_leaves: u64,
    /// The Merkle root of Redis' leaves equals the replayed log's.
    pub roots_equal: bool,
    pub ok: bool,
    pub error: Option<String>,
}

/// Waits (up to `wait`) for Redis to reach the chain's head, then compares head and log.
pub async fn store(config: &RedisConfig, replay: &Replay, wait: Duration) -> StoreCheck {
    let tip = replay.auditor.tip();
    let mut out = StoreCheck {
        chain_head: tip.height,
        chain_leaves: tip.log.size(),
        ..StoreCheck::default()
    };
    let deadline = Instant::now() + wait;
    // One connection (it reconnects by itself), then `head` polled until it reaches the chain's.
    let store = loop {
        match Store::connect(config).await {
            Ok(s) => break s,
            Err(e) if Instant::now() > deadline => {
                out.error = Some(format!("connecting to redis: {e}"));
                return out;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    while Instant::now() < deadline && store.head().await.map_or(true, |h| h < tip.height) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let result = async {
        let head = store.head().await?;
        let size = store.log_size().await?;
        let root = store.log_root(size).await?;
        Ok::<_, pedigree_store::StoreError>((head, size, root))
    }
    .await;
    match result {
        Ok((head, size, root)) => {
            out.redis_head = head;
            out.redis_leaves = size;
            out.roots_equal = root == tip.log.root();
            out.ok = head == tip.height && out.redis_leaves == out.chain_leaves && out.roots_equal;
        }
        Err(e) => out.error = Some(format!("reading redis: {e}")),
    }
    out
}

/// Verify answers against the replay.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ReplayCheck {
    pub compared: u64,
    pub equal: u64,
    /// Scans that got no verdict within the wait (UNAVAILABLE throughout, say).
    pub unanswered: u64,
    pub mismatches: Vec<String>,
    pub ok: bool,
}

/// Scans every code in `codes` and compares the verdict with the replay's.
pub async fn verdicts(scans: &Pool, replay: &Replay, codes: &[String], wait: Duration) -> ReplayCheck {
    let mut out = ReplayCheck::default();
    let today = today_utc();
    for code in codes {
        let Ok(scanned) = parse_scan(code) else {
            out.mismatches
                .push(format!("{code}: the chaos run built a code that does not parse"));
            continue;
        };
        let pack = scanned
            .serial
            .as_ref()
            .and_then(|s| replay.auditor.pack(PackKey::new(&scanned.gtin, s).as_str()));
        let lookup = Lookup {
            product: replay.auditor.product(scanned.gtin.as_str()),
            pack,
        };
        let expected = verdict(&scanned, &lookup, today);
        out.compared += 1;
        let deadline = Instant::now() + wait;
        let got = loop {
            match scans.verify(code.clone()).await {
                Ok(r) => break Some(r.get_ref().verdict()),
                Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(200)).await,
                Err(_) => break None,
            }
        };
        match got {
            Some(v) if v == expected => out.equal += 1,
            Some(v) => {
                if out.mismatches.len() < 20 {
                    out.mismatches
                        .push(format!("{code}: verifier {}, replay {}", name(v), name(expected)));
                }
            }
            None => out.unanswered += 1,
        }
    }
    out.ok = out.compared > 0 && out.equal == out.compared;
    out
}

fn name(v: Verdict) -> &'static str {
    verdict_name(v)
}

/// Every acknowledged id sealed exactly once in the canonical chain.
pub fn exactly_once(acked: &[Hash], replay: &Replay) -> ExactlyOnce {
    crate::exactly_once::check(acked, &replay.seen)
}
