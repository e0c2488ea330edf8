//! The steady-state window of a timed phase.
//!
//! A timed phase sends for `--warmup` + `--duration` seconds, then stops sending and drains (waits until what is in
//! flight is acknowledged and sealed). Its figures come from the window between the two: a throughput is the units
//! completed inside the window divided by the window's length, and a latency percentile is taken over the operations
//! that started inside it. The warm-up (connections, caches, the sequencer's first batches, the pipeline filling) and
//! the drain (the pipeline emptying, ever fewer events per block) are left out. Without that, a run of a few seconds
//! is mostly ramp-up and drain, and its rate says more about the run's length than about the system.

use std::time::{Duration, Instant};

use anyhow::bail;

/// How a timed phase is laid out, from `--warmup` and `--duration`.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub warmup: Duration,
    pub duration: Duration,
}

impl Timing {
    /// From seconds as given on the command line: the window must be positive, the warm-up may be zero.
    pub fn new(warmup_secs: f64, duration_secs: f64) -> anyhow::Result<Self> {
        if !(duration_secs.is_finite() && duration_secs > 0.0) {
            bail!("--duration must be a positive number of seconds, not {duration_secs}");
        }
        if !(warmup_secs.is_finite() && warmup_secs >= 0.0) {
            bail!("--warmup must be zero or a positive number of seconds, not {warmup_secs}");
        }
        Ok(Self {
            warmup: Duration::from_secs_f64(warmup_secs),
            duration: Duration::from_secs_f64(duration_secs),
        })
    }

    /// How long a timed phase sends: the warm-up, then the window.
    pub fn sending(&self) -> Duration {
        self.warmup + self.duration
    }

    /// The window of a phase that starts sending at `start`.
    pub fn window(&self, start: Instant) -> Window {
        let from = start + self.warmup;
        Window {
            from,
            to: from + self.duration,
        }
    }
}

/// From `from` (the end of the warm-up) to `to` (when sending stops).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub from: Instant,
    pub to: Instant,
}

impl Window {
    pub fn secs(&self) -> f64 {
        self.to.saturating_duration_since(self.from).as_secs_f64()
    }

    /// Ends the window at `at` if that is earlier (never before it starts): the steady state ended there.
    pub fn end_at(&mut self, at: Instant) {
        self.to = self.to.min(at).max(self.from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_follows_the_warmup_and_can_only_shrink() {
        let timing = Timing::new(5.0, 30.0).unwrap();
        assert_eq!(timing.sending(), Duration::from_secs(35));
        let start = Instant::now();
        let mut window = timing.window(start);
        assert_eq!(window.from, start + Duration::from_secs(5));
        assert!((window.secs() - 30.0).abs() < 1e-9);
        window.end_at(start + Duration::from_secs(60));
        assert!((window.secs() - 30.0).abs() < 1e-9, "a later end leaves it as it is");
        window.end_at(start + Duration::from_secs(15));
        assert!((window.secs() - 10.0).abs() < 1e-9);
        window.end_at(start);
        assert_eq!(window.secs(), 0.0, "ending before the start empties it");
    }

    #[test]
    fn rejects_nonsense_durations() {
        assert!(Timing::new(0.0, 2.0).is_ok());
        assert!(Timing::new(5.0, 0.0).is_err());
        assert!(Timing::new(-1.0, 30.0).is_err());
        assert!(Timing::new(5.0, f64::NAN).is_err());
    }
}
