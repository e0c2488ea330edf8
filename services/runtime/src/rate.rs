//! Per-client rate limits (GCRA, the `governor` crate): each key (a source address, a participant) may make
//! `per_second` requests a second on average with bursts of `burst`; one more is refused, saying when to retry.
//! Keys not seen for a while are forgotten, so memory follows the active clients, not all clients ever seen.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// How many checks pass between two sweeps of forgotten keys.
const SWEEP_EVERY: u64 = 1 << 16;

/// A request over its client's rate: retry after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("rate limit: too many requests from {who}, retry in {} s", retry_after_secs(*.retry_after))]
pub struct Limited {
    /// Whose limit: "this address", "this participant".
    pub who: &'static str,
    pub retry_after: Duration,
}

impl Limited {
    /// The `Retry-After` value: whole seconds, at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        retry_after_secs(self.retry_after)
    }
}

fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0).max(u64::from(wait.is_zero()))
}

/// Rates per key; `per_second` 0 means no limit.
pub struct RateLimit<K: Hash + Eq + Clone> {
    limiter: Option<DefaultKeyedRateLimiter<K>>,
    clock: DefaultClock,
    who: &'static str,
    checks: AtomicU64,
}

impl<K: Hash + Eq + Clone> RateLimit<K> {
    /// `who` names the key in refusals ("this address").
    pub fn new(per_second: u32, burst: u32, who: &'static str) -> Self {
        let limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(rate);
            DefaultKeyedRateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Self {
            limiter,
            clock: DefaultClock::default(),
            who,
            checks: AtomicU64::new(0),
        }
    }

    /// Counts one request of `key`, or refuses it.
    pub fn check(&self, key: &K) -> Result<(), Limited> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        limiter.check_key(key).map_err(|not_until| Limited {
            who: self.who,
            retry_after: not_until.wait_time_from(self.clock.now()),
        })
    }

    /// How many keys are remembered now.
    pub fn keys(&self) -> usize {
        self.limiter.as_ref().map_or(0, |l| l.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_one_more_is_refused_with_a_wait() {
        let limit = RateLimit::new(10, 5, "this address");
        for _ in 0..5 {
            limit.check(&1).unwrap();
        }
        let refused = limit.check(&1).unwrap_err();
        assert_eq!(refused.who, "this address");
        assert!(refused.retry_after > Duration::ZERO && refused.retry_after <= Duration::from_millis(100));
        assert_eq!(refused.retry_after_secs(), 1);
        assert_eq!(
            refused.to_string(),
            "rate limit: too many requests from this address, retry in 1 s"
        );
        // Another key has its own budget.
        limit.check(&2).unwrap();
        assert_eq!(limit.keys(), 2);
    }

    #[test]
    fn zero_means_no_limit() {
        let limit = RateLimit::new(0, 0, "this participant");
        for _ in 0..10_000 {
            limit.check(&"p").unwrap();
        }
        assert_eq!(limit.keys(), 0);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(2001)), 3);
    }
}
