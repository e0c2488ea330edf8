//! A block as a follower, the audit or a third-party verifier reads it from the blocks topic: protobuf decoding,
//! then `check_block` against the genesis tip (header signature, height, hashes, Merkle roots, log). Nothing may
//! panic, a block that checks out must be height 1, and every error message says something and is short.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use pedigree_core::block::{Tip, check_block};
use pedigree_core::participant::Registry;
use pedigree_core::pb::Block;
use pedigree_fuzz::check_message;
use prost::Message;

static REGISTRY: LazyLock<Registry> = LazyLock::new(pedigree_fuzz::registry);

fuzz_target!(|data: &[u8]| {
    if let Ok(block) = Block::decode(data) {
        let tip = Tip::genesis(REGISTRY.chain_id);
        match check_block(&block, &tip, &REGISTRY.sequencer_key()) {
            Ok((header, next)) => {
                assert_eq!(header.height, 1);
                assert_eq!(next.height, 1);
            }
            Err(e) => check_message(&e.to_string()),
        }
    }
});
