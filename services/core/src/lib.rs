//! Pedigree's domain logic, free of IO so every rule can be tested in isolation.
//!
//! - [`keys`]: k256 keys, key ids, domain-separated signing and verification.
//! - [`participant`]: roles, participants and the genesis registry.
//! - [`event`]: a signed envelope checked and decoded into a validated [`event::Event`].
//! - [`governance`]: registry changes on the ledger (register, rotate a key, revoke).
//! - [`state`]: the custody state machine over pack records.
//! - [`block`]: sealing and checking signed, hash-chained blocks.
//! - [`stored`]: the compact form Redis keeps a pack in.
//! - [`verdict`]: the answer to a pharmacist's scan.
//! - [`custody_rpc`]: the custody RPCs and the kind of event each takes (the one module that touches gRPC: the
//!   table custody serves and clients call, so that both follow the event kinds defined here).

#![forbid(unsafe_code)]

pub mod audit;
pub mod block;
pub mod body;
pub mod custody_rpc;
pub mod event;
pub mod governance;
pub mod keys;
pub mod participant;
pub mod proof;
pub mod state;
pub mod stored;
pub mod transition;
pub mod verdict;

pub use pedigree_gs1 as gs1;
pub use pedigree_merkle as merkle;
pub use pedigree_proto::v1 as pb;

/// A SHA-256 digest.
pub type Hash = [u8; 32];
