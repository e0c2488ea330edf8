//! What a hostile run measured, against its targets.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::HostileArgs;
use super::attack::Scan;
use super::attacker::AttackCounts;
use crate::report::{CpuReport, Limits};

/// The legitimate pharmacies' scans.
pub struct Legit {
    latency_us: Histogram<u64>,
    errors: BTreeMap<String, u64>,
}

impl Default for Legit {
    fn default() -> Self {
        Self {
            latency_us: Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds"),
            errors: BTreeMap::new(),
        }
    }
}

impl Legit {
    pub fn add(&mut self, scans: Vec<Scan>) {
        for scan in scans {
            match scan {
                Ok(latency) => {
                    let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX).max(1);
                    let _ = self.latency_us.record(us.min(120_000_000));
                }
                Err(e) => *self.errors.entry(e).or_default() += 1,
            }
        }
    }
}

pub struct Parts {
    pub started_utc: String,
    pub args: HostileArgs,
    pub legit: Legit,
    pub max_rss_mb: f64,
    pub verifier_restarts: u32,
    pub attacked: AttackCounts,
    /// How long the attack process ran, in seconds (its counts cover all of it).
    pub attack_secs: f64,
    /// CPU over the measured window, in cores: the stack's processes, this process's threads, the attack process.
    pub cpu: CpuReport,
    pub limits: Limits,
}

#[derive(Debug, Serialize)]
pub struct HostileReport {
    pub started_utc: String,
    pub duration_secs: u64,
    pub slowloris_connections: usize,
    pub slow_header_connections: usize,
    pub flood_clients: usize,
    pub flood_bytes: usize,
    pub abusive_in_flight: usize,
    pub attack_nice: u8,
    pub attack_secs: f64,
    pub pharmacies: usize,
    pub scan_rate_each: u64,
    pub legit_scans: u64,
    pub legit_errors: BTreeMap<String, u64>,
    pub legit_p50_ms: f64,
    pub legit_p99_ms: f64,
    pub legit_max_ms: f64,
    pub verifier_max_rss_mb: f64,
    pub verifier_restarts: u32,
    pub slowloris: BTreeMap<String, u64>,
    pub slow_headers: BTreeMap<String, u64>,
    pub floods: BTreeMap<String, u64>,
    pub abusive: BTreeMap<String, u64>,
    pub cpu: CpuReport,
    pub limits: Limits,
    /// Every target met: p99 under 50 ms, no legitimate scan refused, the verifier under 256 MB and never restarted.
    pub targets_met: bool,
}

pub const P99_TARGET_MS: f64 = 50.0;
pub const RSS_TARGET_MB: f64 = 256.0;

fn ms(us: u64) -> f64 {
    Duration::from_micros(us).as_secs_f64() * 1000.0
}

impl HostileReport {
    pub fn new(p: Parts) -> Self {
        let h = &p.legit.latency_us;
        let (p50, p99, max) = if h.is_empty() {
            (0.0, 0.0, 0.0)
        } else {
            (ms(h.value_at_quantile(0.5)), ms(h.value_at_quantile(0.99)), ms(h.max()))
        };
        let legit_scans = h.len();
        let targets_met = legit_scans > 0
            && p.legit.errors.is_empty()
            && p99 < P99_TARGET_MS
            && p.max_rss_mb < RSS_TARGET_MB
            && p.verifier_restarts == 0;
        Self {
            started_utc: p.started_utc,
            duration_secs: p.args.duration,
            slowloris_connections: p.args.slowloris,
            slow_header_connections: p.args.slow_headers,
            flood_clients: p.args.floods,
            flood_bytes: p.args.flood_bytes,
            abusive_in_flight: p.args.abusive,
            attack_nice: p.args.attack_nice,
            attack_secs: p.attack_secs,
            pharmacies: p.args.pharmacies,
            scan_rate_each: p.args.scan_rate,
            legit_scans,
            legit_errors: p.legit.errors,
            legit_p50_ms: p50,
            legit_p99_ms: p99,
            legit_max_ms: max,
            verifier_max_rss_mb: p.max_rss_mb,
            verifier_restarts: p.verifier_restarts,
            slowloris: p.attacked.slowloris,
            slow_headers: p.attacked.slow_headers,
            floods: p.attacked.floods,
            abusive: p.attacked.abusive,
            cpu: p.cpu,
            limits: p.limits,
            targets_met,
        }
    }
}

fn counts(map: &BTreeMap<String, u64>) -> String {
    if map.is_empty() {
        return "none".into();
    }
    map.iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The run as Markdown.
pub fn render(r: &HostileReport) -> String {
    let met = |ok: bool| if ok { "met" } else { "MISSED" };
    let mut out = format!(
        "# Hostile run {}\n\n{} pharmacies scanning {} times a second each over HTTPS for {} s, while {} connections \
         trickle a TLS handshake, {} trickle HTTP headers, {} clients send {} MB requests back to back and one \
         address scans with {} requests in flight, from a process of their own at niceness {} (attack time {:.0} s, \
         which the counts below cover).\n\n",
        r.started_utc,
        r.pharmacies,
        r.scan_rate_each,
        r.duration_secs,
        r.slowloris_connections,
        r.slow_header_connections,
        r.flood_clients,
        r.flood_bytes / (1024 * 1024),
        r.abusive_in_flight,
        r.attack_nice,
        r.attack_secs,
    );
    out.push_str("| measure | value | target |\n| --- | --- | --- |\n");
    out.push_str(&format!(
        "| legitimate scans | {} ({} refused or failed: {}) | none refused: {} |\n",
        r.legit_scans,
        r.legit_errors.values().sum::<u64>(),
        counts(&r.legit_errors),
        met(r.legit_errors.is_empty())
    ));
    out.push_str(&format!(
        "| legitimate p50 / p99 / max | {:.1} / {:.1} / {:.1} ms | p99 < {P99_TARGET_MS} ms: {} |\n",
        r.legit_p50_ms,
        r.legit_p99_ms,
        r.legit_max_ms,
        met(r.legit_p99_ms < P99_TARGET_MS)
    ));
    out.push_str(&format!(
        "| verifier resident memory, max | {:.0} MB | < {RSS_TARGET_MB} MB: {} |\n",
        r.verifier_max_rss_mb,
        met(r.verifier_max_rss_mb < RSS_TARGET_MB)
    ));
    out.push_str(&format!("| verifier restarts | {} | 0 |\n\n", r.verifier_restarts));
    out.push_str(&format!("- slowloris (handshake): {}\n", counts(&r.slowloris)));
    out.push_str(&format!("- slow headers: {}\n", counts(&r.slow_headers)));
    out.push_str(&format!("- oversized requests: {}\n", counts(&r.floods)));
    out.push_str(&format!("- abusive address: {}\n", counts(&r.abusive)));
    out.push_str(&format!(
        "- machine: k256 verifications/s on one core {}\n",
        r.limits
            .k256_verifies_per_sec_1_core
            .map_or("not measured".to_string(), |v| format!("{v:.0}"))
    ));
    out.push_str(&format!("- over the window, {}\n", crate::table::cpu_line(&r.cpu)));
    out.push_str(&format!(
        "\nAll targets {}.\n",
        if r.targets_met { "met" } else { "NOT met" }
    ));
    out
}
