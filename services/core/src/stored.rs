//! The compact form Redis keeps a pack in: participants as registry indexes, the last event by its position in its
//! block. A [`PackRecord`] of any pack fits in 64 bytes this way (the largest value a Redis listpack entry holds by
//! default), which is what lets the store keep packs in small hashes at a few dozen bytes each.
//!
//! The event id is not stored: a reader that needs it (a proof bundle) takes event `last_index` of block
//! `last_height`, whose id is the hash of its payload.

use prost::Message;

use crate::participant::{ParticipantRecord, Registry};
use crate::pb::{PackRecord, StoredPack};

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum StoredError {
    #[error("stored pack does not decode: {0}")]
    Decode(String),
    #[error("stored pack names participant #{0}, which this registry does not have")]
    UnknownIndex(u32),
    #[error("pack expiry '{0}' is not YYMMDD")]
    Expiry(String),
    #[error("pack names participant '{0}', which the registry does not have")]
    UnknownParticipant(String),
}

/// Participant ids by registry index: what decoding needs.
pub trait ParticipantIds {
    fn id_at(&self, index: u32) -> Option<&str>;
}

impl ParticipantIds for Registry {
    fn id_at(&self, index: u32) -> Option<&str> {
        Registry::id_at(self, index)
    }
}

/// Participant ids by index, from stored participant records alone (a reader that checks no signature needs no
/// genesis). Indexes never change meaning, so a directory is only ever incomplete, never wrong.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    ids: Vec<String>,
}

impl Directory {
    pub fn from_records(records: &[ParticipantRecord]) -> Self {
        let mut ids = Vec::new();
        for r in records {
            let i = r.index as usize;
            if ids.len() <= i {
                ids.resize(i + 1, String::new());
            }
            ids[i] = r.id.clone();
        }
        Self { ids }
    }
}

impl ParticipantIds for Directory {
    fn id_at(&self, index: u32) -> Option<&str> {
        self.ids
            .get(index as usize)
            .map(String::as_str)
            .filter(|id| !id.is_empty())
    }
}

/// Encodes a pack for storage.
pub fn encode_pack(record: &PackRecord, registry: &Registry) -> Result<Vec<u8>, StoredError> {
    let index = |id: &str| -> Result<u32, StoredError> {
        if id.is_empty() {
            return Ok(0);
        }
        registry
            .get(id)
            .map(|p| p.index + 1)
            .ok_or_else(|| StoredError::UnknownParticipant(id.to_string()))
    };
    Ok(StoredPack {
        status: record.status,
        holder: index(&record.holder)?,
        receiver: index(&record.receiver)?,
        received_from: index(&record.received_from)?,
        lot: record.lot.clone(),
        expiry: record
            .expiry
            .parse()
            .map_err(|_| StoredError::Expiry(record.expiry.clone()))?,
        last_height: record.last_height,
        last_index: record.last_index,
        changed_at_ms: record.changed_at_ms,
        decommission_reason: record.decommission_reason,
        parent: record.parent.clone(),
    }
    .encode_to_vec())
}

/// Decodes a stored pack; `last_event_id` is left empty (see the module docs).
pub fn decode_pack(bytes: &[u8], registry: &(impl ParticipantIds + ?Sized)) -> Result<PackRecord, StoredError> {
    let stored = StoredPack::decode(bytes).map_err(|e| StoredError::Decode(e.to_string()))?;
    let id = |index: u32| -> Result<String, StoredError> {
        if index == 0 {
            return Ok(String::new());
        }
        registry
            .id_at(index - 1)
            .map(str::to_string)
            .ok_or(StoredError::UnknownIndex(index - 1))
    };
    Ok(PackRecord {
        lot: stored.lot,
        expiry: format!("{:06}", stored.expiry),
        status: stored.status,
        holder: id(stored.holder)?,
        receiver: id(stored.receiver)?,
        last_event_id: Vec::new(),
        last_height: stored.last_height,
        changed_at_ms: stored.changed_at_ms,
        decommission_reason: stored.decommission_reason,
        received_from: id(stored.received_from)?,
        last_index: stored.last_index,
        parent: stored.parent,
    })
}
