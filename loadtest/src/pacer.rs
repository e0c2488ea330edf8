//! An optional global rate: each send takes the next free slot, spaced 1/rate apart. Slots missed while every
//! client was busy are not made up in a burst.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

pub struct Pacer {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    /// None for flat out.
    pub fn new(rate: Option<f64>) -> Option<Self> {
        let rate = rate.filter(|r| r.is_finite() && *r > 0.0)?;
        Some(Self {
            interval: Duration::from_secs_f64(1.0 / rate),
            next: Mutex::new(Instant::now()),
        })
    }

    /// Waits for this caller's slot.
    pub async fn wait(&self) {
        let slot = {
            let now = Instant::now();
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let slot = (*next).max(now);
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn spaces_sends() {
        let pacer = Pacer::new(Some(1000.0)).unwrap();
        let started = Instant::now();
        for _ in 0..50 {
            pacer.wait().await;
        }
        assert!(started.elapsed() >= Duration::from_millis(45));
        assert!(Pacer::new(None).is_none());
    }
}
