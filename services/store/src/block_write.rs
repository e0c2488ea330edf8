//! Writing a block's effects: one Lua script ([`crate::script`]) sets them together with `head`, atomically in
//! Redis, so a reader (or a sequencer resuming after a crash) sees either all of a block or none of it; the fenced
//! variant writes only on top of the block's parent. The log's kept levels and the block's proof index are part of
//! those effects (computed by `log_growth`), so a replay of the log rebuilds them like everything else.

use std::collections::BTreeMap;

use pedigree_core::Hash;
use pedigree_core::pack_key::PackKey;
use pedigree_core::participant::{ParticipantRecord, Registry};
use pedigree_core::pb::{ContainerRecord, EventOutcome, PackRecord, ProductRecord};
use pedigree_core::sequencer_keys::SequencerKeyRecord;
use pedigree_core::stored::{StoredError, encode_container};
use prost::Message;

use crate::bucket_writes::bucket_groups;
use crate::buckets::Meta;
use crate::error::{Result, StoreError};
use crate::log_growth::Growth;
use crate::schema::{
    HEAD, HEAD_OFFSET, REGISTRY, REGISTRY_VERSION, SEQUENCER_KEYS, VERSION, block_key, container_key, event_key,
    links_key, party_events_key, product_key, proof_index_key,
};
use crate::script::WRITE_BLOCK;
use crate::store::Store;

/// The effects of one block, as the sequencer writes them.
#[derive(Debug, Default)]
pub struct BlockWrite<'a> {
    pub height: u64,
    pub block: &'a [u8],
    /// Changed packs: pack key, record, and whether the pack is new.
    pub packs: Vec<(&'a PackKey, &'a PackRecord, bool)>,
    /// The registry after the block (packs store participants by registry index).
    pub registry: Option<&'a Registry>,
    pub products: Vec<(&'a str, &'a ProductRecord)>,
    /// Changed containers, by element string.
    pub containers: Vec<(&'a str, &'a ContainerRecord)>,
    pub outcomes: &'a [(Hash, EventOutcome)],
    /// RFC 6962 leaf hashes of the block's accepted events, in block order: what the log (`l:0`) appends; one per
    /// event of `block`, which must be an encoded `Block` (its header gives the block's first leaf in the log).
    pub leaves: Vec<Hash>,
    /// Participants whose record the block changed (every participant for block 1).
    pub participants: &'a [ParticipantRecord],
    /// The sequencer key schedule, when the block rotated the key (kept in the registry hash as [`SEQUENCER_KEYS`]).
    pub sequencer_keys: Option<&'a [SequencerKeyRecord]>,
    /// The block's back links, encoded (`pedigree_core::history::encode_links`; empty bytes for none).
    pub links: Vec<u8>,
    /// Where the block is in the blocks topic (kept as `o` with `head`: a new leader's checkpoint).
    pub offset: Option<i64>,
    /// Each participant's new entries in its list of events (`pedigree_core::party_index`), by participant id.
    pub party_events: Vec<(&'a str, &'a [u8])>,
}

/// What a fenced write did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fenced {
    /// The block's effects and `head` were written.
    Written,
    /// `head` was not the block's parent height, so nothing was written; `head` is this.
    Refused { head: u64 },
}

impl Store {
    /// Applies a block's effects and moves `head` only if `head` is the block's parent height: the fence that keeps
    /// a second writer (a sequencer that lost its lease without knowing) from moving `head` back or applying a block
    /// twice.
    pub async fn write_block_if_head(&self, write: &BlockWrite<'_>) -> Result<Fenced> {
        self.write(write, write.height.saturating_sub(1)).await
    }

    async fn write(&self, write: &BlockWrite<'_>, expected_head: u64) -> Result<Fenced> {
        let layouts = self.grown_layouts(write).await?;
        let log = match self.log_growth(write, expected_head).await? {
            Growth::Ready(log) => log,
            Growth::Refused { head } => return Ok(Fenced::Refused { head }),
        };
        let mut invocation = WRITE_BLOCK.prepare_invoke();
        invocation.key(HEAD).key(VERSION).key(REGISTRY).key(REGISTRY_VERSION);
        invocation.arg(expected_head).arg(write.height).arg(layouts.len());
        for (gtin, (before, after)) in &layouts {
            invocation.arg(*gtin).arg(before.format()).arg(after.format());
        }
        invocation.arg(log.levels.len());
        for (key, length, bytes) in &log.levels {
            invocation.arg(key).arg(*length).arg(bytes);
        }
        let moves = self.moves(&layouts).await?;
        invocation.arg(moves.dels.len());
        for (bucket, fields) in &moves.dels {
            invocation.arg(bucket).arg(fields.len());
            fields.iter().for_each(|f| {
                invocation.arg(f);
            });
        }
        invocation.arg(write.participants.len() + usize::from(write.sequencer_keys.is_some()));
        for record in write.participants {
            let json = serde_json::to_vec(record).expect("a participant record always serializes");
            invocation.arg(&record.id).arg(json);
        }
        if let Some(keys) = write.sequencer_keys {
            let json = serde_json::to_vec(keys).expect("a key schedule always serializes");
            invocation.arg(SEQUENCER_KEYS).arg(json);
        }
        for (gtin, record) in &write.products {
            invocation.key(product_key(gtin)).arg(record.encode_to_vec());
        }
        if !write.containers.is_empty() {
            let registry = write.registry.ok_or(StoreError::Encode(StoredError::UnknownIndex(0)))?;
            for (element, record) in &write.containers {
                let bytes = encode_container(record, registry).map_err(StoreError::Encode)?;
                invocation.key(container_key(element)).arg(bytes);
            }
        }
        for (id, outcome) in write.outcomes {
            invocation.key(event_key(id)).arg(outcome.encode_to_vec());
        }
        invocation.key(block_key(write.height)).arg(write.block);
        invocation.key(proof_index_key(write.height)).arg(log.index);
        invocation.key(links_key(write.height)).arg(&write.links);
        if let Some(offset) = write.offset {
            invocation.key(HEAD_OFFSET).arg(offset);
        }
        let groups = bucket_groups(&write.packs, write.registry, &layouts)?;
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
        invocation.arg(write.party_events.len());
        for (participant, bytes) in &write.party_events {
            invocation.arg(party_events_key(participant)).arg(*bytes);
        }
        let mut con = self.con.clone();
        let answer: i64 = invocation.invoke_async(&mut con).await?;
        Ok(u64::try_from(answer).map_or(Fenced::Written, |head| Fenced::Refused { head }))
    }

    /// The layout before and after the block, for every GTIN whose packs it changes.
    async fn grown_layouts<'a>(&self, write: &BlockWrite<'a>) -> Result<BTreeMap<&'a str, (Meta, Meta)>> {
        let mut created: BTreeMap<&str, u64> = BTreeMap::new();
        for (key, _, new) in &write.packs {
            *created.entry(key.gtin()).or_default() += u64::from(*new);
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
}
