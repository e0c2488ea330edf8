//! Reading what the sequencer wrote: the head, packs (for the sequencer, in bulk), one pack for a scan, products,
//! event outcomes and blocks. Registry reads are [`crate::registry`]'s.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use pedigree_core::Hash;
use pedigree_core::pack_key::PackKey;
use pedigree_core::participant::Registry;
use pedigree_core::pb::{Block, BlockLinks, ContainerRecord, EventOutcome, PackRecord, ProductRecord};
use pedigree_core::stored::{ParticipantIds, decode_container, decode_pack};
use prost::Message;

use crate::buckets::Meta;
use crate::error::{Result, StoreError};
use crate::freshness::Freshness;
use crate::schema::{
    HEAD, HEAD_OFFSET, PARTY_EVENTS_FROM, SYNC_TARGET, block_key, bucket_key, container_key, event_key, links_key,
    meta_key, party_events_key, product_key,
};
use crate::store::Store;

/// Decodes a stored pack; `key` names it in the error only, so it is built only then.
fn decode_stored(
    key: impl FnOnce() -> String,
    bytes: &[u8],
    registry: &(impl ParticipantIds + ?Sized),
) -> Result<PackRecord> {
    decode_pack(bytes, registry).map_err(|source| StoreError::Stored { key: key(), source })
}

fn decode<M: Message + Default>(key: impl Into<String>, bytes: &[u8]) -> Result<M> {
    M::decode(bytes).map_err(|source| StoreError::Corrupt {
        key: key.into(),
        source,
    })
}

impl Store {
    /// Height of the last applied block (0 if none).
    pub async fn head(&self) -> Result<u64> {
        let mut con = self.con.clone();
        let head: Option<u64> = redis::cmd("GET").arg(HEAD).query_async(&mut con).await?;
        Ok(head.unwrap_or(0))
    }

    /// Where a new leader may resume from: `head`, the blocks-topic offset of that block, and its bytes; `None`
    /// when Redis holds no block (or a block written before offsets were kept).
    pub async fn checkpoint(&self) -> Result<Option<(u64, i64, Vec<u8>)>> {
        let mut con = self.con.clone();
        let (head, offset): (Option<u64>, Option<i64>) =
            redis::pipe().get(HEAD).get(HEAD_OFFSET).query_async(&mut con).await?;
        let (Some(head), Some(offset)) = (head.filter(|&h| h > 0), offset) else {
            return Ok(None);
        };
        let bytes: Option<Vec<u8>> = redis::cmd("GET").arg(block_key(head)).query_async(&mut con).await?;
        Ok(bytes.map(|b| (head, offset, b)))
    }

    /// Pack records for `keys`, in two round trips: the layouts of their GTINs, then every pack. `last_event_id` is
    /// not stored and comes back empty.
    pub async fn packs(&self, keys: &[PackKey], registry: &Registry) -> Result<Vec<Option<PackRecord>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let gtins: Vec<&str> = keys
            .iter()
            .map(PackKey::gtin)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let layouts = self.layouts(&gtins).await?;
        // One HMGET per bucket: a bulk block reads ~50 packs per command instead of one.
        let mut by_bucket: HashMap<(&str, u64), Vec<usize>, foldhash::fast::RandomState> = HashMap::default();
        for (i, key) in keys.iter().enumerate() {
            let gtin = key.gtin();
            by_bucket
                .entry((gtin, layouts[gtin].bucket(key.serial())))
                .or_default()
                .push(i);
        }
        let by_bucket: Vec<_> = by_bucket.into_iter().collect();
        let mut pipe = redis::pipe();
        for ((gtin, bucket), members) in &by_bucket {
            let mut cmd = redis::cmd("HMGET");
            cmd.arg(bucket_key(gtin, *bucket));
            members.iter().for_each(|&i| {
                cmd.arg(keys[i].serial());
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
                    .map(|b| decode_stored(|| keys[i].to_string(), b, registry))
                    .transpose()?;
            }
        }
        Ok(records)
    }

    /// The bucket layouts of `gtins`, in one round trip.
    pub(crate) async fn layouts<'a>(&self, gtins: &[&'a str]) -> Result<BTreeMap<&'a str, Meta>> {
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

    /// What a scan needs, in one round trip (two when the GTIN's bucket layout moved since this store last saw
    /// it): how fresh Redis is, the product and the pack. The bucket is guessed from the GTIN's last-seen layout and checked in the
    /// same round trip.
    pub async fn lookup(
        &self,
        gtin: &str,
        serial: &str,
        registry: &(impl ParticipantIds + ?Sized),
    ) -> Result<(Freshness, Option<ProductRecord>, Option<PackRecord>)> {
        let mut guess = self.cached_layout(gtin);
        for _ in 0..3 {
            let mut con = self.con.clone();
            // The pack is read before the layout: layouts only grow, so if the layout read after the pack is still
            // the guessed one, it was that one when the pack was read too (no MULTI needed).
            type Answer = (
                Option<Vec<u8>>,
                Option<String>,
                Option<Vec<u8>>,
                Option<u64>,
                Option<u64>,
            );
            // `head` and the replay target come in the same round trip: an answer from a Redis that lost its state
            // (or is being rebuilt) is recognised as such, not taken for "unknown".
            let (pack, layout, product, head, target): Answer = redis::pipe()
                .hget(bucket_key(gtin, guess.bucket(serial)), serial)
                .get(meta_key(gtin))
                .get(product_key(gtin))
                .get(HEAD)
                .get(SYNC_TARGET)
                .query_async(&mut con)
                .await?;
            let freshness = Freshness::from_raw(head, target);
            let layout = Meta::parse(layout.as_deref()).ok_or_else(|| StoreError::BadMeta(meta_key(gtin)))?;
            if layout.level != guess.level || layout.split != guess.split {
                self.remember_layout(gtin, layout);
                guess = layout;
                continue;
            }
            let product = product.as_deref().map(|b| decode(product_key(gtin), b)).transpose()?;
            let key = || format!("{gtin}{serial}");
            let pack = pack.as_deref().map(|b| decode_stored(key, b, registry)).transpose()?;
            return Ok((freshness, product, pack));
        }
        Err(StoreError::BadMeta(format!("{} keeps moving", meta_key(gtin))))
    }

    fn cached_layout(&self, gtin: &str) -> Meta {
        let layouts = self.layouts.lock().unwrap_or_else(|e| e.into_inner());
        layouts.get(gtin).copied().unwrap_or_default()
    }

    fn remember_layout(&self, gtin: &str, layout: Meta) {
        let mut layouts = self.layouts.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded by the number of GTINs scanned; a verifier that sees more than this many starts over.
        if layouts.len() > 1_000_000 {
            layouts.clear();
        }
        layouts.insert(gtin.to_string(), layout);
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

    /// Container records by element string, in one round trip; `registry` names their participants.
    pub async fn containers(
        &self,
        elements: &[String],
        registry: &(impl ParticipantIds + ?Sized),
    ) -> Result<Vec<Option<ContainerRecord>>> {
        if elements.is_empty() {
            return Ok(Vec::new());
        }
        let mut con = self.con.clone();
        let mut cmd = redis::cmd("MGET");
        elements.iter().for_each(|c| {
            cmd.arg(container_key(c));
        });
        let raw: Vec<Option<Vec<u8>>> = cmd.query_async(&mut con).await?;
        raw.iter()
            .zip(elements)
            .map(|(bytes, c)| {
                bytes
                    .as_deref()
                    .map(|b| {
                        decode_container(b, registry).map_err(|source| StoreError::Stored {
                            key: container_key(c),
                            source,
                        })
                    })
                    .transpose()
            })
            .collect()
    }

    /// The containers a pack in container `element` is in, innermost first, up to the outermost: one GET per level
    /// (at most [`pedigree_core::container::MAX_DEPTH`]). A container missing from the store ends the chain early.
    pub async fn container_chain(
        &self,
        element: &str,
        registry: &(impl ParticipantIds + ?Sized),
    ) -> Result<Vec<ContainerRecord>> {
        let mut chain: Vec<ContainerRecord> = Vec::new();
        let mut next = element.to_string();
        while !next.is_empty() && chain.len() <= pedigree_core::container::MAX_DEPTH as usize {
            let Some(record) = self
                .containers(std::slice::from_ref(&next), registry)
                .await?
                .pop()
                .flatten()
            else {
                break;
            };
            next = record.parent.clone();
            chain.push(record);
        }
        Ok(chain)
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

    /// Block `height`'s back links (`pedigree_core::history`), in one GET; `None` when the block was written before
    /// links were kept (or is not in Redis).
    pub async fn block_links(&self, height: u64) -> Result<Option<BlockLinks>> {
        let mut con = self.con.clone();
        let raw: Option<Vec<u8>> = redis::cmd("GET").arg(links_key(height)).query_async(&mut con).await?;
        raw.as_deref().map(|b| decode(links_key(height), b)).transpose()
    }

    /// Entries `from ..` (at most `max`) of `participant`'s list of events (`pedigree_core::party_index`), in one
    /// round trip, with the list's length in entries and the first height that appended to the lists (`wf`;
    /// `None` before any block did).
    pub async fn party_events(&self, participant: &str, from: u64, max: u64) -> Result<PartyEventsPage> {
        use pedigree_core::party_index::{ENTRY_LEN, decode as decode_entries};
        let key = party_events_key(participant);
        let len = ENTRY_LEN as u64;
        let (start, end) = (from.saturating_mul(len), from.saturating_add(max).saturating_mul(len));
        let mut con = self.con.clone();
        let (total, raw, kept_from): (u64, Vec<u8>, Option<u64>) = redis::pipe()
            .cmd("STRLEN")
            .arg(&key)
            .cmd("GETRANGE")
            .arg(&key)
            .arg(start)
            .arg(end.saturating_sub(1))
            .get(PARTY_EVENTS_FROM)
            .query_async(&mut con)
            .await?;
        // GETRANGE of an empty range answers the whole value's last byte in some versions: none asked, none read.
        let raw = if max == 0 || start >= total { Vec::new() } else { raw };
        let entries = decode_entries(&raw)
            .ok_or_else(|| StoreError::ProofData(format!("{key} is not a whole number of {ENTRY_LEN}-byte entries")))?;
        Ok(PartyEventsPage {
            entries,
            total: total / len,
            kept_from,
        })
    }
}

/// A page of a participant's list of events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartyEventsPage {
    pub entries: Vec<pedigree_core::history::Position>,
    /// Entries in the whole list.
    pub total: u64,
    /// The first height whose block appended to the lists (1: complete from genesis).
    pub kept_from: Option<u64>,
}
