//! Pedigree's load tester: pre-signs custody events, drives them (and pack scans) against a spawned or running
//! stack, reads the blocks topic to time sealing and to check that every acknowledged event was sealed exactly once,
//! and reports throughput and latency percentiles next to the machine's limits and the project's targets.
//!
//! - [`cli`]: the command line, also used by the smoke test.
//! - [`target`] / [`parties`]: where to send and who signs.
//! - [`ids`], [`presign`], [`workload`], [`sizing`]: fresh identifiers, the signed events of each scenario and how
//!   many to sign.
//! - [`submit`], [`pacer`], [`ticker`], [`backlog`], [`chains`], [`scan`]: the clients and how they drive load.
//! - [`watcher`], [`exactly_once`]: sealing as seen on the blocks topic.
//! - [`window`], [`recorder`], [`cpu`], [`limits`]: measurements, each over a timed phase's steady-state window.
//! - [`scenario`]: ingest, bulk, verify and mixed; [`chaos`]: real processes killed and paused under load;
//!   [`failover`]: a new leader's start time against the chain's length; [`hostile`]: legitimate scans under
//!   slowloris, oversized requests and an abusive address.
//! - [`report`], [`targets`], [`table`], [`plot`]: the results.

#![forbid(unsafe_code)]

pub mod backlog;
pub mod chains;
pub mod chaos;
pub mod cli;
pub mod cpu;
pub mod exactly_once;
pub mod failover;
pub mod hostile;
pub mod ids;
pub mod limits;
pub mod master_data;
pub mod pacer;
pub mod parties;
pub mod plot;
pub mod presign;
pub mod recorder;
pub mod report;
pub mod run;
pub mod scan;
pub mod scenario;
pub mod sizing;
pub mod submit;
pub mod table;
pub mod target;
pub mod targets;
pub mod ticker;
pub mod watcher;
pub mod window;
pub mod workload;

pub use cli::Cli;
pub use run::{Outcome, run};
