//! The Redis keys, and the functions that build them (the one place a key's spelling lives; the write script in
//! [`crate::script`] spells `m:` too, and must agree).
//!
//! All values are protobuf encodings of `pedigree.v1` messages unless said otherwise:
//! - `p:{gtin14}:{bucket}` -> hash of serial -> `StoredPack` (a `PackRecord` in compact form, see
//!   `pedigree_core::stored`); `m:{gtin14}` -> the GTIN's bucket layout (see [`crate::buckets`])
//! - `g:{gtin14}` -> `ProductRecord` once any pack of that GTIN was commissioned: its owner, whether it was
//!   withdrawn, which lots were recalled (also tells an unknown product from an unknown serial)
//! - `k:{element string}` -> `ContainerRecord`: a container (pallet or case) once packed, under its element string
//!   (`00` + SSCC, or `01` + case GTIN + `21` + serial): its custody, its parent, what is directly inside it
//! - `e:{32-byte event id}` -> `EventOutcome`
//! - `b:{height}` -> `Block`
//! - `head` -> height of the last applied block, decimal; absent while Redis holds no ledger state (new, emptied or
//!   restarted without persistence: readers answer "unavailable", never "unknown", until a sequencer writes it)
//! - `o` -> the blocks-topic offset of block `head`, decimal: with `b:{head}`, where a new leader resumes from (its
//!   checkpoint) instead of folding the topic from offset 0
//! - `sync` -> the height a sequencer replaying the log into Redis is bringing `head` to, decimal; written before the
//!   replay starts, so that readers know how far behind `head` is (see [`crate::Freshness`])
//! - `l:{level}` for `level` in 0, 4, 8, ... ([`LOG_LEVELS`]) -> the append-only log of every committed event since
//!   genesis (the RFC 6962 tree that block headers' `tree_size`/`log_root` commit to) kept as its perfect subtrees:
//!   the 32-byte hashes of its aligned subtrees of `2^level` leaves, left to right, concatenated. `l:0` holds the
//!   leaf hashes in log order (its length is 32 times the log's size as of `head`). Inclusion and consistency proofs
//!   and roots of any size read O(log n) hashes of these by `GETRANGE` (see `pedigree_merkle::ProofPlan`)
//! - `x:{height}` -> block `height`'s proof index (see `crate::proof_index`): its first leaf in the log, its event
//!   count, where its header and each event sit in `b:{height}`, and its own tree's levels 4, 8, ...: a proof bundle
//!   reads the header, one event and O(log n) hashes instead of the whole block
//! - `y:{height}` -> block `height`'s back links (`BlockLinks`, see `pedigree_core::history`): for each of its events
//!   that changed packs or containers that existed before it, where each one's previous event is; written with
//!   every block (empty when there are none), so a missing key means a block written before links were kept
//! - `w:{participant}` -> the positions of the events that concern the participant (its own, and movements naming
//!   it as receiver, sender or goods' owner), 12 bytes each (see `pedigree_core::party_index`), in chain order:
//!   appended by each block's write; `wf` -> the first height whose block appended to these lists (1 when they are
//!   complete from genesis; greater in state written before they were kept, until a replay rebuilds it)
//! - `v` -> the layout of all the above, decimal ([`LAYOUT_VERSION`]); absent in state written before layout 2 (when
//!   the log was one list `l` and blocks had no proof index), which the sequencer upgrades when it starts (see
//!   `crate::upgrade`)
//! - `r` -> hash of participant id -> `ParticipantRecord` (JSON): every participant as of `head` (the genesis ones
//!   are written with block 1, later ones when a governance event changes them); `rv` -> height of the last block
//!   that changed `r`, so readers re-read the registry only when it moved
//! - `pending:{32-byte event id}` -> the signer's registry index (1-based, decimal): written by custody before the
//!   event goes to the broker, deleted by the block write that records the event's outcome, expires after 7 days
//! - `auth:nonce:{nonce}` -> `1`: a sign-in nonce the verifier accepted, kept for twice the allowed clock skew
//! - `alert:{id}` -> hash: `raised` (`AlertRaised`), `cursor` (its offset in the alerts log, decimal) and, once
//!   closed, `closed` (`AlertClosed`, the first close in log order); `alerts:of:{participant}` -> sorted set of the
//!   alert ids a participant may read (as product owner or as scanner), scored by cursor; `alerts:folded` -> the
//!   next alerts-log offset to fold, decimal. Written by the verifiers' fold of the alerts log (see `crate::alerts`)

use pedigree_core::Hash;
use pedigree_core::merkle::Levels;

use crate::error::{Result, StoreError};

/// Height of the last applied block.
pub(crate) const HEAD: &str = "head";
/// The blocks-topic offset of block `head`.
pub(crate) const HEAD_OFFSET: &str = "o";
/// The height a replay brings `head` to.
pub(crate) const SYNC_TARGET: &str = "sync";
/// The log as one list of leaf hashes: layout 1, upgraded away.
pub(crate) const OLD_LEAVES: &str = "l";
/// The layout version.
pub(crate) const VERSION: &str = "v";
/// The layout this version writes and reads: 2 since the log is kept as levels and blocks have a proof index.
pub const LAYOUT_VERSION: u32 = 2;
/// Which levels of the log's tree (and of each block's) are kept: every fourth, about 34 bytes per leaf; a node on
/// another level is the root of at most 8 kept hashes.
pub const LOG_LEVELS: Levels = match Levels::new(4) {
    Ok(levels) => levels,
    Err(_) => panic!("4 is a valid stride"),
};
/// Participant records by id.
pub(crate) const REGISTRY: &str = "r";
/// The field of [`REGISTRY`] that holds the sequencer key schedule (JSON) once the key was rotated: not a valid
/// participant id, so no participant's record can take it.
pub(crate) const SEQUENCER_KEYS: &str = "@sequencer";
/// Height of the last block that changed [`REGISTRY`].
pub(crate) const REGISTRY_VERSION: &str = "rv";

/// The next alerts-log offset to fold.
pub(crate) const ALERTS_FOLDED: &str = "alerts:folded";

pub(crate) fn alert_key(id: &str) -> String {
    format!("alert:{id}")
}

pub(crate) fn alerts_of_key(participant: &str) -> String {
    format!("alerts:of:{participant}")
}

/// Redis key of bucket `b` of `gtin`.
pub fn bucket_key(gtin: &str, b: u64) -> String {
    format!("p:{gtin}:{b}")
}

/// Redis key of the bucket layout of `gtin`.
pub fn meta_key(gtin: &str) -> String {
    format!("m:{gtin}")
}

pub(crate) fn product_key(gtin: &str) -> String {
    format!("g:{gtin}")
}

pub(crate) fn container_key(element: &str) -> String {
    format!("k:{element}")
}

pub(crate) fn event_key(id: &Hash) -> Vec<u8> {
    let mut key = Vec::with_capacity(34);
    key.extend_from_slice(b"e:");
    key.extend_from_slice(id);
    key
}

/// Prefix of pending marks; the write script spells it too.
pub(crate) const PENDING_PREFIX: &[u8] = b"pending:";

pub(crate) fn pending_key(id: &Hash) -> Vec<u8> {
    let mut key = Vec::with_capacity(PENDING_PREFIX.len() + 32);
    key.extend_from_slice(PENDING_PREFIX);
    key.extend_from_slice(id);
    key
}

pub(crate) fn nonce_key(nonce: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(11 + nonce.len());
    key.extend_from_slice(b"auth:nonce:");
    key.extend_from_slice(nonce);
    key
}

pub(crate) fn block_key(height: u64) -> String {
    format!("b:{height}")
}

/// Redis key of kept level `level` of the log.
pub(crate) fn log_level_key(level: u32) -> String {
    format!("l:{level}")
}

/// Redis key of block `height`'s back links.
pub(crate) fn links_key(height: u64) -> String {
    format!("y:{height}")
}

/// Redis key of a participant's list of event positions.
pub(crate) fn party_events_key(participant: &str) -> String {
    format!("w:{participant}")
}

/// The first height that appended to the participants' lists.
pub(crate) const PARTY_EVENTS_FROM: &str = "wf";

/// Redis key of block `height`'s proof index.
pub(crate) fn proof_index_key(height: u64) -> String {
    format!("x:{height}")
}

/// Fails unless `raw` (the answer to `GET v`) is the layout this version reads.
pub(crate) fn check_layout(raw: Option<&[u8]>) -> Result<()> {
    match raw {
        Some(v) if v == LAYOUT_VERSION.to_string().as_bytes() => Ok(()),
        found => Err(StoreError::OldLayout {
            found: found.map_or("1 (no version)".into(), |v| String::from_utf8_lossy(v).into_owned()),
            wanted: LAYOUT_VERSION,
        }),
    }
}
