//! The project's targets, printed next to what the run measured (the run is never tuned to meet them).

use crate::chains::SEALED;
use crate::cli::Scenario;
use crate::report::{PhaseReport, TargetCheck};
use crate::scan::{GRPC, GRPC_PACED, HTTP, HTTP_PACED};
use crate::scenario::{bulk, ingest, mixed};

const INGEST_PER_SEC: f64 = 5_000.0;
const BULK_PACKS_PER_SEC: f64 = 100_000.0;
const VERIFY_PER_SEC: f64 = 20_000.0;
const VERIFY_P99_MS: f64 = 5.0;
/// HTTP may be this much worse than the gRPC target.
const HTTP_SLACK: f64 = 0.30;
const SEAL_P99_MS: f64 = 250.0;

fn at_least(what: &str, unit: &str, target: f64, measured: Option<f64>) -> TargetCheck {
    TargetCheck {
        what: what.into(),
        target: format!(">= {target:.0} {unit}/s"),
        measured: measured.map_or("not measured".into(), |m| format!("{m:.0} {unit}/s")),
        met: measured.map(|m| m >= target),
    }
}

fn below(what: &str, target_ms: f64, measured: Option<f64>) -> TargetCheck {
    TargetCheck {
        what: what.into(),
        target: format!("p99 < {target_ms} ms"),
        measured: measured.map_or("not measured".into(), |m| format!("p99 {m:.2} ms")),
        met: measured.map(|m| m < target_ms),
    }
}

fn find<'a>(phases: &'a [PhaseReport], phase: &str) -> Option<&'a PhaseReport> {
    phases.iter().find(|p| p.name == phase)
}

fn rate(phases: &[PhaseReport], phase: &str, series: &str) -> Option<f64> {
    find(phases, phase)?.series.get(series).map(|s| s.per_sec)
}

fn p99(phases: &[PhaseReport], phase: &str, series: &str) -> Option<f64> {
    find(phases, phase)?.series.get(series).map(|s| s.latency.p99_ms)
}

/// Throughput from the `rates` phases (gRPC, HTTP), latency from the `latencies` phases.
fn verify_checks(phases: &[PhaseReport], rates: (&str, &str), latencies: (&str, &str)) -> Vec<TargetCheck> {
    let http_rate = VERIFY_PER_SEC * (1.0 - HTTP_SLACK);
    let http_p99 = VERIFY_P99_MS * (1.0 + HTTP_SLACK);
    vec![
        at_least("verify gRPC", "scans", VERIFY_PER_SEC, rate(phases, rates.0, GRPC)),
        below(
            &format!("verify gRPC latency ({})", latencies.0),
            VERIFY_P99_MS,
            p99(phases, latencies.0, GRPC),
        ),
        at_least(
            "verify HTTP (within 30%)",
            "scans",
            http_rate,
            rate(phases, rates.1, HTTP),
        ),
        below(
            &format!("verify HTTP latency ({}, within 30%)", latencies.1),
            http_p99,
            p99(phases, latencies.1, HTTP),
        ),
    ]
}

/// The verify scenario: latency at the steady rate when that was measured, else flat out.
fn verify_scenario_checks(phases: &[PhaseReport]) -> Vec<TargetCheck> {
    let paced = find(phases, GRPC_PACED).is_some() && find(phases, HTTP_PACED).is_some();
    let latencies = if paced { (GRPC_PACED, HTTP_PACED) } else { (GRPC, HTTP) };
    verify_checks(phases, (GRPC, HTTP), latencies)
}

fn ingest_checks(phases: &[PhaseReport]) -> Vec<TargetCheck> {
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
            rate(phases, main, SEALED),
        ),
        below(
            &format!("submit-to-sealed at half of max rate ({seal_phase} pass)"),
            SEAL_P99_MS,
            p99(phases, seal_phase, SEALED),
        ),
    ]
}

/// The targets that apply to `scenario`.
pub fn evaluate(scenario: Scenario, phases: &[PhaseReport]) -> Vec<TargetCheck> {
    match scenario {
        Scenario::Ingest => ingest_checks(phases),
        Scenario::Bulk => vec![at_least(
            "bulk end to end",
            "packs",
            BULK_PACKS_PER_SEC,
            rate(phases, bulk::PHASE, SEALED),
        )],
        Scenario::Verify => verify_scenario_checks(phases),
        Scenario::Mixed => {
            let mut checks = vec![at_least(
                "ingest end to end (while scanning)",
                "events",
                INGEST_PER_SEC,
                rate(phases, mixed::PHASE, SEALED),
            )];
            checks.extend(
                verify_checks(phases, (mixed::PHASE, mixed::PHASE), (mixed::PHASE, mixed::PHASE))
                    .into_iter()
                    .filter(|c| c.target.starts_with("p99")),
            );
            checks
        }
    }
}
