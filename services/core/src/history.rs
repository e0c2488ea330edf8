//! The back links that make a pack's history walkable: for every event that changes a pack or container that existed
//! before it, the position of that item's previous event. A record holds its last event's position
//! (`last_height`, `last_index`); following the links from there reaches its first event.
//!
//! The links are derived state (Redis `y:{height}`, one value per block, written with the block's effects and
//! rebuilt by a replay like everything else); they are not part of the signed ledger. Items are named by an 8-byte
//! digest, so that a block's links cost a few bytes per changed item, and a run of items that share a previous event
//! (a shipment received whole) costs one position.

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

/// An item as a working set names it while applying: by digest, or (a pack it created, the common case of a bulk
/// commission) by its position among the working set's changed packs, hashed only if the links need its digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    Digest(ItemDigest),
    ChangedPack(usize),
}

/// One link: the item changed by the event at `at` had its previous event at `prev` (`None`: the event created it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    pub at: Position,
    pub item: Item,
    pub prev: Option<Position>,
}

/// A block's links, as stored (`BlockLinks`): per event, the largest group of items sharing a previous event is the
/// event's default (no digests), the others are listed by digest; an event that only created items has no entry.
/// `digest_of` gives the digest of [`Item::ChangedPack`] `i`. `links` are in the order applied (an event's together).
pub fn encode_links(links: &[Link], digest_of: impl Fn(usize) -> ItemDigest) -> Vec<u8> {
    let mut events = Vec::new();
    for group in links.chunk_by(|a, b| a.at == b.at) {
        // (previous event, its items): few distinct previous events per event, so a short list.
        let mut runs: Vec<(Option<Position>, Vec<Item>)> = Vec::new();
        for link in group {
            match runs.iter_mut().find(|(prev, _)| *prev == link.prev) {
                Some((_, items)) => items.push(link.item),
                None => runs.push((link.prev, vec![link.item])),
            }
        }
        runs.sort_by_key(|(prev, _)| *prev);
        let Some(largest) = runs
            .iter()
            .enumerate()
            .max_by_key(|(i, (_, items))| (items.len(), std::cmp::Reverse(*i)))
            .map(|(i, _)| i)
        else {
            continue;
        };
        let (default, _) = runs.remove(largest);
        if default.is_none() && runs.is_empty() {
            continue;
        }
        let (default_height, default_index) = default.unwrap_or((0, 0));
        events.push(EventLinks {
            index: group[0].at.1,
            default_height,
            default_index,
            runs: runs
                .into_iter()
                .map(|(prev, items)| {
                    let (prev_height, prev_index) = prev.unwrap_or((0, 0));
                    let mut bytes = Vec::with_capacity(8 * items.len());
                    for item in items {
                        bytes.extend_from_slice(&match item {
                            Item::Digest(d) => d,
                            Item::ChangedPack(i) => digest_of(i),
                        });
                    }
                    LinkRun {
                        prev_height,
                        prev_index,
                        items: bytes,
                    }
                })
                .collect(),
        });
    }
    events.sort_by_key(|e| e.index);
    BlockLinks { events }.encode_to_vec()
}

/// The previous event of `item`, which event `index` of the block whose links these are changed; `None` when that
/// event is the item's first.
pub fn previous(links: &BlockLinks, index: u32, item: &ItemDigest) -> Option<Position> {
    let event = links.events.iter().find(|e| e.index == index)?;
    let (height, index) = event
        .runs
        .iter()
        .find(|run| run.items.chunks_exact(8).any(|d| d == item))
        .map_or((event.default_height, event.default_index), |run| {
            (run.prev_height, run.prev_index)
        });
    (height != 0).then_some((height, index))
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

    fn digest_link(at: Position, serial: &str, prev: Option<Position>) -> Link {
        Link {
            at,
            item: Item::Digest(pack_digest(&pack(serial))),
            prev,
        }
    }

    fn no_changed_packs(_: usize) -> ItemDigest {
        unreachable!("no item is named by position here")
    }

    #[test]
    fn a_shipment_received_whole_costs_one_position() {
        let links: Vec<Link> = (0..100)
            .map(|i| digest_link((9, 4), &format!("S{i}"), Some((7, 2))))
            .collect();
        let bytes = encode_links(&links, no_changed_packs);
        assert!(bytes.len() < 16, "{} bytes", bytes.len());
        let decoded = BlockLinks::decode(bytes.as_slice()).unwrap();
        assert_eq!(previous(&decoded, 4, &pack_digest(&pack("S42"))), Some((7, 2)));
        assert_eq!(previous(&decoded, 3, &pack_digest(&pack("S42"))), None);
    }

    #[test]
    fn a_commission_has_no_entry_and_a_new_pallet_is_told_from_its_packs() {
        // A bulk commission: every pack new, named by position; nothing is hashed, nothing stored.
        let commission: Vec<Link> = (0..1000)
            .map(|i| Link {
                at: (5, 0),
                item: Item::ChangedPack(i),
                prev: None,
            })
            .collect();
        let bytes = encode_links(&commission, no_changed_packs);
        assert!(bytes.is_empty());
        // Packs from two commissions into a new pallet: the larger group is the default; the pallet is listed as new.
        let mut packing: Vec<Link> = (0..50)
            .map(|i| digest_link((6, 3), &format!("A{i}"), Some((5, 0))))
            .collect();
        packing.extend((0..5).map(|i| digest_link((6, 3), &format!("B{i}"), Some((4, 1)))));
        let pallet = container_digest("00106141411234567897");
        packing.push(Link {
            at: (6, 3),
            item: Item::Digest(pallet),
            prev: None,
        });
        let decoded = BlockLinks::decode(encode_links(&packing, no_changed_packs).as_slice()).unwrap();
        assert_eq!(previous(&decoded, 3, &pack_digest(&pack("A7"))), Some((5, 0)));
        assert_eq!(previous(&decoded, 3, &pack_digest(&pack("B2"))), Some((4, 1)));
        assert_eq!(previous(&decoded, 3, &pallet), None);
    }

    #[test]
    fn packs_named_by_position_are_hashed_when_listed() {
        let keys = [pack("N1"), pack("N2"), pack("N3")];
        // A repackaging: three source packs that existed (the default) and two new packs, named by position.
        let mut links: Vec<Link> = ["S1", "S2", "S3"]
            .iter()
            .map(|s| digest_link((3, 0), s, Some((2, 0))))
            .collect();
        links.extend([0, 2].map(|i| Link {
            at: (3, 0),
            item: Item::ChangedPack(i),
            prev: None,
        }));
        let bytes = encode_links(&links, |i| pack_digest(&keys[i]));
        let decoded = BlockLinks::decode(bytes.as_slice()).unwrap();
        assert_eq!(previous(&decoded, 0, &pack_digest(&keys[0])), None);
        assert_eq!(previous(&decoded, 0, &pack_digest(&keys[2])), None);
        assert_eq!(previous(&decoded, 0, &pack_digest(&pack("S2"))), Some((2, 0)));
    }

    proptest! {
        #[test]
        fn every_link_is_found_again(links in proptest::collection::vec(
            (0u32..5, 0u32..40, proptest::option::of((1u64..6, 0u32..4))), 0..80)
        ) {
            // One previous event per (event, item), as a working set records them; an event's links together.
            let mut seen = std::collections::HashSet::new();
            let mut links: Vec<Link> = links
                .into_iter()
                .filter(|(at, item, _)| seen.insert((*at, *item)))
                .map(|(at, item, prev)| digest_link((10, at), &format!("P{item}"), prev))
                .collect();
            links.sort_by_key(|l| l.at);
            let decoded = BlockLinks::decode(encode_links(&links, no_changed_packs).as_slice()).unwrap();
            for l in &links {
                let Item::Digest(d) = l.item else { unreachable!() };
                prop_assert_eq!(previous(&decoded, l.at.1, &d), l.prev);
            }
        }
    }
}
