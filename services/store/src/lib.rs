//! Pedigree's state in Redis: a cache of the block log, written only by the sequencer.
//!
//! Keys (all values are protobuf encodings of `pedigree.v1` messages unless said otherwise):
//! - `p:{gtin14}{serial}` -> `PackRecord`
//! - `g:{gtin14}` -> `1` when any pack of that GTIN was commissioned (tells unknown product from unknown serial)
//! - `e:{32-byte event id}` -> `EventOutcome`
//! - `b:{height}` -> `Block`
//! - `head` -> height of the last applied block, decimal
//!
//! A block's effects are written in one MULTI/EXEC transaction together with `head`, so a reader (or a sequencer
//! resuming after a crash) sees either all of a block or none of it.

#![forbid(unsafe_code)]

use pedigree_core::Hash;
use pedigree_core::pb::{Block, EventOutcome, PackRecord};
use prost::Message;
use redis::aio::ConnectionManager;

/// What went wrong talking to Redis or reading what it holds.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis holds a value under '{key}' that does not decode: {source}")]
    Corrupt { key: String, source: prost::DecodeError },
}

pub type Result<T> = std::result::Result<T, StoreError>;

fn pack_key(key: &str) -> String {
    format!("p:{key}")
}

fn product_key(gtin: &str) -> String {
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

fn decode<M: Message + Default>(key: impl Into<String>, bytes: &[u8]) -> Result<M> {
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
    pub packs: Vec<(&'a str, &'a PackRecord)>,
    pub products: Vec<&'a str>,
    pub outcomes: Vec<(Hash, EventOutcome)>,
}

/// A cheap-to-clone handle on the store (one multiplexed, auto-reconnecting connection).
#[derive(Clone)]
pub struct Store {
    con: ConnectionManager,
}

impl Store {
    pub async fn connect(url: &str) -> Result<Self> {
        let client = redis::Client::open(url)?;
        let con = ConnectionManager::new(client).await?;
        Ok(Self { con })
    }

    /// Height of the last applied block (0 if none).
    pub async fn head(&self) -> Result<u64> {
        let mut con = self.con.clone();
        let head: Option<u64> = redis::cmd("GET").arg(HEAD).query_async(&mut con).await?;
        Ok(head.unwrap_or(0))
    }

    /// Pack records for `keys` (pack keys as made by `pedigree_core::state::pack_key`), in one round trip.
    pub async fn packs(&self, keys: &[String]) -> Result<Vec<Option<PackRecord>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut con = self.con.clone();
        let mut cmd = redis::cmd("MGET");
        keys.iter().for_each(|k| {
            cmd.arg(pack_key(k));
        });
        let raw: Vec<Option<Vec<u8>>> = cmd.query_async(&mut con).await?;
        raw.iter()
            .zip(keys)
            .map(|(bytes, k)| bytes.as_deref().map(|b| decode(pack_key(k), b)).transpose())
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

    /// Applies a block's effects and moves `head`, atomically.
    pub async fn write_block(&self, write: &BlockWrite<'_>) -> Result<()> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (key, record) in &write.packs {
            pipe.set(pack_key(key), record.encode_to_vec()).ignore();
        }
        for gtin in &write.products {
            pipe.set(product_key(gtin), 1).ignore();
        }
        for (id, outcome) in &write.outcomes {
            pipe.set(event_key(id), outcome.encode_to_vec()).ignore();
        }
        pipe.set(block_key(write.height), write.block).ignore();
        pipe.set(HEAD, write.height).ignore();
        let mut con = self.con.clone();
        pipe.query_async::<()>(&mut con).await?;
        Ok(())
    }

    /// What a scan needs, in one round trip: whether the product is known, and the pack.
    pub async fn lookup(&self, gtin: &str, key: &str) -> Result<(bool, Option<PackRecord>)> {
        let mut con = self.con.clone();
        let (known, raw): (bool, Option<Vec<u8>>) = redis::pipe()
            .exists(product_key(gtin))
            .get(pack_key(key))
            .query_async(&mut con)
            .await?;
        let pack = raw.as_deref().map(|b| decode(pack_key(key), b)).transpose()?;
        Ok((known, pack))
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
