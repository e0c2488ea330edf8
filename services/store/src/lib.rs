//! Pedigree's state in Redis: a cache of the block log, written only by the sequencer.
//!
//! Keys (all values are protobuf encodings of `pedigree.v1` messages unless said otherwise):
//! - `p:{gtin14}:{bucket}` -> hash of serial -> `StoredPack` (a `PackRecord` in compact form, see
//!   `pedigree_core::stored`); `m:{gtin14}` -> the GTIN's bucket layout (see [`buckets`])
//! - `g:{gtin14}` -> `ProductRecord` once any pack of that GTIN was commissioned: its owner, whether it was
//!   withdrawn, which lots were recalled (also tells an unknown product from an unknown serial)
//! - `e:{32-byte event id}` -> `EventOutcome`
//! - `b:{height}` -> `Block`
//! - `head` -> height of the last applied block, decimal
//! - `l` -> list of the RFC 6962 leaf hashes (32 bytes each) of every committed event since genesis, in log order:
//!   the append-only log that block headers' `tree_size`/`log_root` commit to, kept for inclusion and consistency
//!   proofs
//! - `r` -> hash of participant id -> `ParticipantRecord` (JSON): every participant as of `head` (the genesis ones
//!   are written with block 1, later ones when a governance event changes them); `rv` -> height of the last block
//!   that changed `r`, so readers re-read the registry only when it moved
//!
//! A block's effects are written by one Lua script together with `head` (atomic in Redis), so a reader (or a
//! sequencer resuming after a crash) sees either all of a block or none of it; the fenced variant writes only on top
//! of the block's parent.

#![forbid(unsafe_code)]

mod bucket_writes;
pub mod buckets;
mod registry;
mod scan;
mod script;

pub use registry::RegistryView;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use bucket_writes::bucket_groups;
use buckets::{Meta, bucket_key, meta_key};
use pedigree_core::participant::Registry;
use pedigree_core::state::split_pack_key;
use pedigree_core::stored::{ParticipantIds, StoredError, decode_pack};
use script::WRITE_BLOCK;

use pedigree_core::Hash;
use pedigree_core::participant::ParticipantRecord;
use pedigree_core::pb::{Block, EventOutcome, PackRecord, ProductRecord};
use prost::Message;
use redis::aio::ConnectionManager;

/// What went wrong talking to Redis or reading what it holds.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis holds a value under '{key}' that does not decode: {source}")]
    Corrupt { key: String, source: prost::DecodeError },
    #[error("redis holds a log leaf of {0} bytes, not 32")]
    BadLeaf(usize),
    #[error("redis holds a pack under '{key}' that does not decode: {source}")]
    Stored { key: String, source: StoredError },
    #[error("a pack to write does not encode: {0}")]
    Encode(StoredError),
    #[error("redis holds a bucket layout under '{0}' that does not parse")]
    BadMeta(String),
    #[error("redis holds a participant record that does not parse: {0}")]
    BadParticipant(#[from] pedigree_core::participant::GenesisError),
}

pub type Result<T> = std::result::Result<T, StoreError>;

pub(crate) fn product_key(gtin: &str) -> String {
    format!("g:{gtin}")
}

fn event_key(id: &Hash) -> Vec<u8> {
    let mut key = Vec::with_capacity(34);
    key.extend_from_slice(b"e:");
    key.extend_from_slice(id);
    key
}

fn block_key(height: u64) -> String {
    format!("b:{height}")
}

const HEAD: &str = "head";
pub(crate) const REGISTRY: &str = "r";
pub(crate) const REGISTRY_VERSION: &str = "rv";

/// How long any one command may take before the store reports Redis unavailable.
const RESPONSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
const LEAVES: &str = "l";

/// What a fenced write did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fenced {
    /// The block's effects and `head` were written.
    Written,
    /// `head` was not the block's parent height, so nothing was written; `head` is this.
    Refused { head: u64 },
}

/// Decodes a stored pack; `key` names it in the error only, so it is built only then.
pub(crate) fn decode_stored(
    key: impl FnOnce() -> String,
    bytes: &[u8],
    registry: &(impl ParticipantIds + ?Sized),
) -> Result<PackRecord> {
    decode_pack(bytes, registry).map_err(|source| StoreError::Stored { key: key(), source })
}

pub(crate) fn decode<M: Message + Default>(key: impl Into<String>, bytes: &[u8]) -> Result<M> {
    M::decode(bytes).map_err(|source| StoreError::Corrupt {
        key: key.into(),
        source,
    })
}

/// The effects of one block, as the sequencer writes them.
#[derive(Debug, Default)]
pub struct BlockWrite<'a> {
    pub height: u64,
    pub block: &'a [u8],
    /// Changed packs: pack key, record, and whether the pack is new.
    pub packs: Vec<(&'a str, &'a PackRecord, bool)>,
    /// The registry after the block (packs store participants by registry index).
    pub registry: Option<&'a Registry>,
    pub products: Vec<(&'a str, &'a ProductRecord)>,
    pub outcomes: &'a [(Hash, EventOutcome)],
    /// RFC 6962 leaf hashes of the block's accepted events, in block order: what the log `l` appends.
    pub leaves: Vec<Hash>,
    /// Participants whose record the block changed (every participant for block 1).
    pub participants: &'a [ParticipantRecord],
}

/// A cheap-to-clone handle on the store (one multiplexed, auto-reconnecting connection).
#[derive(Clone)]
pub struct Store {
    pub(crate) con: ConnectionManager,
    /// Bucket layouts last seen, by GTIN (readers guess the bucket from it and check in the same round trip).
    layouts: Arc<Mutex<HashMap<String, Meta>>>,
}

impl Store {
    pub async fn connect(url: &str) -> Result<Self> {
        let client = redis::Client::open(url)?;
        // One block's effects are one atomic script: a block of bulk events sets ~100k keys, which takes Redis
        // longer than the client's default 500 ms response timeout.
        let config = redis::aio::ConnectionManagerConfig::new().set_response_timeout(Some(RESPONSE_TIMEOUT));
        let con = ConnectionManager::new_with_config(client, config).await?;
        Ok(Self {
            con,
            layouts: Arc::default(),
        })
    }

    /// Height of the last applied block (0 if none).
    pub async fn head(&self) -> Result<u64> {
        let mut con = self.con.clone();
        let head: Option<u64> = redis::cmd("GET").arg(HEAD).query_async(&mut con).await?;
        Ok(head.unwrap_or(0))
    }

    /// Pack records for `keys` (pack keys as made by `pedigree_core::state::pack_key`), in two round trips: the
    /// layouts of their GTINs, then every pack. `last_event_id` is not stored and comes back empty.
    pub async fn packs(&self, keys: &[String], registry: &Registry) -> Result<Vec<Option<PackRecord>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let gtins: Vec<&str> = keys
            .iter()
            .map(|k| split_pack_key(k).0)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let layouts = self.layouts(&gtins).await?;
        // One HMGET per bucket: a bulk block reads ~50 packs per command instead of one.
        let mut by_bucket: HashMap<(&str, u64), Vec<usize>, foldhash::fast::RandomState> = HashMap::default();
        for (i, key) in keys.iter().enumerate() {
            let (gtin, serial) = split_pack_key(key);
            by_bucket
                .entry((gtin, layouts[gtin].bucket(serial)))
                .or_default()
                .push(i);
        }
        let by_bucket: Vec<_> = by_bucket.into_iter().collect();
        let mut pipe = redis::pipe();
        for ((gtin, bucket), members) in &by_bucket {
            let mut cmd = redis::cmd("HMGET");
            cmd.arg(bucket_key(gtin, *bucket));
            members.iter().for_each(|&i| {
                cmd.arg(split_pack_key(&keys[i]).1);
            });
            pipe.add_command(cmd);
        }
        let mut con = self.con.clone();
        let raw: Vec<Vec<Option<Vec<u8>>>> = pipe.query_async(&mut con).await?;
        let mut records = vec![None; keys.len()];
        for ((_, members), values) in by_bucket.iter().zip(raw) {
            for (&i, bytes) in members.iter().zip(values) {
                records[i] = bytes
                    .as_deref()
                    .map(|b| decode_stored(|| keys[i].clone(), b, registry))
                    .transpose()?;
            }
        }
        Ok(records)
    }

    /// The bucket layouts of `gtins`, in one round trip.
    async fn layouts<'a>(&self, gtins: &[&'a str]) -> Result<BTreeMap<&'a str, Meta>> {
        let mut cmd = redis::cmd("MGET");
        gtins.iter().for_each(|g| {
            cmd.arg(meta_key(g));
        });
        let mut con = self.con.clone();
        let raw: Vec<Option<String>> = cmd.query_async(&mut con).await?;
        gtins
            .iter()
            .zip(raw)
            .map(|(g, r)| {
                Ok((
                    *g,
                    Meta::parse(r.as_deref()).ok_or_else(|| StoreError::BadMeta(meta_key(g)))?,
                ))
            })
            .collect()
    }

    /// Whether each event id already has an outcome, in one round trip.
    pub async fn events_seen(&self, ids: &[Hash]) -> Result<Vec<bool>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut con = self.con.clone();
        let mut pipe = redis::pipe();
        ids.iter().for_each(|id| {
            pipe.exists(event_key(id));
        });
        Ok(pipe.query_async(&mut con).await?)
    }

    /// Applies a block's effects and moves `head`, atomically, whatever `head` was (rebuilds, tests).
    pub async fn write_block(&self, write: &BlockWrite<'_>) -> Result<()> {
        self.write(write, None).await.map(|_| ())
    }

    /// Applies a block's effects and moves `head` only if `head` is the block's parent height: the fence that keeps
    /// a second writer (a sequencer that lost its lease without knowing) from moving `head` back or applying a block
    /// twice.
    pub async fn write_block_if_head(&self, write: &BlockWrite<'_>) -> Result<Fenced> {
        self.write(write, Some(write.height.saturating_sub(1))).await
    }

    async fn write(&self, write: &BlockWrite<'_>, expected_head: Option<u64>) -> Result<Fenced> {
        let layouts = self.grown_layouts(write).await?;
        let leaves = &write.leaves;
        let mut invocation = WRITE_BLOCK.prepare_invoke();
        invocation.key(HEAD).key(LEAVES).key(REGISTRY).key(REGISTRY_VERSION);
        invocation
            .arg(expected_head.map_or(-1, |h| h as i64))
            .arg(write.height)
            .arg(layouts.len());
        for (gtin, (before, after)) in &layouts {
            invocation.arg(*gtin).arg(before.format()).arg(after.format());
        }
        let moves = self.moves(&layouts).await?;
        invocation.arg(moves.dels.len());
        for (bucket, fields) in &moves.dels {
            invocation.arg(bucket).arg(fields.len());
            fields.iter().for_each(|f| {
                invocation.arg(f);
            });
        }
        invocation.arg(leaves.len());
        for leaf in leaves {
            invocation.arg(leaf.as_slice());
        }
        invocation.arg(write.participants.len());
        for record in write.participants {
            let json = serde_json::to_vec(record).expect("a participant record always serializes");
            invocation.arg(&record.id).arg(json);
        }
        for (gtin, record) in &write.products {
            invocation.key(product_key(gtin)).arg(record.encode_to_vec());
        }
        for (id, outcome) in write.outcomes {
            invocation.key(event_key(id)).arg(outcome.encode_to_vec());
        }
        invocation.key(block_key(write.height)).arg(write.block);
        let groups = bucket_groups(write, &layouts)?;
        invocation.arg(moves.puts.len() + groups.len());
        for (bucket, pairs) in &moves.puts {
            invocation.arg(bucket).arg(pairs.len());
            for (serial, bytes) in pairs {
                invocation.arg(serial).arg(bytes);
            }
        }
        for (bucket, entries) in &groups {
            invocation.arg(bucket).arg(entries.len());
            for (serial, bytes) in entries {
                invocation.arg(*serial).arg(bytes);
            }
        }
        let mut con = self.con.clone();
        let answer: i64 = invocation.invoke_async(&mut con).await?;
        Ok(u64::try_from(answer).map_or(Fenced::Written, |head| Fenced::Refused { head }))
    }

    /// The layout before and after the block, for every GTIN whose packs it changes.
    async fn grown_layouts<'a>(&self, write: &BlockWrite<'a>) -> Result<BTreeMap<&'a str, (Meta, Meta)>> {
        let mut created: BTreeMap<&str, u64> = BTreeMap::new();
        for (key, _, new) in &write.packs {
            *created.entry(split_pack_key(key).0).or_default() += u64::from(*new);
        }
        if created.is_empty() {
            return Ok(BTreeMap::new());
        }
        let gtins: Vec<&str> = created.keys().copied().collect();
        let before = self.layouts(&gtins).await?;
        Ok(before
            .into_iter()
            .map(|(g, meta)| (g, (meta, meta.grow(created[g]))))
            .collect())
    }

    /// Product records for `gtins`, in one round trip.
    pub async fn products(&self, gtins: &[String]) -> Result<Vec<Option<ProductRecord>>> {
        if gtins.is_empty() {
            return Ok(Vec::new());
        }
        let mut con = self.con.clone();
        let mut cmd = redis::cmd("MGET");
        gtins.iter().for_each(|g| {
            cmd.arg(product_key(g));
        });
        let raw: Vec<Option<Vec<u8>>> = cmd.query_async(&mut con).await?;
        raw.iter()
            .zip(gtins)
            .map(|(bytes, g)| bytes.as_deref().map(|b| decode(product_key(g), b)).transpose())
            .collect()
    }

    pub async fn event_outcome(&self, id: &Hash) -> Result<Option<EventOutcome>> {
        let mut con = self.con.clone();
        let raw: Option<Vec<u8>> = redis::cmd("GET").arg(event_key(id)).query_async(&mut con).await?;
        raw.as_deref().map(|b| decode("e:<id>", b)).transpose()
    }

    pub async fn block(&self, height: u64) -> Result<Option<Block>> {
        let mut con = self.con.clone();
        let raw: Option<Vec<u8>> = redis::cmd("GET").arg(block_key(height)).query_async(&mut con).await?;
        raw.as_deref().map(|b| decode(block_key(height), b)).transpose()
    }

    /// The first `count` leaf hashes of the log.
    pub async fn log_leaves(&self, count: u64) -> Result<Vec<Hash>> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let mut con = self.con.clone();
        let raw: Vec<Vec<u8>> = redis::cmd("LRANGE")
            .arg(LEAVES)
            .arg(0)
            .arg(count - 1)
            .query_async(&mut con)
            .await?;
        raw.iter()
            .map(|h| <Hash>::try_from(h.as_slice()).map_err(|_| StoreError::BadLeaf(h.len())))
            .collect()
    }

    /// Empties the database (tests of the rebuild-from-log path).
    pub async fn flush_all_for_tests(&self) -> Result<()> {
        let mut con = self.con.clone();
        redis::cmd("FLUSHDB").query_async::<()>(&mut con).await?;
        Ok(())
    }

    /// Round trip to Redis, for readiness checks.
    pub async fn ping(&self) -> Result<()> {
        let mut con = self.con.clone();
        redis::cmd("PING").query_async::<()>(&mut con).await?;
        Ok(())
    }
}
