//! Each participant's events: the position (block height, index among the block's accepted events) of every event
//! that concerns it ([`Event::parties`]: its signer, the other party of a movement, the goods' owner), in chain
//! order. Derived state like the history links (Redis `w:{participant}`, appended with each block's effects in the
//! same atomic write and rebuilt by a replay); what an EPCIS query naming no EPC reads, a page at a time.
//!
//! Encoding: 12 bytes per event, the height as a big-endian u64 then the index as a big-endian u32, so that entry
//! `k` of a participant's list is bytes `12k .. 12k + 12`.

use std::collections::BTreeMap;

use crate::event::Event;
use crate::history::Position;

/// Bytes per entry.
pub const ENTRY_LEN: usize = 12;

/// One entry.
pub fn encode(at: Position) -> [u8; ENTRY_LEN] {
    let mut out = [0u8; ENTRY_LEN];
    out[..8].copy_from_slice(&at.0.to_be_bytes());
    out[8..].copy_from_slice(&at.1.to_be_bytes());
    out
}

/// Entries read back; `None` when the bytes are not whole entries.
pub fn decode(bytes: &[u8]) -> Option<Vec<Position>> {
    if !bytes.len().is_multiple_of(ENTRY_LEN) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(ENTRY_LEN)
            .map(|e| {
                let mut height = [0u8; 8];
                let mut index = [0u8; 4];
                height.copy_from_slice(&e[..8]);
                index.copy_from_slice(&e[8..]);
                (u64::from_be_bytes(height), u32::from_be_bytes(index))
            })
            .collect(),
    )
}

/// A block's additions to the participants' lists, recorded as its events are accepted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartyEvents(BTreeMap<String, Vec<u8>>);

impl PartyEvents {
    /// The accepted `event` at `at`: one entry in the list of each participant it concerns.
    pub fn record(&mut self, event: &Event, at: Position) {
        let entry = encode(at);
        for party in event.parties() {
            // A block's events name a few participants many times: allocate a key only for a new one.
            match self.0.get_mut(party) {
                Some(list) => list.extend_from_slice(&entry),
                None => {
                    self.0.insert(party.to_string(), entry.to_vec());
                }
            }
        }
    }

    /// Each participant's new entries (bytes to append), by participant id.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.iter().map(|(p, b)| (p.as_str(), b.as_slice()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn entries_read_back(positions in proptest::collection::vec((any::<u64>(), any::<u32>()), 0..50)) {
            let bytes: Vec<u8> = positions.iter().flat_map(|p| encode(*p)).collect();
            prop_assert_eq!(decode(&bytes), Some(positions));
        }
    }

    #[test]
    fn partial_entries_are_refused() {
        assert_eq!(decode(&[0u8; 13]), None);
        assert_eq!(decode(&[]), Some(vec![]));
    }
}
