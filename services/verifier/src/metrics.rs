//! A few counters in Prometheus text format; enough to watch verdicts and latency without a metrics stack.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use pedigree_core::pb::Verdict;
use pedigree_core::verdict::verdict_name;

const VERDICTS: [Verdict; 11] = [
    Verdict::Verified,
    Verdict::UnknownProduct,
    Verdict::UnknownSerial,
    Verdict::LotMismatch,
    Verdict::ExpiryMismatch,
    Verdict::Expired,
    Verdict::Dispensed,
    Verdict::Recalled,
    Verdict::Decommissioned,
    Verdict::Withdrawn,
    Verdict::AlreadyDispensedByYou,
];

#[derive(Default)]
pub struct Metrics {
    by_verdict: [AtomicU64; 12],
    bad_requests: AtomicU64,
    latency_micros: AtomicU64,
}

impl Metrics {
    pub fn verified(&self, verdict: Verdict, took: Duration) {
        self.by_verdict[verdict as usize].fetch_add(1, Relaxed);
        self.latency_micros.fetch_add(took.as_micros() as u64, Relaxed);
    }

    pub fn bad_request(&self) {
        self.bad_requests.fetch_add(1, Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::from("# TYPE pedigree_verify_total counter\n");
        for v in VERDICTS {
            let n = self.by_verdict[v as usize].load(Relaxed);
            let _ = writeln!(out, "pedigree_verify_total{{verdict=\"{}\"}} {n}", verdict_name(v));
        }
        let _ = writeln!(out, "# TYPE pedigree_verify_bad_requests_total counter");
        let _ = writeln!(
            out,
            "pedigree_verify_bad_requests_total {}",
            self.bad_requests.load(Relaxed)
        );
        let _ = writeln!(out, "# TYPE pedigree_verify_seconds_sum counter");
        let secs = self.latency_micros.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "pedigree_verify_seconds_sum {secs}");
        out
    }
}
