//! The registry root: an RFC 6962 root over every participant's record (id, role, current key, retired keys with
//! the heights they were valid for, revocation, attested GS1 company prefixes), sorted by id, as the registry stands after a block. Every header
//! carries it (`registry_root`), so a proof bundle can show that the key which signed an event was the signer's
//! registered key at that height (docs/ledger-format.md, section 4).
//!
//! The record's canonical encoding ([`record_bytes`]) is parsed back strictly by [`RegistryRecord::parse`] for
//! offline checks, and [`participant_at`] rolls a participant's current record back to an earlier height (the
//! registry keeps every key with its heights), so a reader holding only the current records (the verifier) can
//! prove an old event against the registry root of its block.

use pedigree_merkle::{inclusion_proof, leaf_hash, root};

use crate::Hash;
use crate::keys::PublicKey;
use crate::participant::{Participant, Registry, RetiredKey, put_str};
use crate::pb::InclusionProof;
use crate::sequencer_keys::SequencerKeys;

/// The canonical encoding of a participant's record: the registry leaf's data.
pub fn record_bytes(p: &Participant) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + p.id.len() + 49 * p.retired_keys.len());
    put_str(&mut out, &p.id);
    out.push(p.role.code());
    out.extend_from_slice(&p.key.to_sec1());
    out.extend_from_slice(&p.key_since.to_be_bytes());
    out.extend_from_slice(&(p.retired_keys.len() as u32).to_be_bytes());
    for r in &p.retired_keys {
        out.extend_from_slice(&r.key.to_sec1());
        out.extend_from_slice(&r.since.to_be_bytes());
        out.extend_from_slice(&r.until.to_be_bytes());
    }
    match &p.revoked {
        None => out.push(0),
        Some(r) => {
            out.push(1);
            out.extend_from_slice(&r.height.to_be_bytes());
        }
    }
    // Attested GS1 company prefixes, only when there are any (a record without them ends at the revocation).
    if !p.prefixes.is_empty() {
        out.extend_from_slice(&(p.prefixes.len() as u32).to_be_bytes());
        for a in &p.prefixes {
            put_str(&mut out, a.prefix.as_str());
            out.extend_from_slice(&a.since.to_be_bytes());
        }
    }
    out
}

/// The registry leaves of `participants`: their records sorted by id (bytewise).
pub fn registry_leaves<'a>(participants: impl IntoIterator<Item = &'a Participant>) -> Vec<(&'a str, Vec<u8>)> {
    let mut leaves: Vec<(&str, Vec<u8>)> = participants
        .into_iter()
        .map(|p| (p.id.as_str(), record_bytes(p)))
        .collect();
    leaves.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    leaves
}

/// The registry tree's leaf hashes: the leaves of `participants`, then the sequencer key schedule's leaf once the
/// key was rotated ([`SequencerKeys::leaf`]).
fn leaf_hashes(leaves: &[(&str, Vec<u8>)], sequencer: &SequencerKeys) -> Vec<Hash> {
    leaves
        .iter()
        .map(|(_, record)| leaf_hash(record))
        .chain(sequencer.leaf().map(|leaf| leaf_hash(&leaf)))
        .collect()
}

/// The RFC 6962 root over the leaves of `participants` and the schedule's (`SHA-256("")` when there are none).
pub fn registry_root_of<'a>(
    participants: impl IntoIterator<Item = &'a Participant>,
    sequencer: &SequencerKeys,
) -> Hash {
    root(&leaf_hashes(&registry_leaves(participants), sequencer))
}

impl Registry {
    /// The registry root of the registry as it stands (computed once per registry state).
    pub fn root(&self) -> Hash {
        *self
            .root_cache
            .get_or_init(|| registry_root_of(self.participants.values(), &self.sequencer_keys))
    }

    /// Every participant, any order.
    pub fn participants(&self) -> impl Iterator<Item = &Participant> {
        self.participants.values()
    }
}

/// `p` as it stood after block `height`: `None` if it was registered later; keys made current later dropped, the key
/// current then made current again, a later revocation undone. The inverse of the fold for one participant, exact
/// because a record keeps every key with the heights it was valid for.
pub fn participant_at(p: &Participant, height: u64) -> Option<Participant> {
    let registered = p.retired_keys.first().map_or(p.key_since, |r| r.since);
    if registered > height {
        return None;
    }
    // Every key in order with its validity: retired ones, then the current one (until: none).
    let mut keys: Vec<(PublicKey, u64, Option<u64>)> =
        p.retired_keys.iter().map(|r| (r.key, r.since, Some(r.until))).collect();
    keys.push((p.key, p.key_since, None));
    // Keys retired by then stay retired; the first one still current after `height` is the current key.
    let retired_then = keys
        .iter()
        .take_while(|(_, _, until)| until.is_some_and(|u| u <= height))
        .count();
    let (key, key_since, _) = keys[retired_then];
    Some(Participant {
        key,
        key_since,
        retired_keys: keys[..retired_then]
            .iter()
            .map(|(key, since, until)| RetiredKey {
                key: *key,
                since: *since,
                until: until.unwrap_or_default(),
            })
            .collect(),
        revoked: p.revoked.clone().filter(|r| r.height <= height),
        prefixes: p.prefixes.iter().filter(|a| a.since <= height).cloned().collect(),
        ..p.clone()
    })
}

/// The record of participant `id` and its inclusion proof in the registry root after block `height`, from the
/// participants' current records and the sequencer key schedule (the registry as of any later height).
pub fn registry_proof(
    participants: &[Participant],
    sequencer: &SequencerKeys,
    id: &str,
    height: u64,
) -> Option<(Vec<u8>, InclusionProof)> {
    let then: Vec<Participant> = participants.iter().filter_map(|p| participant_at(p, height)).collect();
    let leaves = registry_leaves(&then);
    let index = leaves.iter().position(|(leaf_id, _)| *leaf_id == id)?;
    let hashes = leaf_hashes(&leaves, &sequencer.at(height));
    let path = inclusion_proof(&hashes, index as u64).ok()?;
    Some((
        leaves[index].1.clone(),
        InclusionProof {
            leaf_index: index as u64,
            tree_size: hashes.len() as u64,
            hashes: path.iter().map(|h| h.to_vec()).collect(),
        },
    ))
}

/// A registry leaf parsed back (what an offline check reads from a bundle).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryRecord {
    pub id: String,
    pub role: u8,
    pub key: PublicKey,
    pub key_since: u64,
    /// Retired keys, oldest first: key, since, until.
    pub retired: Vec<(PublicKey, u64, u64)>,
    pub revoked_at: Option<u64>,
    /// Attested GS1 company prefixes with the height that attested each.
    pub prefixes: Vec<(String, u64)>,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum RecordError {
    #[error("signer record is truncated")]
    Truncated,
    #[error("signer record has {0} bytes after its last field")]
    Trailing(usize),
    #[error("signer record: {0}")]
    Field(&'static str),
}

/// A strict reader of canonical encodings: every read checks the length, nothing may be left over.
pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.bytes.len() < n {
            return None;
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(head)
    }

    pub fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    pub fn u32(&mut self) -> Option<u32> {
        self.take(4).and_then(|b| b.try_into().ok()).map(u32::from_be_bytes)
    }

    pub fn u64(&mut self) -> Option<u64> {
        self.take(8).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes)
    }

    pub fn hash(&mut self) -> Option<Hash> {
        self.take(32).and_then(|b| b.try_into().ok())
    }

    /// `u32` length then that many bytes.
    pub fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    pub fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }

    pub fn left(&self) -> usize {
        self.bytes.len()
    }
}

impl RegistryRecord {
    /// Parses a registry leaf strictly (docs/ledger-format.md, section 4).
    pub fn parse(bytes: &[u8]) -> Result<Self, RecordError> {
        let mut r = Reader::new(bytes);
        let key = |r: &mut Reader| -> Result<PublicKey, RecordError> {
            let raw = r.take(33).ok_or(RecordError::Truncated)?;
            PublicKey::from_sec1(raw).map_err(|_| RecordError::Field("a key is not a valid compressed point"))
        };
        let id = r.str().ok_or(RecordError::Truncated)?.to_string();
        let role = r.u8().ok_or(RecordError::Truncated)?;
        let current = key(&mut r)?;
        let key_since = r.u64().ok_or(RecordError::Truncated)?;
        let count = r.u32().ok_or(RecordError::Truncated)?;
        let mut retired = Vec::new();
        for _ in 0..count {
            let k = key(&mut r)?;
            let since = r.u64().ok_or(RecordError::Truncated)?;
            let until = r.u64().ok_or(RecordError::Truncated)?;
            retired.push((k, since, until));
        }
        let revoked_at = match r.u8().ok_or(RecordError::Truncated)? {
            0 => None,
            1 => Some(r.u64().ok_or(RecordError::Truncated)?),
            _ => return Err(RecordError::Field("revocation flag must be 0 or 1")),
        };
        let mut prefixes = Vec::new();
        if r.left() > 0 {
            let count = r.u32().ok_or(RecordError::Truncated)?;
            if count == 0 {
                return Err(RecordError::Field(
                    "a prefix list is never empty (it is left out instead)",
                ));
            }
            for _ in 0..count {
                let prefix = r.str().ok_or(RecordError::Truncated)?;
                crate::product::CompanyPrefix::parse(prefix)
                    .map_err(|_| RecordError::Field("a prefix is not 4 to 12 digits"))?;
                let since = r.u64().ok_or(RecordError::Truncated)?;
                prefixes.push((prefix.to_string(), since));
            }
        }
        if r.left() > 0 {
            return Err(RecordError::Trailing(r.left()));
        }
        Ok(Self {
            id,
            role,
            key: current,
            key_since,
            retired,
            revoked_at,
            prefixes,
        })
    }

    /// Whether `key` was this participant's key at height `height` (docs/ledger-format.md, section 4).
    pub fn key_valid_at(&self, key: &PublicKey, height: u64) -> bool {
        let held = (self.key == *key && self.key_since <= height)
            || self
                .retired
                .iter()
                .any(|(k, since, until)| k == key && *since <= height && height <= *until);
        held && self.revoked_at.is_none_or(|r| r >= height)
    }
}
