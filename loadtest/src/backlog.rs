//! Keeps a flat-out phase in a steady state: its clients send only while fewer than a cap of acknowledged events
//! wait to be sealed.
//!
//! Custody acknowledges an event as soon as the broker has it, long before the sequencer seals it, and a 1,000-pack
//! event is acknowledged many times faster than it is applied. Without a cap the backlog grows for the whole window:
//! custody competes for the cores in the first seconds only, the drain after the window lasts minutes, and no
//! pre-signed pool sized for the sealing rate lasts. With the cap (several of the sequencer's largest blocks by
//! default) the sequencer always has full batches waiting, and the clients send at the rate it seals.
//!
//! Sealed progress is followed along the acknowledged events in order: the events topic has one partition, so
//! acknowledgement order is (nearly) sealing order; an event acknowledged just out of order only holds the count back
//! for a moment.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::Notify;

/// How often the sealed progress is brought up to date.
pub const TICK: std::time::Duration = std::time::Duration::from_millis(2);

pub struct Backlog {
    /// Most events sent or acknowledged but not yet seen sealed.
    cap: u64,
    /// Events sent and not failed: in flight or acknowledged.
    outstanding: AtomicU64,
    /// How many of the acknowledged events, in order, were seen sealed.
    sealed: AtomicUsize,
    room: Notify,
}

impl Backlog {
    pub fn new(cap: u64) -> Self {
        Self {
            cap: cap.max(1),
            outstanding: AtomicU64::new(0),
            sealed: AtomicUsize::new(0),
            room: Notify::new(),
        }
    }

    fn waiting(&self) -> u64 {
        let sealed = self.sealed.load(Ordering::Relaxed) as u64;
        self.outstanding.load(Ordering::Relaxed).saturating_sub(sealed)
    }

    /// Waits until one more event may be sent, or `stop` says sending is over (checked at every [`TICK`]).
    pub async fn wait_for_room(&self, stop: impl Fn() -> bool) {
        loop {
            let room = self.room.notified();
            if self.waiting() < self.cap || stop() {
                return;
            }
            room.await;
        }
    }

    /// An event is about to be sent.
    pub fn sending(&self) {
        self.outstanding.fetch_add(1, Ordering::Relaxed);
    }

    /// A sent event failed: it will never be sealed.
    pub fn failed(&self) {
        self.outstanding.fetch_sub(1, Ordering::Relaxed);
    }

    /// Moves the sealed count along `acked` (in order of acknowledgement) while `is_sealed`, and wakes the waiting
    /// clients; called every [`TICK`].
    pub fn advance<T>(&self, acked: &[T], is_sealed: impl Fn(&T) -> bool) {
        let mut sealed = self.sealed.load(Ordering::Relaxed);
        while sealed < acked.len() && is_sealed(&acked[sealed]) {
            sealed += 1;
        }
        self.sealed.store(sealed, Ordering::Relaxed);
        self.room.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn holds_clients_back_until_the_backlog_is_sealed() {
        let backlog = Arc::new(Backlog::new(2));
        for _ in 0..2 {
            backlog.wait_for_room(|| false).await;
            backlog.sending();
        }
        let waiter = tokio::spawn({
            let backlog = backlog.clone();
            async move { backlog.wait_for_room(|| false).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "two events wait: no room for a third");
        let acked = [[1u8; 32], [2u8; 32]];
        backlog.advance(&acked, |id: &[u8; 32]| id[0] == 1);
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .expect("one sealed, room for one more")
            .unwrap();
        backlog.failed();
        assert_eq!(backlog.waiting(), 0);
        backlog.wait_for_room(|| true).await;
    }
}
