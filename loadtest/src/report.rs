//! The report of a run, as written to `report.json`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::cli::Options;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Latency {
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

/// One second of the run (t seconds after its start) for one series.
#[derive(Clone, Debug, Serialize)]
pub struct Second {
    pub t: u32,
    pub units: u64,
    pub count: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// One kind of operation in a phase: submit (to acknowledgement), sealed (submit to sealed), verify-grpc/-http.
/// The figures are the window's (see [`crate::window`]); `phase_count` and `phase_units` and the timeline cover the
/// whole phase, warm-up and drain included.
#[derive(Clone, Debug, Serialize)]
pub struct SeriesReport {
    /// What `units` counts: events, packs or scans.
    pub unit: String,
    /// Operations that started in the window: the latency percentiles are theirs.
    pub count: u64,
    /// Units of the operations that ended in the window.
    pub units: u64,
    /// The window's length.
    pub secs: f64,
    /// `units` / `secs`.
    pub per_sec: f64,
    pub latency: Latency,
    /// Operations and units over the whole phase.
    pub phase_count: u64,
    pub phase_units: u64,
    pub timeline: Vec<Second>,
}

/// Where a phase's figures come from.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WindowReport {
    /// Seconds from the run's start to the window's start.
    pub start_s: f64,
    /// Its length in seconds: the denominator of every throughput of the phase.
    pub secs: f64,
    /// The warm-up and the window asked for (`--warmup`, `--duration`). None for an untimed phase (seeding a
    /// population), whose figures span from its start to each series' last operation.
    pub warmup_secs: Option<f64>,
    pub asked_secs: Option<f64>,
    /// Why the window is shorter than asked, if it is.
    pub cut: Option<String>,
}

/// CPU use during a phase, in cores (1.0 = one core busy all the time).
#[derive(Clone, Debug, Default, Serialize)]
pub struct CpuReport {
    /// Share of all cores busy.
    pub machine_busy: f64,
    /// By thread ("loadtest:<thread>") or process name.
    pub cores: BTreeMap<String, f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PhaseReport {
    pub name: String,
    /// Events per second the phase was paced at, if any.
    pub rate_limit: Option<f64>,
    pub window: WindowReport,
    pub series: BTreeMap<String, SeriesReport>,
    pub errors: BTreeMap<String, u64>,
    /// Events never sent because their chain was cut by an error (or, seeding, by the phase timeout).
    pub skipped: u64,
    /// Pre-signed events not needed: the window ended first (a margin the pool is sized with).
    pub unsent: u64,
    /// Over the window (from the end of the warm-up until sending stopped), or over an untimed phase.
    pub cpu: CpuReport,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Limits {
    pub k256_verifies_per_sec_1_core: Option<f64>,
    pub redis_gets_per_sec: Option<f64>,
    pub notes: Vec<String>,
}

/// Every acknowledged event must be on the blocks topic exactly once.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ExactlyOnce {
    pub acked: u64,
    pub sealed_once: u64,
    pub lost: u64,
    pub duplicated: u64,
    /// Sealed once, but as a rejection (also counted in `sealed_once`).
    pub rejected: u64,
    pub rejected_by_code: BTreeMap<String, u64>,
    /// Hex ids of a few lost or duplicated events.
    pub examples: Vec<String>,
    pub ok: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct WatcherReport {
    pub blocks: u64,
    pub ids: u64,
    pub undecodable_blocks: u64,
    pub poll_errors: u64,
    /// Time from a header's time_ms to the load tester consuming the block.
    pub consume_lag_p50_ms: i64,
    pub consume_lag_max_ms: i64,
    /// Accepted plus rejected events per block.
    pub events_per_block_mean: f64,
    pub events_per_block_max: u64,
    /// Median time between consecutive blocks' header times: the sequencer's cycle when it is busy.
    pub block_interval_p50_ms: i64,
}

/// A target and how the run compares (met is None when the run did not measure it).
#[derive(Clone, Debug, Serialize)]
pub struct TargetCheck {
    pub what: String,
    pub target: String,
    pub measured: String,
    /// A throughput as a ratio to the machine limit measured in the same run that bounds it (e.g. "0.48x k256").
    pub ratio: Option<String>,
    /// The window the figure was measured over, in seconds.
    pub window_secs: Option<f64>,
    pub met: Option<bool>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Presign {
    pub events: u64,
    pub secs: f64,
    pub per_sec: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Endpoints {
    pub custody: String,
    pub verifier: String,
    pub verifier_http: String,
    pub brokers: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub scenario: String,
    pub started_utc: String,
    /// spawn or remote.
    pub mode: String,
    pub endpoints: Endpoints,
    pub batch_max_events: Option<usize>,
    pub options: Options,
    pub run_id: String,
    pub presign: Presign,
    pub limits: Limits,
    pub phases: Vec<PhaseReport>,
    pub exactly_once: ExactlyOnce,
    pub watcher: WatcherReport,
    pub targets: Vec<TargetCheck>,
    pub notes: Vec<String>,
}

impl Report {
    /// Errors of every phase.
    pub fn error_total(&self) -> u64 {
        self.phases.iter().flat_map(|p| p.errors.values()).sum()
    }

    pub fn phase(&self, name: &str) -> Option<&PhaseReport> {
        self.phases.iter().find(|p| p.name == name)
    }

    pub fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        let json = serde_json::to_string_pretty(self).context("encoding the report")?;
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))
    }
}
