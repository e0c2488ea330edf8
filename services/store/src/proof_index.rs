//! A block's proof index (`x:{height}`): where its header and each of its events sit in the block's bytes
//! (`b:{height}`), and its events' Merkle tree kept on the log's kept levels above 0 (level 0, the leaves, is the
//! log's `l:0` from the block's first leaf on). With it a per-scan proof bundle reads the header, one envelope and
//! O(log n) hashes instead of decoding the whole block. Pure layout; the reads are in `log_reads`.
//!
//! Layout, big-endian: the block's first leaf in the log (u64), its event count `c` (u32), the header's offset and
//! length in the block's bytes (u32 each); then `c` pairs of offset and length (u32 each) of the events; then the
//! kept levels `stride`, `2 * stride`, ... of the block's tree: `c >> level` hashes of 32 bytes each.

use pedigree_core::Hash;
use pedigree_core::merkle::Levels;
use pedigree_core::pb::{BlockHeader, SignedHeader};
use prost::Message;
use prost::encoding::{WireType, decode_key, decode_varint};

use crate::error::{Result, StoreError};

/// Bytes before the events' entries.
pub(crate) const PREFIX_LEN: u64 = 20;
/// Bytes of one event's entry.
pub(crate) const ENTRY_LEN: u64 = 8;
/// Bytes of a hash.
pub(crate) const HASH_LEN: u64 = 32;

/// A byte range of the block's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub offset: u32,
    pub len: u32,
}

/// What the index's prefix says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Prefix {
    /// The block's first leaf in the log: the log's size before the block.
    pub first_leaf: u64,
    pub count: u32,
    pub header: Span,
}

/// A block's proof index, as built from its bytes when it is written.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BlockIndex {
    pub prefix: Prefix,
    pub events: Vec<Span>,
}

impl BlockIndex {
    /// Finds the header and the events in an encoded `Block` (its top-level fields only: no event is decoded) and
    /// the block's first leaf from its header (`tree_size - event_count`).
    pub fn of_block(bytes: &[u8]) -> Result<Self> {
        let bad = |what: &str| StoreError::BadBlock(what.to_string());
        let mut header = None;
        let mut events = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let (tag, wire) = decode_key(&mut rest).map_err(|_| bad("a field key does not decode"))?;
            match wire {
                WireType::LengthDelimited => {
                    let len = decode_varint(&mut rest).map_err(|_| bad("a length does not decode"))?;
                    let len = usize::try_from(len)
                        .ok()
                        .filter(|l| *l <= rest.len())
                        .ok_or_else(|| bad("a field overruns the block"))?;
                    let span = Span {
                        offset: to_u32(bytes.len() - rest.len())?,
                        len: to_u32(len)?,
                    };
                    match tag {
                        1 => header = Some(span),
                        2 => events.push(span),
                        _ => {}
                    }
                    rest = &rest[len..];
                }
                WireType::Varint => {
                    decode_varint(&mut rest).map_err(|_| bad("a varint does not decode"))?;
                }
                WireType::SixtyFourBit if rest.len() >= 8 => rest = &rest[8..],
                WireType::ThirtyTwoBit if rest.len() >= 4 => rest = &rest[4..],
                _ => return Err(bad("unexpected wire type")),
            }
        }
        let header = header.ok_or_else(|| bad("no header"))?;
        let signed = SignedHeader::decode(slice(bytes, header)).map_err(|_| bad("the header does not decode"))?;
        let decoded = BlockHeader::decode(signed.header.as_slice()).map_err(|_| bad("the header does not decode"))?;
        if decoded.event_count as usize != events.len() {
            return Err(bad("the header's event count is not the number of events"));
        }
        let first_leaf = decoded
            .tree_size
            .checked_sub(u64::from(decoded.event_count))
            .ok_or_else(|| bad("the header's tree size is below its event count"))?;
        Ok(Self {
            prefix: Prefix {
                first_leaf,
                count: decoded.event_count,
                header,
            },
            events,
        })
    }

    /// The index's bytes; `levels` are what [`Levels::append`] gives for the block's leaves alone (level 0, the
    /// leaves, is not stored here).
    pub fn encode(&self, levels: &[Vec<Hash>]) -> Vec<u8> {
        let hashes: usize = levels.iter().skip(1).map(Vec::len).sum();
        let mut out = Vec::with_capacity(PREFIX_LEN as usize + ENTRY_LEN as usize * self.events.len() + 32 * hashes);
        out.extend_from_slice(&self.prefix.first_leaf.to_be_bytes());
        out.extend_from_slice(&self.prefix.count.to_be_bytes());
        for span in std::iter::once(&self.prefix.header).chain(&self.events) {
            out.extend_from_slice(&span.offset.to_be_bytes());
            out.extend_from_slice(&span.len.to_be_bytes());
        }
        for hash in levels.iter().skip(1).flatten() {
            out.extend_from_slice(hash);
        }
        out
    }
}

impl Prefix {
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let first_leaf = u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
        let count = u32::from_be_bytes(bytes.get(8..12)?.try_into().ok()?);
        let header = Span::parse(bytes.get(12..20)?)?;
        Some(Self {
            first_leaf,
            count,
            header,
        })
    }
}

impl Span {
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        Some(Self {
            offset: u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?),
            len: u32::from_be_bytes(bytes.get(4..8)?.try_into().ok()?),
        })
    }
}

/// Byte offset in the index of event `i`'s entry.
pub(crate) fn entry_offset(i: u32) -> u64 {
    PREFIX_LEN + ENTRY_LEN * u64::from(i)
}

/// Byte offset in the index of kept `level` (at least the stride) of a block of `count` events.
pub(crate) fn level_offset(levels: Levels, level: u32, count: u32) -> u64 {
    let below: u64 = levels
        .kept(u64::from(count))
        .skip(1)
        .take_while(|&l| l < level)
        .map(|l| u64::from(count) >> l)
        .sum();
    entry_offset(count) + HASH_LEN * below
}

fn slice(bytes: &[u8], span: Span) -> &[u8] {
    &bytes[span.offset as usize..span.offset as usize + span.len as usize]
}

fn to_u32(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| StoreError::BadBlock("larger than 4 GiB".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pedigree_core::merkle::leaf_hash;
    use pedigree_core::pb::{Block, SignedEnvelope};

    fn block(first_leaf: u64, count: u32) -> Vec<u8> {
        let header = BlockHeader {
            height: 3,
            tree_size: first_leaf + u64::from(count),
            event_count: count,
            ..Default::default()
        };
        Block {
            header: Some(SignedHeader {
                header: header.encode_to_vec(),
                signature: vec![7; 64],
            }),
            events: (0..count)
                .map(|i| SignedEnvelope {
                    payload: vec![i as u8; 10 + i as usize],
                    signer: format!("s{i}"),
                    ..Default::default()
                })
                .collect(),
            log_frontier: vec![vec![1; 32]],
            ..Default::default()
        }
        .encode_to_vec()
    }

    #[test]
    fn the_index_finds_the_header_and_each_event() {
        let bytes = block(41, 5);
        let index = BlockIndex::of_block(&bytes).expect("a block");
        assert_eq!(index.prefix.first_leaf, 41);
        assert_eq!(index.prefix.count, 5);
        let decoded = Block::decode(bytes.as_slice()).expect("a block");
        assert_eq!(
            SignedHeader::decode(slice(&bytes, index.prefix.header)).expect("header"),
            decoded.header.clone().expect("header")
        );
        for (span, event) in index.events.iter().zip(&decoded.events) {
            assert_eq!(&SignedEnvelope::decode(slice(&bytes, *span)).expect("event"), event);
        }
        let encoded = index.encode(&[]);
        assert_eq!(Prefix::parse(&encoded), Some(index.prefix));
        assert_eq!(Span::parse(&encoded[entry_offset(2) as usize..]), Some(index.events[2]));
    }

    #[test]
    fn kept_levels_follow_the_entries() {
        let levels = Levels::new(4).expect("valid stride");
        let leaves: Vec<Hash> = (0u32..300).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let kept = levels.append(0, &[], &leaves).expect("no tails");
        assert_eq!(kept.iter().map(Vec::len).collect::<Vec<_>>(), vec![300, 18, 1]);
        let index = BlockIndex {
            prefix: Prefix {
                first_leaf: 0,
                count: 300,
                header: Span { offset: 0, len: 0 },
            },
            events: vec![Span { offset: 0, len: 0 }; 300],
        };
        let encoded = index.encode(&kept);
        let at = |level: u32, i: usize| {
            let start = level_offset(levels, level, 300) as usize + 32 * i;
            <Hash>::try_from(&encoded[start..start + 32]).expect("32 bytes")
        };
        assert_eq!(at(4, 0), kept[1][0]);
        assert_eq!(at(4, 17), kept[1][17]);
        assert_eq!(at(8, 0), kept[2][0]);
        assert_eq!(encoded.len(), level_offset(levels, 12, 300) as usize);
    }

    #[test]
    fn what_is_not_a_block_is_refused() {
        assert!(BlockIndex::of_block(b"block one").is_err());
        assert!(BlockIndex::of_block(&[]).is_err());
        let mut bytes = block(0, 2);
        bytes.truncate(bytes.len() - 3);
        assert!(BlockIndex::of_block(&bytes).is_err());
        // A header counting more events than the block holds.
        let header = BlockHeader {
            tree_size: 4,
            event_count: 2,
            ..Default::default()
        };
        let lying = Block {
            header: Some(SignedHeader {
                header: header.encode_to_vec(),
                signature: vec![],
            }),
            ..Default::default()
        };
        assert!(BlockIndex::of_block(&lying.encode_to_vec()).is_err());
    }
}
