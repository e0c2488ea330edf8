//! Pedigree's state in Redis: a cache of the block log, written only by the sequencer.
//!
//! - [`schema`]: the Redis keys and what each holds.
//! - [`buckets`]: where a pack lives (packs of a GTIN spread over small hashes by linear hashing).
//! - `config`: [`RedisConfig`], how a service reaches Redis (TLS, its ACL user); `acl`: the ACL users
//!   ([`RedisUser`]) and the file Redis loads ([`acl_file`]).
//! - `store`: the [`Store`] handle (one connection, the layouts last seen).
//! - `freshness`: whether Redis holds ledger state and how far it is behind a replay ([`Freshness`]).
//! - `reads`: the head, packs, a scan's lookup, products, event outcomes, blocks and the log's leaves; `lot_reads`:
//!   every pack of a GTIN in one consistent read (tracing a lot).
//! - `registry`: the participant registry as of `head` ([`RegistryView`], kept current by [`follow_registry`]).
//! - `block_write`: a block's effects and `head` in one atomic script ([`Store::write_block_if_head`]), with the
//!   bucket moves and groups it writes (`bucket_writes`) and the script itself (`script`).
//! - `log_growth`: what a block adds to the log's kept levels and its proof index (`proof_index`: that index's
//!   layout); `log_reads`: log proofs and a block's event with its inclusion proof in O(log n) reads and hashes;
//!   `upgrade`: bringing state of an older layout to the current one ([`Store::upgrade_layout`]).
//! - `markers`: keys others write: custody's pending marks and the verifier's sign-in nonces; `alerts`: the alerts
//!   the verifiers fold from the alerts log.
//! - `error`: [`StoreError`].
//!
//! The `test-support` feature adds what only tests may do (emptying the database); only dev-dependencies enable it.

#![forbid(unsafe_code)]

mod acl;
mod alerts;
mod block_write;
mod bucket_writes;
pub mod buckets;
mod config;
mod error;
mod freshness;
mod log_growth;
mod log_reads;
mod lot_reads;
mod markers;
mod proof_index;
mod reads;
mod registry;
pub mod schema;
mod script;
mod store;
#[cfg(feature = "test-support")]
mod test_support;
mod upgrade;

pub use acl::{RedisUser, acl_file};
pub use alerts::StoredAlert;
pub use block_write::{BlockWrite, Fenced};
pub use config::RedisConfig;
pub use error::{Result, StoreError};
pub use freshness::{Freshness, Stale};
pub use log_reads::BlockEvent;
pub use markers::{PENDING_TTL, Pending};
pub use reads::PartyEventsPage;
pub use registry::{RegistryView, follow_registry};
pub use store::Store;
