//! A steady schedule kept by its own thread: scan `i` is due at `start + i / rate`, and a permit is released for
//! it when that time comes.
//!
//! Why not `tokio::time::sleep_until` in each client: tokio's timer counts whole milliseconds and rounds every
//! deadline up, and under load a worker only looks at the timer wheel between tasks, so scans left about 1 ms late
//! on average (p99 2 ms, measured as `send-lag`). That lateness is the load generator's, yet it was charged to the
//! verifier, since latency counts from the due time. A plain thread sleeping [`STEP`] at a time (the kernel's
//! timers are precise to tens of microseconds) releases each scan within about a step of its due time, at the cost
//! of a few thousand wake-ups a second.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

/// How often the thread releases the scans that came due.
const STEP: Duration = Duration::from_micros(200);

pub struct Ticker {
    start: Instant,
    rate: f64,
    permits: Arc<Semaphore>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    /// Releases `total` scans at `rate` per second, starting now.
    pub fn start(rate: f64, total: usize) -> std::io::Result<Self> {
        let start = Instant::now();
        let permits = Arc::new(Semaphore::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (permits, stop) = (permits.clone(), stop.clone());
            std::thread::Builder::new()
                .name("scan-ticker".into())
                .spawn(move || release(start, rate, total, &permits, &stop))?
        };
        Ok(Self {
            start,
            rate,
            permits,
            stop,
            thread: Some(thread),
        })
    }

    /// When scan `i` is due.
    pub fn due(&self, i: usize) -> Instant {
        self.start + Duration::from_secs_f64(i as f64 / self.rate)
    }

    /// Waits until one more scan is due; false once the ticker is stopped.
    pub async fn wait(&self) -> bool {
        match self.permits.acquire().await {
            Ok(permit) => {
                permit.forget();
                true
            }
            Err(_) => false,
        }
    }
}

fn release(start: Instant, rate: f64, total: usize, permits: &Semaphore, stop: &AtomicBool) {
    let mut released = 0usize;
    while released < total && !stop.load(Ordering::Relaxed) {
        let due = ((start.elapsed().as_secs_f64() * rate) as usize + 1).min(total);
        if due > released {
            permits.add_permits(due - released);
            released = due;
        }
        std::thread::sleep(STEP);
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.permits.close();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn releases_each_scan_at_its_time() {
        let ticker = Ticker::start(2000.0, 20).unwrap();
        for i in 0..20 {
            assert!(ticker.wait().await);
            // Released no earlier than due (the slack covers the float rounding of the two ways the schedule is computed).
            assert!(
                Instant::now() + Duration::from_micros(600) >= ticker.due(i),
                "scan {i} early"
            );
        }
        assert_eq!(ticker.due(10) - ticker.due(0), Duration::from_millis(5));
    }

    #[tokio::test]
    async fn stopping_wakes_waiters() {
        let ticker = Arc::new(Ticker::start(1.0, 1000).unwrap());
        assert!(ticker.wait().await, "the first scan is due at once");
        let waiter = tokio::spawn({
            let ticker = ticker.clone();
            async move { ticker.wait().await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        ticker.permits.close();
        assert!(!waiter.await.unwrap());
    }
}
