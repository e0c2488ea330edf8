//! Pedigree's domain logic, free of IO so every rule can be tested in isolation.
//!
//! - [`keys`]: k256 keys, key ids, domain-separated signing and verification.
//! - [`kind`]: the kinds of events.
//! - [`participant`]: roles, participants, the genesis registry and the governance signer's id.
//! - [`event`]: a validated [`event::Event`] and why an envelope is refused.
//! - [`disclosure`]: the event core (what a signature commits to: salted per-pack leaves, commitments), pack openings.
//! - [`decode`]: payload bytes to an event, every field checked.
//! - [`envelope`]: the gate every event passes (size, signer, signature, role); signing payloads.
//! - [`context`], [`refusal`]: where in the chain an event is applied, and why it does not apply.
//! - [`product`]: GS1 company prefixes, a product's master data, the digest a new owner signs to take a product.
//! - [`pack_key`]: a pack's identity (GTIN-14 and serial) as one key.
//! - [`container`]: a container's identity (SSCC or case SGTIN) and its element string.
//! - [`aggregation`]: the rules for packing packs and containers into containers, and taking them out.
//! - [`transition`]: the rules for one pack under one event.
//! - [`suspect`]: quarantine, clearing and illegitimate declarations of suspect packs.
//! - [`governance`]: registry changes on the ledger (register, rotate a key, revoke).
//! - [`registry_root`]: the Merkle root over the participant records every header carries, and its proofs.
//! - [`state`]: the custody state machine over pack records.
//! - [`block`]: sealing and checking signed, hash-chained blocks.
//! - [`stored`]: the compact form Redis keeps a pack in.
//! - [`verdict`]: the answer to a pharmacist's scan.
//! - [`session`]: the message a participant signs to sign in to the verifier.
//! - [`custody_rpc`]: the custody RPCs and the kind of event each takes (the one module that touches gRPC: the
//!   table custody serves and clients call, so that both follow the event kinds defined here).
//!
//! Modules depend on each other in one direction only, leaves first: `keys`, `kind`, `context`, `refusal`,
//! `pack_key`, `container`, `product`, `verdict`, `body`; `participant` (then `stored`, `registry_root`, `disclosure`); `event`; `decode`; `envelope`; `transition`,
//! `aggregation` and `governance`; `state`; `block`; `proof` and `audit`; `custody_rpc`.

#![forbid(unsafe_code)]

pub mod aggregation;
pub mod alert;
pub mod audit;
pub mod block;
pub mod block_size;
pub mod body;
pub mod container;
pub mod context;
pub mod custody_rpc;
pub mod decode;
pub mod disclosure;
pub mod envelope;
pub mod epcis_capture;
pub mod event;
pub mod governance;
pub mod history;
pub mod keys;
pub mod kind;
pub mod pack_key;
pub mod participant;
pub mod party_index;
pub mod product;
pub mod proof;
pub mod refusal;
pub mod registry_root;
pub mod sequencer_keys;
pub mod session;
pub mod state;
pub mod stored;
pub mod suspect;
pub mod transition;
pub mod verdict;

pub use pedigree_gs1 as gs1;
pub use pedigree_merkle as merkle;
pub use pedigree_proto::v1 as pb;

/// A SHA-256 digest.
pub type Hash = [u8; 32];
