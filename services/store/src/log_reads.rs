//! Proofs over the log and the parts of a block a proof bundle needs, each in a bounded number of round trips and
//! O(log n) hashes read and hashed, whatever the size of the log or the block: the nodes a
//! [`ProofPlan`] names are read from the kept levels (`l:{level}`, and a block's own levels in its proof index
//! `x:{height}`) by pipelined `GETRANGE`s of at most `2^(stride - 1)` hashes each.

use pedigree_core::Hash;
use pedigree_core::merkle::{Node, ProofPlan};
use pedigree_core::pb::{InclusionProof, SignedEnvelope, SignedHeader};
use prost::Message;

use crate::error::{Result, StoreError};
use crate::log_growth::{hashes, run_root};
use crate::proof_index::{ENTRY_LEN, HASH_LEN, Prefix, Span, entry_offset, level_offset};
use crate::schema::{HEAD, LOG_LEVELS, VERSION, block_key, check_layout, log_level_key, proof_index_key};
use crate::store::Store;

/// What a proof bundle needs of one event of a block.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockEvent {
    pub header: SignedHeader,
    pub envelope: SignedEnvelope,
    /// The event's inclusion in the block's `merkle_root`.
    pub inclusion: InclusionProof,
}

/// Where a node's run is read: a key, the byte offset of its first hash, and how many hashes.
type Read = (String, u64, u64);

impl Store {
    /// The log's size as of `head` (the head block's `tree_size`), in one round trip.
    pub async fn log_size(&self) -> Result<u64> {
        let mut con = self.con.clone();
        let (head, version, len): (Option<u64>, Option<Vec<u8>>, u64) = redis::pipe()
            .get(HEAD)
            .get(VERSION)
            .cmd("STRLEN")
            .arg(log_level_key(0))
            .query_async(&mut con)
            .await?;
        if head.unwrap_or(0) == 0 {
            return Ok(0);
        }
        check_layout(version.as_deref())?;
        Ok(len / HASH_LEN)
    }

    /// The root of the log's first `size` leaves: one round trip.
    pub async fn log_root(&self, size: u64) -> Result<Hash> {
        let [root] = self.log_plans([ProofPlan::root(size)]).await?;
        Ok(root.first().copied().unwrap_or_default())
    }

    /// The inclusion proof of leaf `index` in the log's first `size` leaves, and their root: one round trip.
    pub async fn log_inclusion(&self, index: u64, size: u64) -> Result<(Vec<Hash>, Hash)> {
        let plans = [ProofPlan::inclusion(index, size)?, ProofPlan::root(size)];
        let [proof, root] = self.log_plans(plans).await?;
        Ok((proof, root.first().copied().unwrap_or_default()))
    }

    /// The proof that the log's first `old_size` leaves are a prefix of its first `new_size`, and both roots: one
    /// round trip.
    pub async fn log_consistency(&self, old_size: u64, new_size: u64) -> Result<(Vec<Hash>, Hash, Hash)> {
        let plans = [
            ProofPlan::consistency(old_size, new_size)?,
            ProofPlan::root(old_size),
            ProofPlan::root(new_size),
        ];
        let [proof, old, new] = self.log_plans(plans).await?;
        let first = |h: Vec<Hash>| h.first().copied().unwrap_or_default();
        Ok((proof, first(old), first(new)))
    }

    /// Runs plans over the log's kept levels, reading every node they need (and the layout version) in one round trip.
    async fn log_plans<const N: usize>(&self, plans: [ProofPlan; N]) -> Result<[Vec<Hash>; N]> {
        let reads: Vec<Read> = plans
            .iter()
            .flat_map(|p| p.nodes())
            .map(|node| log_read(*node, 0))
            .collect();
        let (version, runs) = self.read_runs(&reads, vec![redis::Cmd::get(VERSION)]).await?;
        check_layout(version.first().cloned().flatten().as_deref())?;
        let nodes = roots(&reads, runs)?;
        let mut rest = nodes.as_slice();
        let mut out = Vec::with_capacity(N);
        for plan in &plans {
            let (mine, tail) = rest.split_at(plan.nodes().len());
            rest = tail;
            out.push(plan.assemble(mine)?);
        }
        out.try_into()
            .map_err(|_| StoreError::ProofData("a plan went missing".into()))
    }

    /// The index in the log of the leaf `leaf` of block `height` (one of its accepted events), if it is one: two
    /// round trips, and the block's leaves compared (32 bytes per event, no hashing).
    pub async fn log_index_of(&self, height: u64, leaf: &Hash) -> Result<Option<u64>> {
        let Some(prefix) = self.proof_prefix(height).await? else {
            return Ok(None);
        };
        let count = u64::from(prefix.count);
        if count == 0 {
            return Ok(None);
        }
        let mut con = self.con.clone();
        let raw: Vec<u8> = redis::cmd("GETRANGE")
            .arg(log_level_key(0))
            .arg(prefix.first_leaf * HASH_LEN)
            .arg((prefix.first_leaf + count) * HASH_LEN - 1)
            .query_async(&mut con)
            .await?;
        let leaves = hashes(&raw, count, || log_level_key(0))?;
        Ok(leaves
            .iter()
            .position(|l| l == leaf)
            .map(|i| prefix.first_leaf + i as u64))
    }

    /// Block `height`'s proof index prefix; `None` when Redis holds no such block.
    async fn proof_prefix(&self, height: u64) -> Result<Option<Prefix>> {
        let mut con = self.con.clone();
        let (raw, version): (Vec<u8>, Option<Vec<u8>>) = redis::pipe()
            .cmd("GETRANGE")
            .arg(proof_index_key(height))
            .arg(0)
            .arg(entry_offset(0) - 1)
            .get(VERSION)
            .query_async(&mut con)
            .await?;
        if raw.is_empty() {
            check_layout(version.as_deref())?;
            return Ok(None);
        }
        Prefix::parse(&raw)
            .map(Some)
            .ok_or_else(|| StoreError::ProofData(format!("{} is too short", proof_index_key(height))))
    }

    /// Event `index` of block `height` with the block's header and the event's inclusion proof in the block, reading
    /// only those (two round trips, O(log n) hashes); `None` when Redis holds no such block or event.
    pub async fn block_event(&self, height: u64, index: u32) -> Result<Option<BlockEvent>> {
        let key = proof_index_key(height);
        let mut con = self.con.clone();
        let (prefix, entry, version): (Vec<u8>, Vec<u8>, Option<Vec<u8>>) = redis::pipe()
            .cmd("GETRANGE")
            .arg(&key)
            .arg(0)
            .arg(entry_offset(0) - 1)
            .cmd("GETRANGE")
            .arg(&key)
            .arg(entry_offset(index))
            .arg(entry_offset(index) + ENTRY_LEN - 1)
            .get(VERSION)
            .query_async(&mut con)
            .await?;
        if prefix.is_empty() {
            check_layout(version.as_deref())?;
            return Ok(None);
        }
        let corrupt = || StoreError::ProofData(format!("{key} is too short"));
        let prefix = Prefix::parse(&prefix).ok_or_else(corrupt)?;
        if index >= prefix.count {
            return Ok(None);
        }
        let event = Span::parse(&entry).ok_or_else(corrupt)?;
        let plan = ProofPlan::inclusion(u64::from(index), u64::from(prefix.count))?;
        let reads: Vec<Read> = plan.nodes().iter().map(|n| block_read(*n, height, &prefix)).collect();
        let block = block_key(height);
        let spans = [prefix.header, event];
        let extras: Vec<redis::Cmd> = spans
            .iter()
            .map(|span| {
                let mut cmd = redis::cmd("GETRANGE");
                // An empty span would read from the end: read one byte, then cut.
                let last = u64::from(span.offset) + u64::from(span.len).max(1) - 1;
                cmd.arg(&block).arg(span.offset).arg(last);
                cmd
            })
            .collect();
        let (parts, runs) = self.read_runs(&reads, extras).await?;
        let nodes = roots(&reads, runs)?;
        let mut parts = parts.into_iter().zip(spans).map(|(bytes, span)| {
            let bytes = bytes.unwrap_or_default();
            if bytes.len() < span.len as usize {
                return Err(StoreError::ProofData(format!("{block} is shorter than {key} says")));
            }
            Ok(bytes[..span.len as usize].to_vec())
        });
        let (Some(header), Some(envelope)) = (parts.next(), parts.next()) else {
            return Err(StoreError::ProofData("a read went missing".into()));
        };
        let decode_err = |source| StoreError::Corrupt {
            key: block.clone(),
            source,
        };
        let header = SignedHeader::decode(header?.as_slice()).map_err(decode_err)?;
        let envelope = SignedEnvelope::decode(envelope?.as_slice()).map_err(decode_err)?;
        Ok(Some(BlockEvent {
            header,
            envelope,
            inclusion: InclusionProof {
                leaf_index: u64::from(index),
                tree_size: u64::from(prefix.count),
                hashes: plan.assemble(&nodes)?.iter().map(|h| h.to_vec()).collect(),
            },
        }))
    }

    /// Reads `extras` (whole answers) and the runs in one round trip: the answers to each.
    #[allow(clippy::type_complexity)]
    async fn read_runs(
        &self,
        reads: &[Read],
        extras: Vec<redis::Cmd>,
    ) -> Result<(Vec<Option<Vec<u8>>>, Vec<Option<Vec<u8>>>)> {
        let mut pipe = redis::pipe();
        let n = extras.len();
        for cmd in extras {
            pipe.add_command(cmd);
        }
        for (key, offset, count) in reads {
            pipe.cmd("GETRANGE")
                .arg(key)
                .arg(offset)
                .arg(offset + count * HASH_LEN - 1);
        }
        let mut con = self.con.clone();
        let mut raw: Vec<Option<Vec<u8>>> = pipe.query_async(&mut con).await?;
        let runs = raw.split_off(n.min(raw.len()));
        if runs.len() != reads.len() {
            return Err(StoreError::ProofData("a read went missing".into()));
        }
        Ok((raw, runs))
    }
}

/// The hash of each node from its run as read.
fn roots(reads: &[Read], runs: Vec<Option<Vec<u8>>>) -> Result<Vec<Hash>> {
    reads
        .iter()
        .zip(runs)
        .map(|((key, _, count), bytes)| run_root(&bytes.unwrap_or_default(), *count, || key.clone()))
        .collect()
}

/// Where node `node` of the log is read: its run on kept level `l:{level}`. For a block's own tree, whose leaf 0 is
/// the log's leaf `first_leaf`, this is where its level-0 runs are.
fn log_read(node: Node, first_leaf: u64) -> Read {
    let run = LOG_LEVELS.run(node);
    (log_level_key(run.level), (first_leaf + run.start) * HASH_LEN, run.count)
}
/// Where node `node` of block `height`'s own tree is read: its leaves are the log's from the block's first leaf on,
/// its kept levels above 0 are in its proof index.
fn block_read(node: Node, height: u64, prefix: &Prefix) -> Read {
    let run = LOG_LEVELS.run(node);
    if run.level == 0 {
        return log_read(node, prefix.first_leaf);
    }
    (
        proof_index_key(height),
        level_offset(LOG_LEVELS, run.level, prefix.count) + run.start * HASH_LEN,
        run.count,
    )
}
