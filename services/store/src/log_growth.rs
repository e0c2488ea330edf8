//! What a block adds to the log's kept levels (`l:{level}`) and its proof index (`x:{height}`), computed before the
//! write script runs: the new leaves with the tails of the kept levels read back from Redis make the new nodes of
//! each kept level (O(1) amortised hashes per leaf). The script checks each level's length before appending, so a
//! tail read from any other log state than the block's parent is refused, never written.

use pedigree_core::Hash;
use pedigree_core::merkle::root;

use crate::block_write::BlockWrite;
use crate::error::{Result, StoreError};
use crate::proof_index::{BlockIndex, HASH_LEN};
use crate::schema::{HEAD, LOG_LEVELS, VERSION, check_layout, log_level_key};
use crate::store::Store;

/// A block's additions to the log.
#[derive(Debug)]
pub(crate) struct LogGrowth {
    /// Per kept level: its key, its length in bytes before the block, the bytes to append.
    pub levels: Vec<(String, u64, Vec<u8>)>,
    /// The block's proof index.
    pub index: Vec<u8>,
}

/// What the block write does after reading the log's state.
#[derive(Debug)]
pub(crate) enum Growth {
    /// `head` is the block's parent: these are the block's additions.
    Ready(LogGrowth),
    /// `head` is not the block's parent (nothing is to be written).
    Refused { head: u64 },
}

/// The reads of the tails of the log's kept levels at `size` leaves: (level, first node, node count), non-empty ones.
fn tail_reads(size: u64) -> Vec<(u32, u64, u64)> {
    LOG_LEVELS
        .kept(size)
        .map(|level| {
            let r = LOG_LEVELS.tail(level, size);
            (level, r.start, r.end - r.start)
        })
        .collect()
}

fn add_tail_reads(pipe: &mut redis::Pipeline, reads: &[(u32, u64, u64)]) {
    for (level, start, count) in reads.iter().filter(|(_, _, count)| *count > 0) {
        pipe.cmd("GETRANGE")
            .arg(log_level_key(*level))
            .arg(start * HASH_LEN)
            .arg((start + count) * HASH_LEN - 1);
    }
}

/// The tails from the answers to [`add_tail_reads`]' commands.
fn parse_tails(reads: &[(u32, u64, u64)], raw: impl IntoIterator<Item = Option<Vec<u8>>>) -> Result<Vec<Vec<Hash>>> {
    let mut raw = raw.into_iter();
    reads
        .iter()
        .map(|(level, _, count)| match count {
            0 => Ok(Vec::new()),
            n => hashes(&raw.next().flatten().unwrap_or_default(), *n, || log_level_key(*level)),
        })
        .collect()
}

impl Store {
    /// Reads `head`, the layout version and the tails of the log's kept levels in one round trip, and computes what
    /// `write`'s block adds when `head` is `expected_head` (the script checks all of this again, atomically).
    pub(crate) async fn log_growth(&self, write: &BlockWrite<'_>, expected_head: u64) -> Result<Growth> {
        let index = BlockIndex::of_block(write.block)?;
        let reads = tail_reads(index.prefix.first_leaf);
        let mut pipe = redis::pipe();
        pipe.get(HEAD).get(VERSION);
        add_tail_reads(&mut pipe, &reads);
        let mut con = self.con.clone();
        let raw: Vec<Option<Vec<u8>>> = pipe.query_async(&mut con).await?;
        let mut raw = raw.into_iter();
        let head = match raw.next().flatten() {
            None => 0,
            Some(bytes) => std::str::from_utf8(&bytes)
                .ok()
                .and_then(|h| h.parse().ok())
                .ok_or_else(|| StoreError::ProofData("head is not a number".into()))?,
        };
        if head != expected_head {
            return Ok(Growth::Refused { head });
        }
        let version = raw.next().flatten();
        if head > 0 {
            check_layout(version.as_deref())?;
        }
        let tails = parse_tails(&reads, raw)?;
        Ok(Growth::Ready(growth(&index, &tails, &write.leaves)?))
    }

    /// The tails of the log's kept levels when it holds `size` leaves (see `Levels::tail`), in one round trip.
    pub(crate) async fn log_tails(&self, size: u64) -> Result<Vec<Vec<Hash>>> {
        let reads = tail_reads(size);
        if reads.iter().all(|(_, _, count)| *count == 0) {
            return Ok(vec![Vec::new(); reads.len()]);
        }
        let mut pipe = redis::pipe();
        add_tail_reads(&mut pipe, &reads);
        let mut con = self.con.clone();
        let raw: Vec<Option<Vec<u8>>> = pipe.query_async(&mut con).await?;
        parse_tails(&reads, raw)
    }
}

/// What a block of `leaves` whose index is `index` adds, given the log's tails before it.
pub(crate) fn growth(index: &BlockIndex, tails: &[Vec<Hash>], leaves: &[Hash]) -> Result<LogGrowth> {
    if index.events.len() != leaves.len() {
        return Err(StoreError::BadBlock(format!(
            "it holds {} events, the write {} leaves",
            index.events.len(),
            leaves.len()
        )));
    }
    let first = index.prefix.first_leaf;
    let added = LOG_LEVELS.append(first, tails, leaves)?;
    // Every level the log has before or after the block is checked; those that gain nothing get nothing appended.
    let after = first + leaves.len() as u64;
    let levels = LOG_LEVELS
        .kept(after)
        .enumerate()
        .map(|(i, level)| {
            let bytes = added.get(i).map(|new| new.concat()).unwrap_or_default();
            (log_level_key(level), (first >> level) * HASH_LEN, bytes)
        })
        .collect();
    let own = LOG_LEVELS.append(0, &[], leaves)?;
    Ok(LogGrowth {
        levels,
        index: index.encode(&own),
    })
}

/// Splits `bytes` read from `key` into `count` hashes.
pub(crate) fn hashes(bytes: &[u8], count: u64, key: impl FnOnce() -> String) -> Result<Vec<Hash>> {
    if bytes.len() as u64 != count * HASH_LEN {
        return Err(StoreError::ProofData(format!(
            "{} holds {} bytes where {count} hashes should be",
            key(),
            bytes.len()
        )));
    }
    Ok(bytes
        .chunks_exact(HASH_LEN as usize)
        .map(|c| c.try_into().unwrap_or_default())
        .collect())
}

/// The root of `count` hashes read from `key` (a kept run: a node's hash).
pub(crate) fn run_root(bytes: &[u8], count: u64, key: impl FnOnce() -> String) -> Result<Hash> {
    Ok(root(&hashes(bytes, count, key)?))
}
