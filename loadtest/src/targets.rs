//! The project's targets, printed next to what the run measured over its phases' windows (the run is never tuned to
//! meet them), with each throughput's ratio to the machine limit that bounds it.

use crate::chains::SEALED;
use crate::cli::Scenario;
use crate::report::{Limits, PhaseReport, SeriesReport, TargetCheck};
use crate::scan::{GRPC, GRPC_PACED, HTTP, HTTP_PACED};
use crate::scenario::{bulk, ingest, mixed};

const INGEST_PER_SEC: f64 = 5_000.0;
const BULK_PACKS_PER_SEC: f64 = 100_000.0;
const VERIFY_PER_SEC: f64 = 20_000.0;
const VERIFY_P99_MS: f64 = 5.0;
/// HTTP may be this much worse than the gRPC target.
const HTTP_SLACK: f64 = 0.30;
const SEAL_P99_MS: f64 = 250.0;

/// The machine limit, measured in the same run, that bounds a throughput: the ratio to it is what compares runs on
/// a shared box whose speed varies.
#[derive(Clone, Copy)]
enum Bound {
    /// Ingest: custody and the sequencer each verify every event's signature.
    K256,
    /// Bulk and scans: the work is Redis round trips.
    Redis,
}

fn ratio(rate: f64, bound: Bound, limits: &Limits) -> Option<String> {
    let (limit, name) = match bound {
        Bound::K256 => (limits.k256_verifies_per_sec_1_core, "k256 verify/s (1 core)"),
        Bound::Redis => (limits.redis_gets_per_sec, "Redis GET/s"),
    };
    let limit = limit.filter(|l| *l > 0.0)?;
    Some(format!("{:.2}x {name}", rate / limit))
}

fn at_least(
    what: &str,
    unit: &str,
    target: f64,
    measured: Option<&SeriesReport>,
    (bound, limits): (Bound, &Limits),
) -> TargetCheck {
    let rate = measured.map(|s| s.per_sec);
    TargetCheck {
        what: what.into(),
        target: format!(">= {target:.0} {unit}/s"),
        measured: rate.map_or("not measured".into(), |m| format!("{m:.0} {unit}/s")),
        ratio: rate.and_then(|r| ratio(r, bound, limits)),
        window_secs: measured.map(|s| s.secs),
        met: rate.map(|m| m >= target),
    }
}

fn below(what: &str, target_ms: f64, measured: Option<&SeriesReport>) -> TargetCheck {
    // No operation started in the window: no latency was measured (zeros would pass).
    let measured = measured.filter(|s| s.count > 0);
    let p99 = measured.map(|s| s.latency.p99_ms);
    TargetCheck {
        what: what.into(),
        target: format!("p99 < {target_ms} ms"),
        measured: p99.map_or("not measured".into(), |m| format!("p99 {m:.2} ms")),
        ratio: None,
        window_secs: measured.map(|s| s.secs),
        met: p99.map(|m| m < target_ms),
    }
}

fn find<'a>(phases: &'a [PhaseReport], phase: &str) -> Option<&'a PhaseReport> {
    phases.iter().find(|p| p.name == phase)
}

fn series<'a>(phases: &'a [PhaseReport], phase: &str, series: &str) -> Option<&'a SeriesReport> {
    find(phases, phase)?.series.get(series)
}

/// Throughput from the `rates` phases (gRPC, HTTP), latency from the `latencies` phases.
fn verify_checks(
    phases: &[PhaseReport],
    rates: (&str, &str),
    latencies: (&str, &str),
    limits: &Limits,
) -> Vec<TargetCheck> {
    let http_rate = VERIFY_PER_SEC * (1.0 - HTTP_SLACK);
    let http_p99 = VERIFY_P99_MS * (1.0 + HTTP_SLACK);
    vec![
        at_least(
            "verify gRPC",
            "scans",
            VERIFY_PER_SEC,
            series(phases, rates.0, GRPC),
            (Bound::Redis, limits),
        ),
        below(
            &format!("verify gRPC latency ({})", latencies.0),
            VERIFY_P99_MS,
            series(phases, latencies.0, GRPC),
        ),
        at_least(
            "verify HTTP (within 30%)",
            "scans",
            http_rate,
            series(phases, rates.1, HTTP),
            (Bound::Redis, limits),
        ),
        below(
            &format!("verify HTTP latency ({}, within 30%)", latencies.1),
            http_p99,
            series(phases, latencies.1, HTTP),
        ),
    ]
}

/// The verify scenario: latency at the steady rate when that was measured, else flat out.
fn verify_scenario_checks(phases: &[PhaseReport], limits: &Limits) -> Vec<TargetCheck> {
    let paced = find(phases, GRPC_PACED).is_some() && find(phases, HTTP_PACED).is_some();
    let latencies = if paced { (GRPC_PACED, HTTP_PACED) } else { (GRPC, HTTP) };
    verify_checks(phases, (GRPC, HTTP), latencies, limits)
}

fn ingest_checks(phases: &[PhaseReport], limits: &Limits) -> Vec<TargetCheck> {
    let main = if find(phases, ingest::PACED).is_some() {
        ingest::PACED
    } else {
        ingest::MAIN
    };
    let seal_phase = if find(phases, ingest::HALF).is_some() {
        ingest::HALF
    } else {
        main
    };
    vec![
        at_least(
            "ingest end to end",
            "events",
            INGEST_PER_SEC,
            series(phases, main, SEALED),
            (Bound::K256, limits),
        ),
        below(
            &format!("submit-to-sealed at half of max rate ({seal_phase} pass)"),
            SEAL_P99_MS,
            series(phases, seal_phase, SEALED),
        ),
    ]
}

/// The targets that apply to `scenario`.
pub fn evaluate(scenario: Scenario, phases: &[PhaseReport], limits: &Limits) -> Vec<TargetCheck> {
    match scenario {
        Scenario::Ingest => ingest_checks(phases, limits),
        Scenario::Bulk => vec![at_least(
            "bulk end to end",
            "packs",
            BULK_PACKS_PER_SEC,
            series(phases, bulk::PHASE, SEALED),
            (Bound::Redis, limits),
        )],
        Scenario::Verify => verify_scenario_checks(phases, limits),
        Scenario::Mixed => {
            let mut checks = vec![at_least(
                "ingest end to end (while scanning)",
                "events",
                INGEST_PER_SEC,
                series(phases, mixed::PHASE, SEALED),
                (Bound::K256, limits),
            )];
            checks.extend(
                verify_checks(
                    phases,
                    (mixed::PHASE, mixed::PHASE),
                    (mixed::PHASE, mixed::PHASE),
                    limits,
                )
                .into_iter()
                .filter(|c| c.target.starts_with("p99")),
            );
            checks
        }
    }
}
