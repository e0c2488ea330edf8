//! A block as a follower, the audit or a third-party verifier reads it from the blocks topic: protobuf decoding,
//! then `check_block` against the genesis tip (header signature, height, hashes, Merkle roots, log). Nothing may
//! panic, and a block that checks out must be height 1.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use pedigree_core::block::{Tip, check_block};
use pedigree_core::participant::Registry;
use pedigree_core::pb::Block;
use prost::Message;

static REGISTRY: LazyLock<Registry> = LazyLock::new(pedigree_fuzz::registry);

fuzz_target!(|data: &[u8]| {
    if let Ok(block) = Block::decode(data) {
        let tip = Tip::genesis(REGISTRY.chain_id);
        if let Ok((header, next)) = check_block(&block, &tip, &REGISTRY.sequencer_key) {
            assert_eq!(header.height, 1);
            assert_eq!(next.height, 1);
        }
    }
});
