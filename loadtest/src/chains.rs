//! Driving chains: `clients` tasks each take the next chain and submit its events in order, each only after the
//! previous one was acknowledged (the events topic has one partition, so acknowledgement order is sequencing
//! order). A refused event ends its chain: what follows would only be refused too.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use pedigree_core::Hash;

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

/// Everything the client tasks share.
pub struct Driver {
    pub pool: Arc<Pool>,
    pub recorder: Arc<Recorder>,
    pub pacer: Option<Pacer>,
    pub deadline: Instant,
    pub unit: Unit,
    queue: Mutex<std::vec::IntoIter<Chain>>,
    acked: Mutex<Vec<Acked>>,
    skipped: AtomicU64,
}

impl Driver {
    pub fn new(pool: Arc<Pool>, recorder: Arc<Recorder>, pacer: Option<Pacer>, deadline: Instant, unit: Unit) -> Self {
        Self {
            pool,
            recorder,
            pacer,
            deadline,
            unit,
            queue: Mutex::new(Vec::new().into_iter()),
            acked: Mutex::new(Vec::new()),
            skipped: AtomicU64::new(0),
        }
    }

    fn next_chain(&self) -> Option<Chain> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).next()
    }

    /// Sends one event; true if it was acknowledged with the expected id.
    async fn send(&self, event: Signed) -> bool {
        if let Some(pacer) = &self.pacer {
            pacer.wait().await;
        }
        let (id, units) = (event.id, self.unit.of(&event));
        let sent = Instant::now();
        let result = self.pool.submit(event.role, event.kind, event.envelope).await;
        let done = Instant::now();
        match result {
            Ok(response) if response.get_ref().event_id == id => {
                self.recorder.record(SUBMIT, self.unit.name(), sent, done, units);
                self.acked
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(Acked { id, sent, units });
                true
            }
            Ok(_) => {
                self.recorder.error("submit: acknowledged with another event id");
                false
            }
            Err(status) => {
                self.recorder.error(format!("submit: {}", status_name(&status)));
                false
            }
        }
    }

    async fn client(self: Arc<Self>) {
        while let Some(chain) = self.next_chain() {
            let total = chain.len() as u64;
            let mut sent = 0;
            for event in chain {
                if Instant::now() > self.deadline || !self.send(event).await {
                    break;
                }
                sent += 1;
            }
            self.skipped.fetch_add(total - sent, Ordering::Relaxed);
        }
    }

    /// Runs `chains` with `clients` tasks; returns the acknowledged events and how many were never sent.
    pub async fn run(self: Arc<Self>, chains: Vec<Chain>, clients: usize) -> (Vec<Acked>, u64) {
        *self.queue.lock().unwrap_or_else(|e| e.into_inner()) = chains.into_iter();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..clients.max(1) {
            tasks.spawn(self.clone().client());
        }
        while let Some(joined) = tasks.join_next().await {
            if joined.is_err() {
                self.recorder.error("client task panicked");
            }
        }
        let acked = std::mem::take(&mut *self.acked.lock().unwrap_or_else(|e| e.into_inner()));
        (acked, self.skipped.load(Ordering::Relaxed))
    }
}
