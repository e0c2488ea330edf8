//! Driving chains: `clients` tasks each take the next chain and submit its events in order, each only after the
//! previous one was acknowledged (the events topic has one partition, so acknowledgement order is sequencing
//! order). A refused event ends its chain: what follows would only be refused too. A timed phase sends until the end
//! of its window, flat out within a cap of events waiting to be sealed (see [`crate::backlog`]); seeding a population
//! sends every chain.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use pedigree_core::Hash;

use crate::backlog::{self, Backlog};
use crate::pacer::Pacer;
use crate::presign::{Chain, Signed};
use crate::recorder::Recorder;
use crate::submit::{Pool, status_name};

/// Series names.
pub const SUBMIT: &str = "submit";
pub const SEALED: &str = "sealed";

/// An acknowledged event.
#[derive(Clone, Copy, Debug)]
pub struct Acked {
    pub id: Hash,
    /// When it was sent.
    pub sent: Instant,
    /// Units of work it counts for (1 event, or its packs).
    pub units: u32,
}

/// What the unit of throughput is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Events,
    Packs,
}

impl Unit {
    pub fn name(self) -> &'static str {
        match self {
            Unit::Events => "events",
            Unit::Packs => "packs",
        }
    }

    fn of(self, event: &Signed) -> u32 {
        match self {
            Unit::Events => 1,
            Unit::Packs => event.packs,
        }
    }
}

/// Until when a driver sends.
#[derive(Clone, Copy, Debug)]
pub enum Until {
    /// A timed phase: sending stops at the end of its window; the chains left then were a margin, not a failure.
    WindowEnd(Instant),
    /// Seeding a population: every chain must be sent, and reaching this deadline first is a failure.
    Timeout(Instant),
}

impl Until {
    fn at(self) -> Instant {
        match self {
            Until::WindowEnd(at) | Until::Timeout(at) => at,
        }
    }
}

/// What a pass of chains did.
pub struct Driven {
    pub acked: Vec<Acked>,
    /// Events not sent because their chain was cut by an error or, seeding, by the timeout.
    pub skipped: u64,
    /// Pre-signed events not needed: the window ended first.
    pub unsent: u64,
    /// When a client first found no chain left while sending was to go on: from then on fewer and fewer clients are
    /// busy, so the steady state ends there.
    pub ran_dry: Option<Instant>,
}

/// How one send went.
enum Sent {
    Acked,
    /// Refused or failed: the rest of its chain would only be refused too.
    Failed,
    /// Its pacing slot came after sending stopped.
    Late,
}

/// Everything the client tasks share.
pub struct Driver {
    pub pool: Arc<Pool>,
    pub recorder: Arc<Recorder>,
    pub pacer: Option<Pacer>,
    pub until: Until,
    pub unit: Unit,
    /// Flat out: the cap of events waiting to be sealed.
    backlog: Option<Backlog>,
    queue: Mutex<std::vec::IntoIter<Chain>>,
    acked: Mutex<Vec<Acked>>,
    skipped: AtomicU64,
    unsent: AtomicU64,
    ran_dry: Mutex<Option<Instant>>,
}

impl Driver {
    /// `backlog`: at most this many events sent but not yet sealed (None: no cap).
    pub fn new(
        pool: Arc<Pool>,
        recorder: Arc<Recorder>,
        pacer: Option<Pacer>,
        (until, backlog): (Until, Option<u64>),
        unit: Unit,
    ) -> Self {
        Self {
            pool,
            recorder,
            pacer,
            until,
            unit,
            backlog: backlog.map(Backlog::new),
            queue: Mutex::new(Vec::new().into_iter()),
            acked: Mutex::new(Vec::new()),
            skipped: AtomicU64::new(0),
            unsent: AtomicU64::new(0),
            ran_dry: Mutex::new(None),
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, std::vec::IntoIter<Chain>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stopped(&self) -> bool {
        Instant::now() >= self.until.at()
    }

    /// Counts `events` that were not sent because sending stopped.
    fn not_sent(&self, events: u64) {
        match self.until {
            Until::WindowEnd(_) => self.unsent.fetch_add(events, Ordering::Relaxed),
            Until::Timeout(_) => self.skipped.fetch_add(events, Ordering::Relaxed),
        };
    }

    /// Sends one event; acknowledged means with the expected id.
    async fn send(&self, event: Signed) -> Sent {
        if let Some(backlog) = &self.backlog {
            backlog.wait_for_room(|| self.stopped()).await;
        }
        if let Some(pacer) = &self.pacer {
            pacer.wait().await;
        }
        if self.stopped() {
            return Sent::Late;
        }
        let (id, units) = (event.id, self.unit.of(&event));
        if let Some(backlog) = &self.backlog {
            backlog.sending();
        }
        let sent = Instant::now();
        let result = self.pool.submit(event.role, event.kind, event.envelope).await;
        let done = Instant::now();
        let failure = match result {
            Ok(response) if response.get_ref().event_id == id => {
                self.recorder.record(SUBMIT, self.unit.name(), sent, done, units);
                self.acked
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(Acked { id, sent, units });
                return Sent::Acked;
            }
            Ok(_) => "submit: acknowledged with another event id".to_string(),
            Err(status) => format!("submit: {}", status_name(&status)),
        };
        self.recorder.error(failure);
        if let Some(backlog) = &self.backlog {
            backlog.failed();
        }
        Sent::Failed
    }

    async fn client(self: Arc<Self>) {
        while !self.stopped() {
            let Some(chain) = self.queue().next() else {
                let now = Instant::now();
                let mut dry = self.ran_dry.lock().unwrap_or_else(|e| e.into_inner());
                *dry = Some(dry.map_or(now, |d| d.min(now)));
                return;
            };
            let total = chain.len() as u64;
            let mut sent = 0;
            for event in chain {
                let outcome = if self.stopped() {
                    Sent::Late
                } else {
                    self.send(event).await
                };
                match outcome {
                    Sent::Acked => sent += 1,
                    Sent::Failed => {
                        self.skipped.fetch_add(total - sent, Ordering::Relaxed);
                        break;
                    }
                    Sent::Late => {
                        self.not_sent(total - sent);
                        break;
                    }
                }
            }
        }
    }

    /// Runs `chains` with `clients` tasks until they are all sent or sending stops; `is_sealed` tells whether an
    /// event was seen sealed (for the backlog cap).
    pub async fn run(self: Arc<Self>, chains: Vec<Chain>, clients: usize, is_sealed: impl Fn(&Hash) -> bool) -> Driven {
        *self.queue() = chains.into_iter();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..clients.max(1) {
            tasks.spawn(self.clone().client());
        }
        let mut tick = tokio::time::interval(backlog::TICK);
        loop {
            tokio::select! {
                joined = tasks.join_next() => match joined {
                    None => break,
                    Some(Err(_)) => self.recorder.error("client task panicked"),
                    Some(Ok(())) => {}
                },
                _ = tick.tick(), if self.backlog.is_some() => {
                    if let Some(backlog) = &self.backlog {
                        let acked = self.acked.lock().unwrap_or_else(|e| e.into_inner());
                        backlog.advance(&acked, |a: &Acked| is_sealed(&a.id));
                    }
                }
            }
        }
        let left: u64 = self.queue().by_ref().map(|chain| chain.len() as u64).sum();
        self.not_sent(left);
        Driven {
            acked: std::mem::take(&mut *self.acked.lock().unwrap_or_else(|e| e.into_inner())),
            skipped: self.skipped.load(Ordering::Relaxed),
            unsent: self.unsent.load(Ordering::Relaxed),
            ran_dry: *self.ran_dry.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }
}
