//! The sequencer: the single writer that turns the events topic into a chain of signed blocks.
//!
//! Loop: collect a batch (by count, bytes or wait) from the events topic → re-check every envelope in parallel →
//! drop events that already have an outcome → load the touched packs from Redis in one round trip → apply the
//! custody rules in topic order → seal a block → append it to the blocks topic and wait for the acknowledgement →
//! write its effects to Redis in one atomic script (under a backlog, while the next batch is applied).
//!
//! The blocks topic is the source of truth: each header carries the events-topic offsets to resume from, so a
//! restart folds the topic into the canonical chain ([`chain`]), brings Redis up to its tip if it is behind, and
//! continues from its offsets. An event is in exactly one canonical block because offsets only advance with a sealed
//! block and events already decided are skipped.
//!
//! Leadership ([`leadership`], [`lease`]): only a sequencer holding a term seals, with the term's epoch; fencing by
//! the canonical-chain rule and fenced Redis writes keep the chain unforked even if two believe they lead.

#![forbid(unsafe_code)]

mod app;
mod batch;
pub mod chain;
mod config;
pub mod leadership;
pub mod lease;
mod process;
mod resume;
mod sealer;

pub use app::App;
pub use config::{Config, LeadershipConfig, LeadershipMode};
