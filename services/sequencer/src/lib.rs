//! The sequencer: the single writer that turns the events topic into a chain of signed blocks.
//!
//! Loop: collect a batch (by count, bytes or wait) from the events topic → re-check every envelope in parallel →
//! drop events that already have an outcome → load the touched packs from Redis in one round trip → apply the
//! custody rules in topic order → seal a block → append it to the blocks topic and wait for the acknowledgement →
//! write its effects to Redis in one transaction.
//!
//! The blocks topic is the source of truth: each header carries the events-topic offsets to resume from, so a
//! restart reads the last block, brings Redis up to it if it is behind, and continues from those offsets. An event
//! is in exactly one block because offsets only advance with a sealed block and events already decided are skipped.

#![forbid(unsafe_code)]

mod app;
mod batch;
mod config;
mod process;
mod resume;

pub use app::App;
pub use config::Config;
