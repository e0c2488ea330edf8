//! Sealing and checking blocks: a chain verifies link by link, `tip_of` agrees with `seal`, every kind of tampering
//! is caught with the right `BlockError`, sealing is deterministic, and a fixed-key vector pins the header encoding.

use std::sync::LazyLock;

use pedigree_core::block::{BlockContent, BlockError, Tip, check_block, header_hash, rejection_leaf, seal, tip_of};
use pedigree_core::body;
use pedigree_core::envelope::sign_payload;
use pedigree_core::event::event_id;
use pedigree_core::keys::{KeyError, KeyPair};
use pedigree_core::merkle::{CompactTree, empty_root, leaf_hash, root};
use pedigree_core::pb::{self, Block, BlockHeader, PartitionOffset, RejectCode, Rejection};
use prost::Message;

const GTIN: &str = "09506000134352";
/// The chain of these tests: any 32 bytes do for a chain id here (the genesis encoding is tested elsewhere).
const CHAIN: pedigree_core::Hash = [0x11; 32];

static SEQUENCER: LazyLock<KeyPair> = LazyLock::new(KeyPair::generate);
static PARTICIPANT: LazyLock<KeyPair> = LazyLock::new(KeyPair::generate);

/// A signed commission of serial `S{n}`; the random nonce makes every call distinct.
fn event(n: usize) -> pb::SignedEnvelope {
    let payload =
        pedigree_core::envelope::new_payload(&CHAIN, "m", body::commission(GTIN, "L1", "271231", &[format!("S{n}")]));
    sign_payload(&PARTICIPANT, &payload)
}

fn rejection(n: u8, code: RejectCode) -> Rejection {
    Rejection {
        event_id: vec![n; 32],
        code: code as i32,
        reason: format!("serial S{n}: refused"),
    }
}

fn content(events: usize, rejections: usize) -> BlockContent {
    BlockContent {
        events: (0..events).map(event).collect(),
        rejected: (0..rejections)
            .map(|i| rejection(i as u8, RejectCode::NotHolder))
            .collect(),
        resume_offsets: vec![PartitionOffset {
            partition: 0,
            next_offset: 42,
        }],
        time_ms: 1_767_225_600_000,
        epoch: 1,
        registry_root: [0x22; 32],
    }
}

fn header(block: &Block) -> BlockHeader {
    BlockHeader::decode(block.header.as_ref().unwrap().header.as_slice()).unwrap()
}

fn check(block: &Block, tip: &Tip) -> Result<Tip, BlockError> {
    check_block(block, tip, &SEQUENCER.public()).map(|(_, tip)| tip)
}

/// Re-encodes `block`'s header after `edit` and signs it again with the sequencer key.
fn resign(block: &mut Block, edit: impl FnOnce(&mut BlockHeader)) {
    let mut h = header(block);
    edit(&mut h);
    let bytes = h.encode_to_vec();
    block.header = Some(pb::SignedHeader {
        signature: SEQUENCER.sign_digest(&header_hash(&CHAIN, &bytes)),
        header: bytes,
    });
}

/// A block of two events and two rejections at height 1, and the tip before it.
fn first_block() -> (Block, Tip) {
    let (block, _) = seal(&SEQUENCER, &Tip::genesis(CHAIN), content(2, 2));
    (block, Tip::genesis(CHAIN))
}

/// Three blocks sealed in a row and the tips after each (index 0 is genesis).
fn chain() -> (Vec<Block>, Vec<Tip>) {
    let mut tips = vec![Tip::genesis(CHAIN)];
    let mut blocks = Vec::new();
    for (events, rejections) in [(3, 1), (0, 2), (5, 0)] {
        let (block, next) = seal(&SEQUENCER, tips.last().unwrap(), content(events, rejections));
        blocks.push(block);
        tips.push(next);
    }
    (blocks, tips)
}

#[test]
fn a_chain_of_sealed_blocks_verifies_link_by_link() {
    let mut tip = Tip::genesis(CHAIN);
    let mut total = 0u64;
    for (height, (events, rejections)) in [(3, 1), (0, 0), (1, 2), (0, 3), (7, 0)].into_iter().enumerate() {
        let height = height as u64 + 1;
        let (block, sealed) = seal(&SEQUENCER, &tip, content(events, rejections));
        let (h, checked) = check_block(&block, &tip, &SEQUENCER.public()).unwrap();
        total += events as u64;
        assert_eq!(checked, sealed, "check_block and seal agree on the next tip");
        assert_eq!(h.height, height);
        assert_eq!(h.prev_hash, tip.hash.to_vec());
        assert_eq!(h.event_count as usize, events);
        assert_eq!(h.rejected_count as usize, rejections);
        assert_eq!(h.tree_size, total);
        assert_eq!(h.log_root, checked.log.root().to_vec());
        assert_eq!(h.sequencer_key_id, SEQUENCER.key_id());
        assert_eq!(
            h.resume_offsets,
            vec![PartitionOffset {
                partition: 0,
                next_offset: 42
            }]
        );
        assert_eq!(checked.height, height);
        assert_eq!(
            checked.hash,
            header_hash(&CHAIN, &block.header.as_ref().unwrap().header)
        );
        tip = checked;
    }
    assert_eq!(tip.log.size(), total);
}

#[test]
fn the_first_block_links_to_the_chain_id() {
    let (block, _) = first_block();
    assert_eq!(header(&block).prev_hash, CHAIN.to_vec());
    assert_eq!(header(&block).height, 1);
}

#[test]
fn header_roots_are_rfc6962_roots_of_ids_and_rejections() {
    let (block, _) = first_block();
    let h = header(&block);
    let leaves: Vec<_> = block.events.iter().map(|e| leaf_hash(&event_id(&e.payload))).collect();
    assert_eq!(h.merkle_root, root(&leaves).to_vec());
    let mut data = vec![0u8; 32];
    data.extend_from_slice(&(RejectCode::NotHolder as u32).to_be_bytes());
    assert_eq!(rejection_leaf(&block.rejected[0]), leaf_hash(&data));
    let rejected: Vec<_> = block.rejected.iter().map(rejection_leaf).collect();
    assert_eq!(h.rejected_root, root(&rejected).to_vec());
}

#[test]
fn an_empty_block_has_empty_roots() {
    let (block, tip) = seal(&SEQUENCER, &Tip::genesis(CHAIN), content(0, 0));
    let h = header(&block);
    assert_eq!(h.merkle_root, empty_root().to_vec());
    assert_eq!(h.rejected_root, empty_root().to_vec());
    assert_eq!(h.log_root, empty_root().to_vec());
    assert_eq!(h.tree_size, 0);
    assert!(block.log_frontier.is_empty());
    assert_eq!(check(&block, &Tip::genesis(CHAIN)), Ok(tip));
}

#[test]
fn tip_of_a_block_equals_the_tip_seal_returned() {
    let (blocks, tips) = chain();
    for (block, tip) in blocks.iter().zip(&tips[1..]) {
        let (h, resumed) = tip_of(block, &CHAIN).unwrap();
        assert_eq!(&resumed, tip);
        assert_eq!(h, header(block));
    }
}

#[test]
fn a_chain_resumed_from_tip_of_continues_identically() {
    let (blocks, tips) = chain();
    let (_, resumed) = tip_of(&blocks[1], &CHAIN).unwrap();
    assert_eq!(check(&blocks[2], &resumed), Ok(tips[3].clone()));
}

// ---------------------------------------------------------------------------------------------------------------
// Tampering.

#[test]
fn changed_event_payload_byte_breaks_the_merkle_root() {
    let (mut block, tip) = first_block();
    let last = block.events[1].payload.len() - 1;
    block.events[1].payload[last] ^= 0x01;
    assert_eq!(check(&block, &tip), Err(BlockError::MerkleRoot));
}

#[test]
fn reordered_events_break_the_merkle_root() {
    let (mut block, tip) = first_block();
    assert_ne!(block.events[0], block.events[1]);
    block.events.swap(0, 1);
    assert_eq!(check(&block, &tip), Err(BlockError::MerkleRoot));
}

#[test]
fn substituted_event_breaks_the_merkle_root() {
    let (mut block, tip) = first_block();
    block.events[0] = event(0);
    assert_eq!(check(&block, &tip), Err(BlockError::MerkleRoot));
}

#[test]
fn removed_event_breaks_the_count() {
    let (mut block, tip) = first_block();
    block.events.pop();
    assert_eq!(
        check(&block, &tip),
        Err(BlockError::Count {
            what: "events",
            header: 2,
            body: 1
        })
    );
}

#[test]
fn removed_rejection_breaks_the_count() {
    let (mut block, tip) = first_block();
    block.rejected.remove(0);
    assert_eq!(
        check(&block, &tip),
        Err(BlockError::Count {
            what: "rejections",
            header: 2,
            body: 1
        })
    );
}

#[test]
fn changed_rejection_code_breaks_the_rejected_root() {
    let (mut block, tip) = first_block();
    block.rejected[1].code = RejectCode::WrongReceiver as i32;
    assert_eq!(check(&block, &tip), Err(BlockError::RejectedRoot));
}

#[test]
fn changed_rejected_event_id_breaks_the_rejected_root() {
    let (mut block, tip) = first_block();
    block.rejected[0].event_id[31] ^= 0x01;
    assert_eq!(check(&block, &tip), Err(BlockError::RejectedRoot));
}

#[test]
fn rejection_reason_text_is_not_committed() {
    // ledger.proto: the rejected root's leaf data is event id || code; the reason is human-readable detail only.
    let (mut block, tip) = first_block();
    block.rejected[0].reason = "something else".into();
    assert!(check(&block, &tip).is_ok());
}

#[test]
fn header_signed_by_another_key_is_refused() {
    let (mut block, tip) = first_block();
    let signed = block.header.as_mut().unwrap();
    signed.signature = KeyPair::generate().sign_digest(&header_hash(&CHAIN, &signed.header));
    assert_eq!(check(&block, &tip), Err(BlockError::Signature(KeyError::Mismatch)));
}

#[test]
fn block_checked_against_another_sequencer_key_is_refused() {
    let (block, tip) = first_block();
    let result = check_block(&block, &tip, &KeyPair::generate().public());
    assert_eq!(result, Err(BlockError::Signature(KeyError::Mismatch)));
}

#[test]
fn edited_header_bytes_break_the_signature() {
    let (mut block, tip) = first_block();
    let mut h = header(&block);
    h.time_ms += 1;
    block.header.as_mut().unwrap().header = h.encode_to_vec();
    assert_eq!(check(&block, &tip), Err(BlockError::Signature(KeyError::Mismatch)));
}

#[test]
fn block_without_header_is_refused() {
    let (mut block, tip) = first_block();
    block.header = None;
    assert_eq!(check(&block, &tip), Err(BlockError::MissingHeader));
    assert_eq!(tip_of(&block, &CHAIN).unwrap_err(), BlockError::MissingHeader);
}

#[test]
fn signed_garbage_header_does_not_decode() {
    let (mut block, tip) = first_block();
    let bytes = vec![0xff; 8];
    block.header = Some(pb::SignedHeader {
        signature: SEQUENCER.sign_digest(&header_hash(&CHAIN, &bytes)),
        header: bytes,
    });
    assert!(matches!(check(&block, &tip), Err(BlockError::Decode(_))));
}

#[test]
fn wrong_height_is_refused() {
    let (mut block, tip) = first_block();
    resign(&mut block, |h| h.height = 5);
    assert_eq!(check(&block, &tip), Err(BlockError::Height { got: 5, expected: 1 }));
}

#[test]
fn replayed_block_is_refused_by_height() {
    let (blocks, tips) = chain();
    assert_eq!(
        check(&blocks[0], &tips[1]),
        Err(BlockError::Height { got: 1, expected: 2 })
    );
}

#[test]
fn skipping_a_block_is_refused_by_height() {
    let (blocks, tips) = chain();
    assert_eq!(
        check(&blocks[2], &tips[1]),
        Err(BlockError::Height { got: 3, expected: 2 })
    );
}

#[test]
fn block_sealed_on_another_tip_of_the_same_height_is_refused_by_prev_hash() {
    let (blocks, tips) = chain();
    // A fork: another block 1, then a block 2 on top of it.
    let (_, fork_tip) = seal(&SEQUENCER, &Tip::genesis(CHAIN), content(3, 1));
    let (fork_block, _) = seal(&SEQUENCER, &fork_tip, content(1, 0));
    assert_eq!(check(&fork_block, &tips[1]), Err(BlockError::PrevHash(1)));
    assert!(check(&blocks[1], &tips[1]).is_ok());
}

#[test]
fn wrong_prev_hash_is_refused() {
    let (mut block, tip) = first_block();
    resign(&mut block, |h| h.prev_hash[0] ^= 0x01);
    assert_eq!(check(&block, &tip), Err(BlockError::PrevHash(0)));
}

#[test]
fn block_sealed_on_a_different_log_is_refused_by_log_root() {
    let (_, tips) = chain();
    // Same height and hash, but the log forgot everything.
    let forgetful = Tip {
        log: CompactTree::new(),
        ..tips[3].clone()
    };
    let (block, _) = seal(&SEQUENCER, &forgetful, content(2, 0));
    assert_eq!(check(&block, &tips[3]), Err(BlockError::LogRoot));
}

#[test]
fn header_tree_size_must_match_the_log() {
    let (mut block, tip) = first_block();
    resign(&mut block, |h| h.tree_size += 1);
    assert_eq!(check(&block, &tip), Err(BlockError::LogRoot));
}

#[test]
fn tampered_log_frontier_makes_tip_of_fail() {
    let (blocks, _) = chain();
    // After 8 events the frontier is one hash; after 3 + 0 events it is two.
    let block = &blocks[1];
    assert_eq!(block.log_frontier.len(), 2);

    let mut changed = block.clone();
    changed.log_frontier[1][0] ^= 0x01;
    assert_eq!(tip_of(&changed, &CHAIN).unwrap_err(), BlockError::LogRoot);

    let mut dropped = block.clone();
    dropped.log_frontier.pop();
    assert_eq!(tip_of(&dropped, &CHAIN).unwrap_err(), BlockError::LogRoot);

    let mut extra = block.clone();
    extra.log_frontier.push(vec![0; 32]);
    assert_eq!(tip_of(&extra, &CHAIN).unwrap_err(), BlockError::LogRoot);

    let mut short = block.clone();
    short.log_frontier[0].pop();
    assert_eq!(tip_of(&short, &CHAIN).unwrap_err(), BlockError::LogRoot);

    let mut swapped = block.clone();
    swapped.log_frontier.swap(0, 1);
    assert_eq!(tip_of(&swapped, &CHAIN).unwrap_err(), BlockError::LogRoot);
}

#[test]
fn the_epoch_is_sealed_into_the_header_and_carried_by_the_tip() {
    let (blocks, tips) = chain();
    assert_eq!(header(&blocks[0]).epoch, 1);
    assert_eq!(tips[1].epoch, 1);
    assert_eq!(tip_of(&blocks[0], &CHAIN).unwrap().1.epoch, 1);
}

#[test]
fn the_epoch_may_stay_or_grow_along_the_chain() {
    let (_, tips) = chain();
    for epoch in [1, 2, 100] {
        let (block, sealed) = seal(&SEQUENCER, &tips[3], BlockContent { epoch, ..content(1, 0) });
        assert_eq!(check(&block, &tips[3]), Ok(sealed.clone()), "epoch {epoch}");
        assert_eq!(sealed.epoch, epoch);
    }
}

#[test]
fn a_block_from_an_older_epoch_is_refused() {
    let (_, tips) = chain();
    let head = Tip {
        epoch: 5,
        ..tips[3].clone()
    };
    let (block, _) = seal(
        &SEQUENCER,
        &head,
        BlockContent {
            epoch: 4,
            ..content(1, 0)
        },
    );
    assert_eq!(check(&block, &head), Err(BlockError::StaleEpoch { got: 4, head: 5 }));
}

#[test]
fn block_time_may_not_go_back_but_may_stay() {
    let (_, tips) = chain();
    let head = &tips[3];
    let earlier = BlockContent {
        time_ms: head.time_ms - 1,
        ..content(1, 0)
    };
    let (block, _) = seal(&SEQUENCER, head, earlier);
    assert_eq!(
        check(&block, head),
        Err(BlockError::TimeWentBack {
            got: head.time_ms - 1,
            tip: head.time_ms
        })
    );
    let same = BlockContent {
        time_ms: head.time_ms,
        ..content(1, 0)
    };
    let (block, next) = seal(&SEQUENCER, head, same);
    assert_eq!(check(&block, head), Ok(next));
}

// ---------------------------------------------------------------------------------------------------------------
// Determinism and a fixed-key vector.

#[test]
fn sealing_the_same_content_on_the_same_tip_gives_identical_bytes() {
    let (_, tips) = chain();
    let events: Vec<_> = (0..4).map(event).collect();
    let make = || BlockContent {
        events: events.clone(),
        rejected: vec![rejection(9, RejectCode::PackExists)],
        resume_offsets: vec![PartitionOffset {
            partition: 3,
            next_offset: 7,
        }],
        time_ms: 5,
        epoch: 2,
        registry_root: [0x33; 32],
    };
    let (a, tip_a) = seal(&SEQUENCER, &tips[2], make());
    let (b, tip_b) = seal(&SEQUENCER, &tips[2], make());
    // ECDSA signing is deterministic (RFC 6979), so even the signature repeats.
    assert_eq!(a.encode_to_vec(), b.encode_to_vec());
    assert_eq!(tip_a, tip_b);
}

/// PKCS#8 DER of the secp256k1 private key 0x01 02 .. 20 (no optional public key), as PEM (64-column lines).
fn fixed_key() -> KeyPair {
    const PEM: &str = "-----BEGIN PRIVATE KEY-----\n\
        MD4CAQAwEAYHKoZIzj0CAQYFK4EEAAoEJzAlAgEBBCABAgMEBQYHCAkKCwwNDg8Q\n\
        ERITFBUWFxgZGhscHR4fIA==\n\
        -----END PRIVATE KEY-----\n";
    KeyPair::from_pem(PEM).unwrap()
}

#[test]
fn fixed_key_has_the_expected_public_key_and_key_id() {
    // Both derived independently with openssl and sha256sum from the same PEM.
    let key = fixed_key();
    assert_eq!(
        key.public().to_hex(),
        "0284bf7562262bbd6940085748f3be6afa52ae317155181ece31b66351ccffa4b0"
    );
    assert_eq!(key.key_id(), "d136e9438ef1b044");
}

#[test]
fn empty_genesis_block_header_has_the_documented_encoding() {
    let key = fixed_key();
    let content = BlockContent {
        events: vec![],
        rejected: vec![],
        resume_offsets: vec![],
        time_ms: 1000,
        epoch: 3,
        registry_root: pedigree_core::merkle::empty_root(),
    };
    let (block, tip) = seal(&key, &Tip::genesis(CHAIN), content);
    let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    // Field by field per ledger.proto (proto3 leaves zero scalars out): height 1, prev_hash = the chain id, merkle_root,
    // time_ms 1000, sequencer_key_id, rejected_root, log_root, epoch 3, registry_root (no participants).
    let want = [
        "0801".to_string(),
        format!("1220{}", "11".repeat(32)),
        format!("1a20{empty}"),
        "28e807".to_string(),
        format!("3a10{}", hex_of(b"d136e9438ef1b044")),
        format!("4a20{empty}"),
        format!("5a20{empty}"),
        "6003".to_string(),
        format!("6a20{empty}"),
    ]
    .concat();
    let signed = block.header.as_ref().unwrap();
    assert_eq!(hex_of(&signed.header), want);
    assert_eq!(tip.hash, header_hash(&CHAIN, &signed.header));
    // SHA-256("pedigree.v2.header" || 0x00 || chain id || header), computed outside this crate.
    assert_eq!(
        hex_of(&tip.hash),
        "d26304bd83170b70034995b7698b51cfd09f3580349c7c4a08d7429785701cc7"
    );
    key.public()
        .verify_digest(&header_hash(&CHAIN, &signed.header), &signed.signature)
        .unwrap();
    // RFC 6979 makes the signature a function of key and header alone.
    assert_eq!(hex_of(&signed.signature), FIXED_SIGNATURE);
}

/// Signature of the header above under the fixed key: r || s with RFC 6979 nonce (HMAC-SHA-256) and low S, over
/// SHA-256("pedigree.v2.header" || 0x00 || chain id || header). Cross-checked outside this crate (the from-scratch
/// verifier of scripts/check_vectors.py accepts it).
const FIXED_SIGNATURE: &str = "e22f6c184082359dfbc727c4e54cb4a791898464ec3ebbb3f22865644c768464\
                               627c4c517cadf18b3b58bc5db3e2b33c7a8d8f97dd2639739604e52dd7c039be";

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
