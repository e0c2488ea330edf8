//! Whether the sealing loop is making progress: the sequencer's health turns NOT_SERVING when the loop has been
//! busy (work in hand, or retrying after a failure) for longer than the stall limit without sealing, replaying or
//! finishing anything; the chart's liveness probe then restarts it. Waiting for events, or standing by while another
//! sequencer leads, is not a stall.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::watch;
use tokio::time::Instant;

/// The loop's last sign of life; cheap to clone (clones share it).
#[derive(Clone, Debug)]
pub struct Progress {
    /// Since when the loop has been busy without progress; `None` while idle.
    busy_since: Arc<Mutex<Option<Instant>>>,
    /// Unix time of the last progress (or of the start), exported as a metric.
    last_progress: Gauge<f64, AtomicU64>,
    /// 1 while stalled (health NOT_SERVING), exported as a metric.
    stalled: Gauge,
}

impl Default for Progress {
    fn default() -> Self {
        let progress = Self {
            busy_since: Arc::default(),
            last_progress: Gauge::default(),
            stalled: Gauge::default(),
        };
        progress.last_progress.set(unix_now());
        progress
    }
}

/// Seconds since the Unix epoch.
fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Progress {
    /// Something was done (a block sealed or replayed, a batch taken): the stall clock restarts.
    pub fn advanced(&self) {
        *self.lock() = Some(Instant::now());
        self.last_progress.set(unix_now());
    }

    /// The Unix time of the last progress, as a metric.
    pub fn last_progress(&self) -> &Gauge<f64, AtomicU64> {
        &self.last_progress
    }

    /// Whether the loop is stalled (1) or not (0), as a metric.
    pub fn stalled_gauge(&self) -> &Gauge {
        &self.stalled
    }

    /// Nothing to do (waiting for events, standing by): not a stall however long it lasts.
    pub fn idle(&self) {
        *self.lock() = None;
    }

    /// Work is in hand: the stall clock runs from now unless it already runs.
    pub fn busy(&self) {
        let mut busy = self.lock();
        if busy.is_none() {
            *busy = Some(Instant::now());
        }
    }

    /// Whether the loop has been busy without progress for longer than `limit`.
    pub fn stalled(&self, limit: Duration) -> bool {
        self.lock().is_some_and(|since| since.elapsed() > limit)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.busy_since.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A switch that is true while the loop is not stalled (checked every second), for the health service.
    pub fn watch_health(&self, limit: Duration) -> watch::Receiver<bool> {
        let (tx, rx) = watch::channel(true);
        let progress = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    () = tx.closed() => return,
                }
                let healthy = !progress.stalled(limit);
                progress.stalled.set(i64::from(!healthy));
                tx.send_if_modified(|current| {
                    let moved = *current != healthy;
                    if moved && !healthy {
                        tracing::error!(?limit, "the sealing loop made no progress: reporting NOT_SERVING");
                    } else if moved {
                        tracing::info!("the sealing loop progresses again: reporting SERVING");
                    }
                    *current = healthy;
                    moved
                });
            }
        });
        rx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn only_busy_time_without_progress_is_a_stall() {
        let progress = Progress::default();
        let limit = Duration::from_secs(30);
        tokio::time::advance(Duration::from_secs(100)).await;
        assert!(!progress.stalled(limit), "idle is never a stall");
        progress.busy();
        tokio::time::advance(Duration::from_secs(20)).await;
        progress.busy();
        assert!(!progress.stalled(limit));
        tokio::time::advance(Duration::from_secs(11)).await;
        assert!(progress.stalled(limit), "busy for 31 s without progress");
        progress.advanced();
        assert!(!progress.stalled(limit));
        tokio::time::advance(Duration::from_secs(31)).await;
        assert!(progress.stalled(limit));
        progress.idle();
        assert!(!progress.stalled(limit));
    }
}
