//! The compact form Redis keeps a pack in: participants as registry indexes, the last event by its position in its
//! block. A [`PackRecord`] of any pack fits in 64 bytes this way (the largest value a Redis listpack entry holds by
//! default), which is what lets the store keep packs in small hashes at a few dozen bytes each.
//!
//! The event id is not stored: a reader that needs it (a proof bundle) takes event `last_index` of block
//! `last_height`, whose id is the hash of its payload.

use prost::Message;

use crate::participant::{ParticipantRecord, Registry};
use crate::pb::{ContainerRecord, PackRecord, PackStatus, StoredContainer, StoredLine, StoredPack};

/// What separates the serials of a stored line: GS, which GS1 character set 82 (every valid serial) excludes.
const SERIAL_SEPARATOR: char = '\u{1d}';

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

/// A participant's registry index plus one (0 for none).
fn index_of(registry: &Registry, id: &str) -> Result<u32, StoredError> {
    if id.is_empty() {
        return Ok(0);
    }
    registry
        .get(id)
        .map(|p| p.index + 1)
        .ok_or_else(|| StoredError::UnknownParticipant(id.to_string()))
}

/// The participant id at `index` minus one (empty for 0).
fn id_at(registry: &(impl ParticipantIds + ?Sized), index: u32) -> Result<String, StoredError> {
    if index == 0 {
        return Ok(String::new());
    }
    registry
        .id_at(index - 1)
        .map(str::to_string)
        .ok_or(StoredError::UnknownIndex(index - 1))
}

/// A parent's element string, compacted: an SSCC as its 18 digits read as a number (8 or 9 bytes instead of 20),
/// a case as it is.
enum Parent {
    Sscc(u64),
    Case(String),
}

fn parent_of(element: &str) -> Option<Parent> {
    if element.is_empty() {
        return None;
    }
    match element.strip_prefix("00").and_then(|digits| digits.parse::<u64>().ok()) {
        Some(sscc) if element.len() == 20 => Some(Parent::Sscc(sscc)),
        _ => Some(Parent::Case(element.to_string())),
    }
}

fn element_of(parent: Option<Parent>) -> String {
    match parent {
        None => String::new(),
        Some(Parent::Sscc(n)) => format!("00{n:018}"),
        Some(Parent::Case(element)) => element,
    }
}

/// Encodes a pack for storage.
pub fn encode_pack(record: &PackRecord, registry: &Registry) -> Result<Vec<u8>, StoredError> {
    use crate::pb::stored_pack::Parent as P;
    // A pack in a container is always ACTIVE (its custody is the container's): the status is left out (2 bytes per
    // packed pack) and read back from the parent.
    let packed = !record.parent.is_empty() && record.status() == PackStatus::Active;
    Ok(StoredPack {
        status: if packed { 0 } else { record.status },
        holder: index_of(registry, &record.holder)?,
        receiver: index_of(registry, &record.receiver)?,
        received_from: index_of(registry, &record.received_from)?,
        lot: record.lot.clone(),
        expiry: record
            .expiry
            .parse()
            .map_err(|_| StoredError::Expiry(record.expiry.clone()))?,
        last_height: record.last_height,
        last_index: record.last_index,
        changed_at_ms: record.changed_at_ms,
        decommission_reason: record.decommission_reason,
        parent: parent_of(&record.parent).map(|p| match p {
            Parent::Sscc(n) => P::ParentSscc(n),
            Parent::Case(e) => P::ParentCase(e),
        }),
        owner: index_of(registry, &record.owner)?,
        repackaged_by: record.repackaged_by.clone(),
        suspect: record.suspect,
    }
    .encode_to_vec())
}

/// Decodes a stored pack; `last_event_id` is left empty (see the module docs).
pub fn decode_pack(bytes: &[u8], registry: &(impl ParticipantIds + ?Sized)) -> Result<PackRecord, StoredError> {
    use crate::pb::stored_pack::Parent as P;
    let stored = StoredPack::decode(bytes).map_err(|e| StoredError::Decode(e.to_string()))?;
    let status = match (&stored.parent, stored.status()) {
        (Some(_), PackStatus::Unspecified) => PackStatus::Active.into(),
        _ => stored.status,
    };
    Ok(PackRecord {
        lot: stored.lot,
        expiry: format!("{:06}", stored.expiry),
        status,
        holder: id_at(registry, stored.holder)?,
        receiver: id_at(registry, stored.receiver)?,
        last_event_id: Vec::new(),
        last_height: stored.last_height,
        changed_at_ms: stored.changed_at_ms,
        decommission_reason: stored.decommission_reason,
        received_from: id_at(registry, stored.received_from)?,
        last_index: stored.last_index,
        parent: element_of(stored.parent.map(|p| match p {
            P::ParentSscc(n) => Parent::Sscc(n),
            P::ParentCase(e) => Parent::Case(e),
        })),
        owner: id_at(registry, stored.owner)?,
        repackaged_by: stored.repackaged_by,
        suspect: stored.suspect,
    })
}

/// Encodes a container for storage: participants by index, the parent compacted, the packs inside grouped by GTIN
/// (a pack key is the GTIN-14 followed by the serial, so each run of one GTIN writes it once).
pub fn encode_container(record: &ContainerRecord, registry: &Registry) -> Result<Vec<u8>, StoredError> {
    use crate::pb::stored_container::Parent as P;
    let mut packs: Vec<StoredLine> = Vec::new();
    for key in &record.packs {
        let (gtin, serial) = key.split_at(key.len().min(14));
        match packs.last_mut() {
            Some(line) if line.gtin == gtin => {
                line.serials.push(SERIAL_SEPARATOR);
                line.serials.push_str(serial);
            }
            _ => packs.push(StoredLine {
                gtin: gtin.to_string(),
                serials: serial.to_string(),
            }),
        }
    }
    Ok(StoredContainer {
        status: record.status,
        holder: index_of(registry, &record.holder)?,
        receiver: index_of(registry, &record.receiver)?,
        received_from: index_of(registry, &record.received_from)?,
        parent: parent_of(&record.parent).map(|p| match p {
            Parent::Sscc(n) => P::ParentSscc(n),
            Parent::Case(e) => P::ParentCase(e),
        }),
        packs,
        containers: record.containers.clone(),
        depth: record.depth,
        closed: record.closed,
        last_height: record.last_height,
        last_index: record.last_index,
        owner: index_of(registry, &record.owner)?,
    }
    .encode_to_vec())
}

/// Decodes a stored container.
pub fn decode_container(
    bytes: &[u8],
    registry: &(impl ParticipantIds + ?Sized),
) -> Result<ContainerRecord, StoredError> {
    use crate::pb::stored_container::Parent as P;
    let stored = StoredContainer::decode(bytes).map_err(|e| StoredError::Decode(e.to_string()))?;
    Ok(ContainerRecord {
        status: stored.status,
        holder: id_at(registry, stored.holder)?,
        receiver: id_at(registry, stored.receiver)?,
        received_from: id_at(registry, stored.received_from)?,
        parent: element_of(stored.parent.map(|p| match p {
            P::ParentSscc(n) => Parent::Sscc(n),
            P::ParentCase(e) => Parent::Case(e),
        })),
        packs: stored
            .packs
            .iter()
            .flat_map(|line| {
                line.serials
                    .split(SERIAL_SEPARATOR)
                    .map(move |s| format!("{}{s}", line.gtin))
            })
            .collect(),
        containers: stored.containers,
        depth: stored.depth,
        closed: stored.closed,
        last_height: stored.last_height,
        last_index: stored.last_index,
        owner: id_at(registry, stored.owner)?,
    })
}
