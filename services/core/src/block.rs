//! Blocks: sealing a batch of outcomes into a signed, hash-chained block, and checking one.
//!
//! The header is signed as encoded bytes and travels as those bytes ([`pb::SignedHeader`]), so nobody ever has to
//! re-encode a header to check it. Header hash = `SHA-256("pedigree.v2.header" || 0x00 || chain id || header bytes)`,
//! which is also the digest the sequencer signs: a header of one chain never verifies on another.

use pedigree_merkle::{CompactTree, leaf_hash, root};
use prost::Message;

use crate::Hash;
use crate::event::event_id;
use crate::keys::{HEADER_TAG, KeyError, KeyPair, PublicKey, tagged_hash_parts};
use crate::pb::{self, Block, BlockHeader, PartitionOffset, Rejection, SignedHeader};
use crate::sequencer_keys::SequencerKeys;

/// The chain position a new block extends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tip {
    /// The chain id ([`crate::participant::Genesis::chain_id`]), bound into every header digest.
    pub chain_id: Hash,
    /// Height of the last sealed block (0 before the first).
    pub height: u64,
    /// Hash of its header (the chain id before the first block).
    pub hash: Hash,
    /// The append-only log over every accepted event so far.
    pub log: CompactTree,
    /// Leadership term of the last block (0 before the first).
    pub epoch: u64,
    /// Block time of the last block (0 before the first): the next block's time may not be earlier.
    pub time_ms: i64,
}

impl Tip {
    /// The state before height 1: height 0, hash = the chain id, an empty log, epoch 0, time 0.
    pub fn genesis(chain_id: Hash) -> Self {
        Self {
            chain_id,
            height: 0,
            hash: chain_id,
            log: CompactTree::default(),
            epoch: 0,
            time_ms: 0,
        }
    }
}

/// Everything that goes into a block besides the chain position.
pub struct BlockContent {
    pub events: Vec<pb::SignedEnvelope>,
    pub rejected: Vec<Rejection>,
    pub resume_offsets: Vec<PartitionOffset>,
    pub time_ms: i64,
    /// The sealing sequencer's leadership term (at least 1); must not be below the tip's.
    pub epoch: u64,
    /// The registry root after the block's events ([`crate::participant::Registry::root`]).
    pub registry_root: Hash,
}

/// Leaf data of a rejection: event id followed by the reject code as a big-endian u32.
pub fn rejection_leaf(rejection: &Rejection) -> Hash {
    let mut data = Vec::with_capacity(36);
    data.extend_from_slice(&rejection.event_id);
    data.extend_from_slice(&(rejection.code as u32).to_be_bytes());
    leaf_hash(&data)
}

/// The header hash, which is also the digest its signature is over.
pub fn header_hash(chain_id: &Hash, header_bytes: &[u8]) -> Hash {
    tagged_hash_parts(HEADER_TAG, &[chain_id, header_bytes])
}

/// Seals `content` on top of `tip` and returns the block and the new tip.
pub fn seal(key: &KeyPair, tip: &Tip, content: BlockContent) -> (Block, Tip) {
    let leaves: Vec<Hash> = content
        .events
        .iter()
        .map(|e| leaf_hash(&event_id(&e.payload)))
        .collect();
    let rejected: Vec<Hash> = content.rejected.iter().map(rejection_leaf).collect();
    let mut log = tip.log.clone();
    for leaf in &leaves {
        log.push(*leaf);
    }
    let header = BlockHeader {
        height: tip.height + 1,
        prev_hash: tip.hash.to_vec(),
        merkle_root: root(&leaves).to_vec(),
        event_count: leaves.len() as u32,
        time_ms: content.time_ms,
        resume_offsets: content.resume_offsets,
        sequencer_key_id: key.key_id(),
        rejected_count: rejected.len() as u32,
        rejected_root: root(&rejected).to_vec(),
        tree_size: log.size(),
        log_root: log.root().to_vec(),
        epoch: content.epoch,
        registry_root: content.registry_root.to_vec(),
    };
    let header_bytes = header.encode_to_vec();
    let hash = header_hash(&tip.chain_id, &header_bytes);
    let signature = key.sign_digest(&hash);
    let next = Tip {
        chain_id: tip.chain_id,
        height: header.height,
        hash,
        log,
        epoch: header.epoch,
        time_ms: header.time_ms,
    };
    let block = Block {
        header: Some(SignedHeader {
            header: header_bytes,
            signature,
        }),
        events: content.events,
        rejected: content.rejected,
        log_frontier: next.log.frontier().iter().map(|h| h.to_vec()).collect(),
    };
    (block, next)
}

/// What is wrong with a block.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum BlockError {
    #[error("block has no header")]
    MissingHeader,
    #[error("header bytes do not decode: {0}")]
    Decode(String),
    #[error("header signature: {0}")]
    Signature(KeyError),
    #[error("height is {got}, expected {expected}")]
    Height { got: u64, expected: u64 },
    #[error("previous hash does not match the hash of block {0}")]
    PrevHash(u64),
    #[error("merkle root of the events does not match the header")]
    MerkleRoot,
    #[error("header counts {header} {what}, the block holds {body}")]
    Count {
        what: &'static str,
        header: u32,
        body: usize,
    },
    #[error("rejected root does not match the header")]
    RejectedRoot,
    #[error("log root or size does not match the header after appending this block's events")]
    LogRoot,
    #[error("block time {got} ms is earlier than the chain head's time {tip} ms")]
    TimeWentBack { got: i64, tip: i64 },
    #[error("epoch {got} is older than the chain head's epoch {head}")]
    StaleEpoch { got: u64, head: u64 },
    #[error("epoch is 0: terms start at 1")]
    ZeroEpoch,
    #[error("sequencer_key_id is '{got}', the key that signed is '{expected}'")]
    KeyId { got: String, expected: String },
}

/// Decodes a signed header of chain `chain_id` and checks its signature.
pub fn open_header(signed: &SignedHeader, chain_id: &Hash, sequencer: &PublicKey) -> Result<BlockHeader, BlockError> {
    sequencer
        .verify_digest(&header_hash(chain_id, &signed.header), &signed.signature)
        .map_err(BlockError::Signature)?;
    BlockHeader::decode(signed.header.as_slice()).map_err(|e| BlockError::Decode(e.to_string()))
}

/// Decodes a signed header of chain `chain_id` and checks it was signed by the key `sequencer` names for its height
/// (and that its `sequencer_key_id` names that key).
pub fn open_header_at(
    signed: &SignedHeader,
    chain_id: &Hash,
    sequencer: &SequencerKeys,
) -> Result<BlockHeader, BlockError> {
    // Decoded before its signature is checked only to learn its height, which names the key to check it with.
    let header = BlockHeader::decode(signed.header.as_slice()).map_err(|e| BlockError::Decode(e.to_string()))?;
    let key = sequencer.key_at(header.height);
    key.verify_digest(&header_hash(chain_id, &signed.header), &signed.signature)
        .map_err(BlockError::Signature)?;
    if header.sequencer_key_id != key.key_id() {
        return Err(BlockError::KeyId {
            got: header.sequencer_key_id,
            expected: key.key_id(),
        });
    }
    Ok(header)
}

/// Checks `block` as the successor of `tip` (signature, link, roots, counts, log) and returns the new tip.
/// Event signatures and custody rules are checked separately: they need the participant registry.
pub fn check_block(block: &Block, tip: &Tip, sequencer: &PublicKey) -> Result<(BlockHeader, Tip), BlockError> {
    let signed = block.header.as_ref().ok_or(BlockError::MissingHeader)?;
    let header = open_header(signed, &tip.chain_id, sequencer)?;
    if header.height != tip.height + 1 {
        return Err(BlockError::Height {
            got: header.height,
            expected: tip.height + 1,
        });
    }
    if header.prev_hash != tip.hash {
        return Err(BlockError::PrevHash(tip.height));
    }
    if header.epoch == 0 {
        return Err(BlockError::ZeroEpoch);
    }
    if header.sequencer_key_id != sequencer.key_id() {
        return Err(BlockError::KeyId {
            got: header.sequencer_key_id,
            expected: sequencer.key_id(),
        });
    }
    if header.epoch < tip.epoch {
        return Err(BlockError::StaleEpoch {
            got: header.epoch,
            head: tip.epoch,
        });
    }
    if header.time_ms < tip.time_ms {
        return Err(BlockError::TimeWentBack {
            got: header.time_ms,
            tip: tip.time_ms,
        });
    }
    count("events", header.event_count, block.events.len())?;
    count("rejections", header.rejected_count, block.rejected.len())?;
    let leaves: Vec<Hash> = block.events.iter().map(|e| leaf_hash(&event_id(&e.payload))).collect();
    if header.merkle_root != root(&leaves) {
        return Err(BlockError::MerkleRoot);
    }
    let rejected: Vec<Hash> = block.rejected.iter().map(rejection_leaf).collect();
    if header.rejected_root != root(&rejected) {
        return Err(BlockError::RejectedRoot);
    }
    let mut log = tip.log.clone();
    leaves.iter().for_each(|leaf| log.push(*leaf));
    if header.tree_size != log.size() || header.log_root != log.root() {
        return Err(BlockError::LogRoot);
    }
    let next = Tip {
        chain_id: tip.chain_id,
        height: header.height,
        hash: header_hash(&tip.chain_id, &signed.header),
        log,
        epoch: header.epoch,
        time_ms: header.time_ms,
    };
    Ok((header, next))
}

/// [`check_block`] under the key `sequencer` names for the height the block claims: the current key for the tip's
/// successor, the key of its own height for a stale competitor (a block a leader sealed with the key of its time, so
/// the audit can tell an honest race from a forgery after a rotation).
pub fn check_block_with(block: &Block, tip: &Tip, sequencer: &SequencerKeys) -> Result<(BlockHeader, Tip), BlockError> {
    let signed = block.header.as_ref().ok_or(BlockError::MissingHeader)?;
    let claimed = BlockHeader::decode(signed.header.as_slice()).map_err(|e| BlockError::Decode(e.to_string()))?;
    check_block(block, tip, sequencer.key_at(claimed.height))
}

fn count(what: &'static str, header: u32, body: usize) -> Result<(), BlockError> {
    if header as usize == body {
        Ok(())
    } else {
        Err(BlockError::Count { what, header, body })
    }
}

/// The tip after `block` of chain `chain_id`, trusting its own frontier (used to resume; [`check_block`] is the audit
/// path).
pub fn tip_of(block: &Block, chain_id: &Hash) -> Result<(BlockHeader, Tip), BlockError> {
    let signed = block.header.as_ref().ok_or(BlockError::MissingHeader)?;
    let header = BlockHeader::decode(signed.header.as_slice()).map_err(|e| BlockError::Decode(e.to_string()))?;
    let frontier: Vec<Hash> = block
        .log_frontier
        .iter()
        .map(|h| <Hash>::try_from(h.as_slice()).map_err(|_| BlockError::LogRoot))
        .collect::<Result<_, _>>()?;
    let log = CompactTree::from_frontier(header.tree_size, frontier).map_err(|_| BlockError::LogRoot)?;
    if header.log_root != log.root() {
        return Err(BlockError::LogRoot);
    }
    let tip = Tip {
        chain_id: *chain_id,
        height: header.height,
        hash: header_hash(chain_id, &signed.header),
        log,
        epoch: header.epoch,
        time_ms: header.time_ms,
    };
    Ok((header, tip))
}
