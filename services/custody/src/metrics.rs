//! custody's metrics (served on `PEDIGREE_METRICS_ADDR`, see `pedigree_runtime::metrics`): every submission by
//! outcome, and how long it took to answer.

use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Every `outcome` label value: `accepted`, then one per way [`crate::SubmitError::outcome`] names a failure.
pub const OUTCOMES: [&str; 13] = [
    "accepted",
    "invalid",
    "unauthenticated",
    "permission_denied",
    "failed_precondition",
    "wrong_rpc",
    "too_large",
    "broker_refused",
    "outcome_unknown",
    "pending_failed",
    "shutting_down",
    "rate_limited",
    "busy",
];

type Outcome = [(&'static str, &'static str); 1];

/// custody's metrics; cheap to clone (clones share the series).
#[derive(Clone, Debug)]
pub struct Metrics {
    submissions: Family<Outcome, Counter>,
    latency: Family<Outcome, Histogram, fn() -> Histogram>,
}

fn latency_histogram() -> Histogram {
    Histogram::new(pedigree_runtime::metrics::latency_buckets())
}

impl Metrics {
    /// Registers custody's metrics in `registry`, every outcome's series at zero; `shed` counts the requests the
    /// process refused for want of an in-flight slot.
    pub fn register(registry: &mut Registry, shed: Counter) -> Self {
        registry.register(
            "pedigree_custody_requests_shed",
            "Requests refused at once because the process had max_in_flight requests in progress (RESOURCE_EXHAUSTED)",
            shed,
        );
        let metrics = Self {
            submissions: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
        };
        for outcome in OUTCOMES {
            let _ = metrics.submissions.get_or_create(&[("outcome", outcome)]);
            let _ = metrics.latency.get_or_create(&[("outcome", outcome)]);
        }
        registry.register(
            "pedigree_custody_submissions",
            "Submissions answered, by outcome (accepted: the broker acknowledged the event)",
            metrics.submissions.clone(),
        );
        registry.register(
            "pedigree_custody_submission_duration_seconds",
            "Time from receiving a submission to answering it, by outcome",
            metrics.latency.clone(),
        );
        metrics
    }

    /// A submission answered with `outcome` (one of [`OUTCOMES`]) after `took`.
    pub fn submitted(&self, outcome: &'static str, took: Duration) {
        self.submissions.get_or_create(&[("outcome", outcome)]).inc();
        self.latency
            .get_or_create(&[("outcome", outcome)])
            .observe(took.as_secs_f64());
    }
}

/// What custody's `/metrics` serves before anything happened: every metric it exports.
pub fn exported() -> String {
    let mut registry = pedigree_runtime::metrics::registry("custody");
    Metrics::register(&mut registry, Counter::default());
    pedigree_runtime::metrics::render(&registry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SubmitError;

    #[test]
    fn submissions_render_by_outcome_with_their_latency() {
        let mut registry = pedigree_runtime::metrics::registry("custody");
        let metrics = Metrics::register(&mut registry, Counter::default());
        metrics.submitted("accepted", Duration::from_millis(3));
        metrics.submitted(
            SubmitError::OutcomeUnknown {
                id: "00".into(),
                detail: "timed out".into(),
            }
            .outcome(),
            Duration::from_secs(5),
        );
        let text = pedigree_runtime::metrics::render(&registry);
        assert!(
            text.contains("# TYPE pedigree_custody_submissions_total counter"),
            "{text}"
        );
        assert!(
            text.contains("pedigree_custody_submissions_total{outcome=\"accepted\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("pedigree_custody_submissions_total{outcome=\"outcome_unknown\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("pedigree_custody_submissions_total{outcome=\"too_large\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE pedigree_custody_submission_duration_seconds histogram"),
            "{text}"
        );
        assert!(
            text.contains("pedigree_custody_submission_duration_seconds_count{outcome=\"accepted\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn every_error_has_a_listed_outcome() {
        let errors = [
            SubmitError::WrongRpc {
                expected: "commission",
                got: "ship",
            },
            SubmitError::Broker("down".into()),
            SubmitError::OutcomeUnknown {
                id: "00".into(),
                detail: "timed out".into(),
            },
            SubmitError::TooLarge { len: 2, max: 1 },
            SubmitError::Pending("redis down".into()),
            SubmitError::ShuttingDown,
        ];
        for e in &errors {
            assert!(OUTCOMES.contains(&e.outcome()), "{e}: {}", e.outcome());
        }
        assert!(OUTCOMES.contains(&"invalid") && OUTCOMES.contains(&"unauthenticated"));
    }
}
