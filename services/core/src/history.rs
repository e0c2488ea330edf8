//! The back links that make a pack's history walkable: for every event that changes a pack or container that existed
//! before it, the position of that item's previous event. A record holds its last event's position
//! (`last_height`, `last_index`); following the links from there reaches its first event.
//!
//! The links are derived state (Redis `y:{height}`, one value per block, written with the block's effects and
//! rebuilt by a replay like everything else); they are not part of the signed ledger. Items are named by an 8-byte
//! digest, so that a block's links cost a few bytes per changed item, and a run of items that share a previous event
//! (a shipment received whole) costs one position.

use std::collections::BTreeMap;

use prost::Message;

use crate::keys::tagged_hash_parts;
use crate::pack_key::PackKey;
use crate::pb::{BlockLinks, EventLinks, LinkRun};

/// An event's position: block height, index among the block's accepted events.
pub type Position = (u64, u32);

/// How an item is named in the links.
pub type ItemDigest = [u8; 8];

/// The digest of a pack (GTIN-14 and serial).
pub fn pack_digest(key: &PackKey) -> ItemDigest {
    digest(b"pack", key.gtin(), key.serial())
}

/// The digest of a container, by its element string.
pub fn container_digest(element: &str) -> ItemDigest {
    digest(b"container", element, "")
}

fn digest(kind: &[u8], a: &str, b: &str) -> ItemDigest {
    let hash = tagged_hash_parts(
        b"pedigree/history-item",
        &[kind, &[0], a.as_bytes(), &[0], b.as_bytes()],
    );
    let mut out = [0u8; 8];
    out.copy_from_slice(&hash[..8]);
    out
}

/// One link: the item changed by the event at `at` had its previous event at `prev`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    pub at: Position,
    pub item: ItemDigest,
    pub prev: Position,
}

/// A block's links, as stored (`BlockLinks`): grouped by event, then by previous event.
pub fn encode_links(links: &[Link]) -> Vec<u8> {
    let mut by_event: BTreeMap<u32, BTreeMap<Position, Vec<u8>>> = BTreeMap::new();
    for link in links {
        by_event
            .entry(link.at.1)
            .or_default()
            .entry(link.prev)
            .or_default()
            .extend_from_slice(&link.item);
    }
    BlockLinks {
        events: by_event
            .into_iter()
            .map(|(index, runs)| EventLinks {
                index,
                runs: runs
                    .into_iter()
                    .map(|((prev_height, prev_index), items)| LinkRun {
                        prev_height,
                        prev_index,
                        items,
                    })
                    .collect(),
            })
            .collect(),
    }
    .encode_to_vec()
}

/// The previous event of `item` before event `index` of the block whose links these are; `None` when the event is
/// the item's first (or does not change it).
pub fn previous(links: &BlockLinks, index: u32, item: &ItemDigest) -> Option<Position> {
    let event = links.events.iter().find(|e| e.index == index)?;
    event
        .runs
        .iter()
        .find(|run| run.items.chunks_exact(8).any(|d| d == item))
        .map(|run| (run.prev_height, run.prev_index))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gs1::{Gtin, Serial};
    use proptest::prelude::*;

    fn pack(serial: &str) -> PackKey {
        PackKey::new(&Gtin::parse("09506000134352").unwrap(), &Serial::parse(serial).unwrap())
    }

    #[test]
    fn packs_and_containers_have_distinct_digests() {
        let p = pack("A1");
        assert_ne!(pack_digest(&p), pack_digest(&pack("A2")));
        assert_ne!(pack_digest(&p), container_digest("0109506000134352" /* not a pack */));
        assert_eq!(pack_digest(&p), pack_digest(&pack("A1")));
    }

    #[test]
    fn a_shipment_received_whole_is_one_run() {
        let links: Vec<Link> = (0..100)
            .map(|i| Link {
                at: (9, 4),
                item: pack_digest(&pack(&format!("S{i}"))),
                prev: (7, 2),
            })
            .collect();
        let bytes = encode_links(&links);
        let decoded = BlockLinks::decode(bytes.as_slice()).unwrap();
        assert_eq!(decoded.events.len(), 1);
        assert_eq!(decoded.events[0].runs.len(), 1);
        assert!(bytes.len() < 100 * 8 + 16, "{} bytes", bytes.len());
        assert_eq!(previous(&decoded, 4, &pack_digest(&pack("S42"))), Some((7, 2)));
        assert_eq!(previous(&decoded, 3, &pack_digest(&pack("S42"))), None);
        assert_eq!(previous(&decoded, 4, &pack_digest(&pack("T1"))), None);
    }

    proptest! {
        #[test]
        fn every_link_is_found_again(links in proptest::collection::vec(
            (0u32..5, 0u32..40, 0u64..6, 0u32..4), 0..60)
        ) {
            // One previous event per (event, item), as a working set records them.
            let mut seen = std::collections::HashMap::new();
            let links: Vec<Link> = links
                .into_iter()
                .map(|(at, item, ph, pi)| Link {
                    at: (10, at),
                    item: pack_digest(&pack(&format!("P{item}"))),
                    prev: (ph, pi),
                })
                .filter(|l| seen.insert((l.at, l.item), l.prev).is_none())
                .collect();
            let decoded = BlockLinks::decode(encode_links(&links).as_slice()).unwrap();
            for l in &links {
                prop_assert_eq!(previous(&decoded, l.at.1, &l.item), Some(l.prev));
            }
        }
    }
}
