//! Blocks as the store's tests write them: real `Block` encodings (the store reads their header and finds their
//! events), with made-up contents.

use pedigree_core::pb::{Block, BlockHeader, SignedEnvelope, SignedHeader};
use prost::Message;

/// Block `height` holding `events` events whose first leaf in the log is `first_leaf`.
pub fn block(height: u64, first_leaf: u64, events: usize) -> Vec<u8> {
    let header = BlockHeader {
        height,
        tree_size: first_leaf + events as u64,
        event_count: events as u32,
        merkle_root: vec![height as u8; 32],
        ..Default::default()
    };
    Block {
        header: Some(SignedHeader {
            header: header.encode_to_vec(),
            signature: vec![0xa5; 64],
        }),
        events: (0..events)
            .map(|i| SignedEnvelope {
                payload: format!("event {i} of block {height}").into_bytes(),
                signer: format!("signer {i}"),
                signature: vec![i as u8; 64],
            })
            .collect(),
        ..Default::default()
    }
    .encode_to_vec()
}
