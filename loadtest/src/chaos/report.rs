//! What a chaos run found, as JSON and as the Markdown tables docs/reliability.md quotes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::ChaosArgs;
use super::check::{ReplayCheck, StoreCheck};
use super::plan::{Component, FaultKind};
use crate::report::ExactlyOnce;

/// One fault as applied.
#[derive(Clone, Debug, Serialize)]
pub struct FaultRecord {
    pub component: Component,
    pub kind: FaultKind,
    /// Seconds since the start of the run.
    pub at_secs: f64,
    /// For a kill: the supervisor started a new process.
    pub restarted: bool,
    /// From the kill (or the SIGCONT) until a fresh pack was acknowledged, read back sealed and scanned VERIFIED.
    pub recovered_after_secs: Option<f64>,
}

/// Per component.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ComponentSummary {
    pub kills: usize,
    pub pauses: usize,
    pub restarts: u32,
    pub recovery_median_secs: Option<f64>,
    pub recovery_max_secs: Option<f64>,
    pub not_recovered: usize,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ChaosReport {
    pub started_utc: String,
    pub seed: u64,
    pub clients: usize,
    pub scanners: usize,
    pub batch_max_events: usize,
    pub pause_secs: u64,
    pub load_secs: f64,
    pub faults: Vec<FaultRecord>,
    pub components: BTreeMap<String, ComponentSummary>,
    pub restarts: BTreeMap<String, u32>,
    pub supervisor_notices: usize,
    pub chains_done: u64,
    pub exactly_once: ExactlyOnce,
    pub submit_retries: BTreeMap<String, u64>,
    /// Events custody refused outright: none should be.
    pub refused: Vec<String>,
    /// Scan answers during the run, by kind.
    pub scans: BTreeMap<String, u64>,
    pub wrong_verdicts: Vec<String>,
    pub audit: Option<String>,
    pub audit_error: Option<String>,
    pub store: StoreCheck,
    pub replay: ReplayCheck,
    /// The stack's folder (keys, logs).
    pub logs: String,
    /// Every check passed.
    pub ok: bool,
    /// The checks that failed.
    pub failures: Vec<String>,
}

fn median(sorted: &[f64]) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let mid = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    })
}

impl ChaosReport {
    pub fn new(args: &ChaosArgs, started_utc: String, load_secs: f64, faults: Vec<FaultRecord>) -> Self {
        let mut components = BTreeMap::new();
        for c in Component::ALL {
            let mine: Vec<&FaultRecord> = faults.iter().filter(|f| f.component == c).collect();
            let mut times: Vec<f64> = mine.iter().filter_map(|f| f.recovered_after_secs).collect();
            times.sort_by(f64::total_cmp);
            components.insert(
                c.name().to_string(),
                ComponentSummary {
                    kills: mine.iter().filter(|f| f.kind == FaultKind::Kill).count(),
                    pauses: mine.iter().filter(|f| f.kind != FaultKind::Kill).count(),
                    restarts: 0,
                    recovery_median_secs: median(&times),
                    recovery_max_secs: times.last().copied(),
                    not_recovered: mine.iter().filter(|f| f.recovered_after_secs.is_none()).count(),
                },
            );
        }
        Self {
            started_utc,
            seed: args.seed,
            clients: args.clients,
            scanners: args.scanners,
            batch_max_events: args.batch_max_events,
            pause_secs: args.pause_secs,
            load_secs,
            faults,
            components,
            ..Self::default()
        }
    }

    /// Fills in the restart counts and decides.
    pub fn conclude(&mut self) {
        for (name, n) in &self.restarts {
            if let Some(c) = self.components.get_mut(name) {
                c.restarts = *n;
            }
        }
        let mut failures = Vec::new();
        if let Some(e) = &self.audit_error {
            failures.push(format!("audit: {e}"));
        }
        let eo = &self.exactly_once;
        if eo.acked == 0 {
            failures.push("no event was acknowledged".into());
        }
        if eo.lost > 0 || eo.duplicated > 0 {
            failures.push(format!(
                "{} acknowledged events lost, {} sealed twice",
                eo.lost, eo.duplicated
            ));
        }
        if !self.wrong_verdicts.is_empty() {
            failures.push(format!("{} wrong verdicts during the run", self.wrong_count()));
        }
        if !self.refused.is_empty() {
            failures.push(format!("custody refused {} events", self.refused.len()));
        }
        let unrecovered = self.faults.iter().filter(|f| f.recovered_after_secs.is_none()).count();
        if unrecovered > 0 {
            failures.push(format!("{unrecovered} faults not recovered from"));
        }
        if self.faults.iter().any(|f| f.kind == FaultKind::Kill && !f.restarted) {
            failures.push("a killed process was not restarted".into());
        }
        if self.audit_error.is_none() {
            if !self.store.ok {
                failures.push(format!("redis differs from a replay of the log: {:?}", self.store));
            }
            if !self.replay.ok {
                failures.push(format!(
                    "verify answers differ from the replay: {} of {} equal, {} unanswered",
                    self.replay.equal, self.replay.compared, self.replay.unanswered
                ));
            }
        }
        self.ok = failures.is_empty();
        self.failures = failures;
    }

    pub fn wrong_count(&self) -> u64 {
        self.scans.get("wrong verdict").copied().unwrap_or(0)
    }
}

fn secs(v: Option<f64>) -> String {
    v.map_or("-".into(), |s| format!("{s:.1} s"))
}

/// The Markdown summary.
pub fn render(r: &ChaosReport) -> String {
    let mut out = String::new();
    let kills: usize = r.components.values().map(|c| c.kills).sum();
    let pauses: usize = r.components.values().map(|c| c.pauses).sum();
    let _ = writeln!(
        out,
        "chaos run {} (seed {}): {kills} kills, {pauses} pauses of {} s, {:.0} s of load, {} clients, {} scanners, \
         blocks of at most {} events: {}\n",
        r.started_utc,
        r.seed,
        r.pause_secs,
        r.load_secs,
        r.clients,
        r.scanners,
        r.batch_max_events,
        if r.ok { "PASSED" } else { "FAILED" }
    );
    let _ = writeln!(
        out,
        "| component | kills | pauses | restarts | recovery median | recovery max (longest unavailability) | not recovered |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    for (name, c) in &r.components {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} | {} |",
            c.kills,
            c.pauses,
            c.restarts,
            secs(c.recovery_median_secs),
            secs(c.recovery_max_secs),
            c.not_recovered
        );
    }
    let eo = &r.exactly_once;
    let _ = writeln!(
        out,
        "\nevents: {} acknowledged, {} sealed exactly once ({} of them as rejections), {} lost, {} duplicated; {} \
         chains walked to the dispense",
        eo.acked, eo.sealed_once, eo.rejected, eo.lost, eo.duplicated, r.chains_done
    );
    let retries: Vec<String> = r.submit_retries.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(
        out,
        "submissions retried with the same envelope: {}",
        if retries.is_empty() {
            "none".into()
        } else {
            retries.join(", ")
        }
    );
    let scans: Vec<String> = r.scans.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(out, "scan answers during the run: {}", scans.join(", "));
    let _ = writeln!(out, "wrong verdicts: {}", r.wrong_count());
    for w in &r.wrong_verdicts {
        let _ = writeln!(out, "  - {w}");
    }
    let _ = writeln!(
        out,
        "audit: {}",
        r.audit.as_deref().or(r.audit_error.as_deref()).unwrap_or("-")
    );
    let _ = writeln!(
        out,
        "redis against the replay: head {} / {}, log leaves {} / {}, roots equal: {}",
        r.store.redis_head, r.store.chain_head, r.store.redis_leaves, r.store.chain_leaves, r.store.roots_equal
    );
    let _ = writeln!(
        out,
        "verify answers against the replay: {} of {} equal, {} unanswered",
        r.replay.equal, r.replay.compared, r.replay.unanswered
    );
    for m in &r.replay.mismatches {
        let _ = writeln!(out, "  - {m}");
    }
    if !r.failures.is_empty() {
        let _ = writeln!(out, "\nFAILED: {}", r.failures.join("; "));
    }
    out
}
