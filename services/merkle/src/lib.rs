//! RFC 6962 / RFC 9162 Merkle trees over SHA-256 for Pedigree's hash-chained blocks.
//!
//! Leaves are hashed as `SHA-256(0x00 || data)` and interior nodes as `SHA-256(0x01 || left || right)`;
//! the distinct prefixes keep a leaf from ever being passed off as an interior node (second-preimage
//! resistance). A tree of `n > 1` leaves splits at the largest power of two strictly less than `n`,
//! and the empty tree's root is `SHA-256("")`.
//!
//! - [`root`] computes a tree head from leaf hashes without recursion or per-node allocation.
//! - [`inclusion_proof`] / [`verify_inclusion`] implement RFC 9162 sections 2.1.3.1 and 2.1.3.2.
//! - [`consistency_proof`] / [`verify_consistency`] implement RFC 9162 sections 2.1.4.1 and 2.1.4.2.
//! - [`CompactTree`] keeps an append-only tree as its O(log n) frontier, for a sequencer that must
//!   publish a root after every append since genesis.
//! - [`ProofPlan`] lists the perfect subtrees ([`Node`]s) a proof or root needs and folds their hashes into it, and
//!   [`Levels`] keeps a growing tree's perfect subtrees on every `stride`-th level: proofs from stored nodes in
//!   O(log n) reads and hashes, whatever the size of the tree.
//!
//! Every function that takes `leaves` expects *leaf hashes* (the output of [`leaf_hash`]), not raw
//! entries, so callers can hash once and reuse the hashes for roots and proofs alike.

#![forbid(unsafe_code)]

mod consistency;
mod error;
mod hash;
mod inclusion;
mod levels;
mod log;
mod plan;
mod root;

pub use consistency::{consistency_proof, verify_consistency};
pub use error::MerkleError;
pub use hash::{HASH_LEN, Hash, empty_root, leaf_hash, node_hash};
pub use inclusion::{inclusion_proof, verify_inclusion};
pub use levels::{Levels, Run};
pub use log::CompactTree;
pub use plan::{Node, ProofPlan};
pub use root::root;
