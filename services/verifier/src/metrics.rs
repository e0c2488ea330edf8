//! The verifier's metrics (on `/metrics` of its HTTP port, and on `PEDIGREE_METRICS_ADDR` when set; see
//! `pedigree_runtime::metrics`): scans answered by verdict and how long they took, requests refused, scans answered
//! UNAVAILABLE, readiness, and how far Redis is behind a replay in progress.

use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use pedigree_core::pb::Verdict;
use pedigree_core::verdict::verdict_name;
use pedigree_store::Freshness;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Every verdict a scan is answered with (the `verdict` label).
pub const VERDICTS: [Verdict; 11] = [
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

/// The verifier's metrics and the registry that renders them.
#[derive(Debug)]
pub struct Metrics {
    registry: Arc<Registry>,
    answers: Family<[(&'static str, &'static str); 1], Counter>,
    latency: Histogram,
    bad_requests: Counter,
    unavailable: Counter,
    ready: Gauge,
    redis_lag: Gauge,
    redis_head: Gauge,
    alerts: Family<[(&'static str, &'static str); 1], Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Counters kept by other parts of the process, registered with the verifier's metrics.
#[derive(Default)]
pub struct Refusals {
    /// Requests shed for want of an in-flight slot.
    pub shed: Counter,
    /// Requests refused for their caller's rate.
    pub rate_limited: Counter,
}

impl Metrics {
    /// A registry with every metric of the verifier, every verdict's series at zero.
    pub fn new() -> Self {
        Self::with(Refusals::default())
    }

    /// [`Metrics::new`], counting refusals with the given counters.
    pub fn with(refusals: Refusals) -> Self {
        let mut registry = pedigree_runtime::metrics::registry("verifier");
        let answers = Family::<[(&'static str, &'static str); 1], Counter>::default();
        for v in VERDICTS {
            let _ = answers.get_or_create(&[("verdict", verdict_name(v))]);
        }
        let latency = Histogram::new(pedigree_runtime::metrics::latency_buckets());
        let (bad_requests, unavailable) = (Counter::default(), Counter::default());
        let (ready, redis_lag, redis_head) = (Gauge::default(), Gauge::default(), Gauge::default());
        registry.register(
            "pedigree_verifier_answers",
            "Scans answered with a verdict, by verdict",
            answers.clone(),
        );
        registry.register(
            "pedigree_verifier_answer_duration_seconds",
            "Time to answer a scan with a verdict (the Redis round trip included, the proof bundle not)",
            latency.clone(),
        );
        registry.register(
            "pedigree_verifier_bad_requests",
            "Scans refused because the code could not be read or carried no serial",
            bad_requests.clone(),
        );
        registry.register(
            "pedigree_verifier_unavailable",
            "Scans answered UNAVAILABLE: Redis unreachable, empty, or too far behind a replay",
            unavailable.clone(),
        );
        registry.register(
            "pedigree_verifier_requests_shed",
            "Requests refused at once because the process had max_in_flight requests in progress (503, RESOURCE_EXHAUSTED)",
            refusals.shed,
        );
        registry.register(
            "pedigree_verifier_rate_limited",
            "Requests refused for their caller's rate: per source address when anonymous, per participant (429, RESOURCE_EXHAUSTED)",
            refusals.rate_limited,
        );
        registry.register(
            "pedigree_verifier_ready",
            "1 while Redis answers and holds the ledger state within the allowed lag (readiness), else 0",
            ready.clone(),
        );
        registry.register(
            "pedigree_verifier_redis_lag_blocks",
            "Blocks Redis head is behind the height a replay is bringing it to (head counted as 0 when absent)",
            redis_lag.clone(),
        );
        registry.register(
            "pedigree_verifier_redis_head",
            "The height of the last block Redis holds, as last read (-1: no ledger state)",
            redis_head.clone(),
        );
        let alerts = Family::<[(&'static str, &'static str); 1], Counter>::default();
        for outcome in ["raised", "unrecorded", "closed"] {
            let _ = alerts.get_or_create(&[("outcome", outcome)]);
        }
        registry.register(
            "pedigree_verifier_alerts",
            "Alerts raised by scans and closed by owners (outcome raised, closed), and scans whose alert could not be \
             appended to the alerts log (unrecorded)",
            alerts.clone(),
        );
        Self {
            alerts,
            registry: Arc::new(registry),
            answers,
            latency,
            bad_requests,
            unavailable,
            ready,
            redis_lag,
            redis_head,
        }
    }

    /// A scan answered with `verdict` after `took`.
    pub fn verified(&self, verdict: Verdict, took: Duration) {
        self.answers.get_or_create(&[("verdict", verdict_name(verdict))]).inc();
        self.latency.observe(took.as_secs_f64());
    }

    /// An alert raised, unrecorded (the log refused or timed out) or closed.
    pub fn alert(&self, outcome: &'static str) {
        self.alerts.get_or_create(&[("outcome", outcome)]).inc();
    }

    pub fn bad_request(&self) {
        self.bad_requests.inc();
    }

    pub fn unavailable(&self) {
        self.unavailable.inc();
    }

    /// Redis' `head` and replay target as just read.
    pub fn freshness(&self, f: &Freshness) {
        let head = f.head.map_or(-1, |h| i64::try_from(h).unwrap_or(i64::MAX));
        self.redis_head.set(head);
        let lag = f.target.saturating_sub(f.head.unwrap_or(0));
        self.redis_lag.set(i64::try_from(lag).unwrap_or(i64::MAX));
    }

    pub fn ready(&self, ready: bool) {
        self.ready.set(i64::from(ready));
    }

    /// The registry, for the metrics listener.
    pub fn registry(&self) -> Arc<Registry> {
        self.registry.clone()
    }

    /// The answer to `GET /metrics`.
    pub fn response(&self) -> Response {
        pedigree_runtime::metrics::response(&self.registry)
    }

    pub fn render(&self) -> String {
        pedigree_runtime::metrics::render(&self.registry)
    }
}

/// What the verifier's `/metrics` serves before anything happened: every metric it exports.
pub fn exported() -> String {
    Metrics::new().render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_render_by_verdict_with_latency_and_redis_lag() {
        let metrics = Metrics::new();
        metrics.verified(Verdict::Verified, Duration::from_millis(2));
        metrics.verified(Verdict::Recalled, Duration::from_millis(4));
        metrics.bad_request();
        metrics.ready(true);
        let rebuilding = pedigree_store::Freshness {
            head: Some(7),
            target: 10,
        };
        metrics.freshness(&rebuilding);
        let text = metrics.render();
        assert!(
            text.contains("# TYPE pedigree_verifier_answers_total counter"),
            "{text}"
        );
        assert!(
            text.contains("pedigree_verifier_answers_total{verdict=\"VERIFIED\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("pedigree_verifier_answers_total{verdict=\"RECALLED\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("pedigree_verifier_answers_total{verdict=\"EXPIRED\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("pedigree_verifier_answer_duration_seconds_count 2"),
            "{text}"
        );
        assert!(text.contains("pedigree_verifier_bad_requests_total 1"), "{text}");
        assert!(text.contains("pedigree_verifier_ready 1"), "{text}");
        assert!(text.contains("pedigree_verifier_redis_lag_blocks 3"), "{text}");
        assert!(text.contains("pedigree_verifier_redis_head 7"), "{text}");
        metrics.freshness(&pedigree_store::Freshness { head: None, target: 0 });
        assert!(metrics.render().contains("pedigree_verifier_redis_head -1"));
    }
}
