//! The Redis keys, and the functions that build them (the one place a key's spelling lives; the write script in
//! [`crate::script`] spells `m:` too, and must agree).
//!
//! All values are protobuf encodings of `pedigree.v1` messages unless said otherwise:
//! - `p:{gtin14}:{bucket}` -> hash of serial -> `StoredPack` (a `PackRecord` in compact form, see
//!   `pedigree_core::stored`); `m:{gtin14}` -> the GTIN's bucket layout (see [`crate::buckets`])
//! - `g:{gtin14}` -> `ProductRecord` once any pack of that GTIN was commissioned: its owner, whether it was
//!   withdrawn, which lots were recalled (also tells an unknown product from an unknown serial)
//! - `e:{32-byte event id}` -> `EventOutcome`
//! - `b:{height}` -> `Block`
//! - `head` -> height of the last applied block, decimal; absent while Redis holds no ledger state (new, emptied or
//!   restarted without persistence: readers answer "unavailable", never "unknown", until a sequencer writes it)
//! - `o` -> the blocks-topic offset of block `head`, decimal: with `b:{head}`, where a new leader resumes from (its
//!   checkpoint) instead of folding the topic from offset 0
//! - `sync` -> the height a sequencer replaying the log into Redis is bringing `head` to, decimal; written before the
//!   replay starts, so that readers know how far behind `head` is (see [`crate::Freshness`])
//! - `l` -> list of the RFC 6962 leaf hashes (32 bytes each) of every committed event since genesis, in log order:
//!   the append-only log that block headers' `tree_size`/`log_root` commit to, kept for inclusion and consistency
//!   proofs
//! - `r` -> hash of participant id -> `ParticipantRecord` (JSON): every participant as of `head` (the genesis ones
//!   are written with block 1, later ones when a governance event changes them); `rv` -> height of the last block
//!   that changed `r`, so readers re-read the registry only when it moved
//! - `pending:{32-byte event id}` -> the signer's registry index (1-based, decimal): written by custody before the
//!   event goes to the broker, deleted by the block write that records the event's outcome, expires after 7 days
//! - `auth:nonce:{nonce}` -> `1`: a sign-in nonce the verifier accepted, kept for twice the allowed clock skew

use pedigree_core::Hash;

/// Height of the last applied block.
pub(crate) const HEAD: &str = "head";
/// The blocks-topic offset of block `head`.
pub(crate) const HEAD_OFFSET: &str = "o";
/// The height a replay brings `head` to.
pub(crate) const SYNC_TARGET: &str = "sync";
/// The log's leaf hashes.
pub(crate) const LEAVES: &str = "l";
/// Participant records by id.
pub(crate) const REGISTRY: &str = "r";
/// Height of the last block that changed [`REGISTRY`].
pub(crate) const REGISTRY_VERSION: &str = "rv";

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
