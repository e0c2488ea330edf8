//! The sequencer: the single writer that turns the events topic into a chain of signed blocks.
//!
//! Loop ([`sealer`]): collect a batch (by count, bytes or wait) from the events topic ([`batch`]) → re-check every
//! envelope in parallel ([`recheck`]) → drop events that already have an outcome and load the touched packs from
//! Redis ([`load`]) → apply the custody rules in topic order ([`apply`]) → seal a block → append it to the blocks
//! topic and wait for the acknowledgement → read it back ([`follow`]) → hand its effects ([`effects`]) to the
//! write-behind ([`write_behind`]), the one owner of a block's Redis write (under a backlog it writes while the next
//! batch is applied).
//!
//! The blocks topic is the source of truth: each header carries the events-topic offsets to resume from, so a
//! restart folds the topic into the canonical chain and its participant registry ([`chain`]: events are judged
//! against that fold, never against the registry in Redis), brings Redis up to its tip if it is behind
//! ([`replay`]), and continues from its offsets. An event is in exactly one canonical block because offsets only
//! advance with a sealed block and events already decided are skipped.
//!
//! Metrics ([`metrics`]): blocks, events, phases, leadership, the lag behind the events topic, progress.
//!
//! Faults ([`halt`], [`progress`]): a failure of Redis or the broker is retried with backoff from the canonical
//! tip, without a process exit; a failure that means the log or Redis is not what the chain says (records gone,
//! Redis on another chain) stops the process. Health turns NOT_SERVING when the loop is busy without progress.
//!
//! Leadership ([`role`], [`leadership`], [`lease`]): only a sequencer holding a term seals, with the term's epoch;
//! fencing by the canonical-chain rule and fenced Redis writes keep the chain unforked even if two believe they lead.

#![forbid(unsafe_code)]

mod app;
mod apply;
mod batch;
pub mod chain;
mod config;
mod effects;
mod follow;
mod halt;
pub mod leadership;
pub mod lease;
mod load;
pub mod metrics;
mod progress;
mod recheck;
mod replay;
pub mod role;
mod sealer;
mod write_behind;

pub use app::App;
pub use config::{Config, LeadershipConfig, LeadershipMode};
