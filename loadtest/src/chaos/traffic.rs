//! The load a chaos run keeps up through its faults: clients walking single packs through their custody chain
//! (commission, ship, receive, ship, receive, dispense), resubmitting the same envelope until custody acknowledges
//! it; and scanners checking each answer against what the ledger is known to hold at the time of the scan.
//!
//! What a scan must answer is only known for facts custody's caller has seen sealed (the event's status read back
//! through the verifier, from the same Redis the verifier answers from): a pack whose commission was seen sealed is
//! VERIFIED until its dispense is submitted, then VERIFIED or DISPENSED, then DISPENSED once that was seen sealed;
//! a serial nobody commissioned is UNKNOWN_SERIAL. UNAVAILABLE (HTTP 503) is allowed, any other verdict is wrong.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pedigree_core::Hash;
use pedigree_core::gs1::GS;
use pedigree_core::pb::ledger_service_client::LedgerServiceClient;
use pedigree_core::pb::{EventState, GetEventStatusRequest, Verdict};
use pedigree_core::verdict::verdict_name;
use pedigree_runtime::sign_in::{Bearer, sign_in};
use tokio::sync::Mutex as AsyncMutex;
use tonic::Code;
use tonic::service::interceptor::InterceptedService;

use crate::ids::{EXPIRY, Rng, RunIds};
use crate::parties::{Parties, Party};
use crate::presign::{Signed, sign};
use crate::submit::Pool;
use crate::workload;

/// How long one submission or scan may take before the client gives up on that attempt.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// Where a pack's chain stands, as its client has seen it sealed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Commission sealed, dispense not yet submitted.
    InStock,
    /// Dispense submitted (perhaps sealed already).
    Dispensing,
    /// Dispense seen sealed.
    Dispensed,
}

impl Phase {
    fn allowed(self) -> &'static [Verdict] {
        match self {
            Phase::InStock => &[Verdict::Verified],
            Phase::Dispensing => &[Verdict::Verified, Verdict::Dispensed],
            Phase::Dispensed => &[Verdict::Dispensed],
        }
    }
}

/// Scan answers by kind, and the wrong ones.
#[derive(Default)]
pub struct Tally {
    kinds: std::sync::Mutex<BTreeMap<String, u64>>,
    wrong: std::sync::Mutex<Vec<String>>,
}

impl Tally {
    fn count(&self, kind: String) {
        let mut kinds = self.kinds.lock().unwrap_or_else(|p| p.into_inner());
        *kinds.entry(kind).or_default() += 1;
    }

    fn wrong(&self, what: String) {
        self.count("wrong verdict".into());
        let mut wrong = self.wrong.lock().unwrap_or_else(|p| p.into_inner());
        if wrong.len() < 20 {
            wrong.push(what);
        }
    }

    pub fn kinds(&self) -> BTreeMap<String, u64> {
        self.kinds.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn wrong_examples(&self) -> Vec<String> {
        self.wrong.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Reads event statuses through the verifier, signed in as an auditor, signing in again when the session is gone
/// (a restarted verifier, an emptied Redis).
pub struct StatusReader {
    pool: Arc<Pool>,
    reader: Arc<Party>,
    bearer: AsyncMutex<Option<Bearer>>,
}

/// What a status read found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    Committed,
    Rejected,
    NotYet,
}

impl StatusReader {
    pub fn new(pool: Arc<Pool>, reader: Arc<Party>) -> Self {
        Self {
            pool,
            reader,
            bearer: AsyncMutex::new(None),
        }
    }

    async fn bearer(&self) -> Option<Bearer> {
        let mut bearer = self.bearer.lock().await;
        if bearer.is_none() {
            let session = tokio::time::timeout(
                ATTEMPT_TIMEOUT,
                sign_in(
                    self.pool.channel(),
                    &self.reader.key,
                    &self.reader.chain_id,
                    &self.reader.id,
                ),
            )
            .await;
            if let Ok(Ok(session)) = session {
                *bearer = Bearer::new(&session.token).ok();
            }
        }
        bearer.clone()
    }

    /// One status read; any failure reads as "not yet".
    pub async fn status(&self, id: &Hash) -> Seen {
        let Some(bearer) = self.bearer().await else {
            return Seen::NotYet;
        };
        let mut ledger = LedgerServiceClient::new(InterceptedService::new(self.pool.channel(), bearer));
        let request = GetEventStatusRequest { event_id: id.to_vec() };
        match tokio::time::timeout(ATTEMPT_TIMEOUT, ledger.get_event_status(request)).await {
            Ok(Ok(status)) => match status.into_inner().state() {
                EventState::Committed => Seen::Committed,
                EventState::Rejected => Seen::Rejected,
                _ => Seen::NotYet,
            },
            Ok(Err(s)) if s.code() == Code::Unauthenticated => {
                *self.bearer.lock().await = None;
                Seen::NotYet
            }
            _ => Seen::NotYet,
        }
    }
}

/// What the clients and scanners share.
pub struct Traffic {
    pub ids: RunIds,
    pub gtin: String,
    pub lot: String,
    parties: Parties,
    custody: Arc<Pool>,
    scans: Arc<Pool>,
    pub status: StatusReader,
    stop: AtomicBool,
    next_pack: AtomicU64,
    /// Acknowledged event ids.
    acked: std::sync::Mutex<Vec<Hash>>,
    /// Serial → phase, for packs whose commission was seen sealed.
    book: std::sync::Mutex<HashMap<String, Phase>>,
    pub tally: Tally,
    /// Submission attempts that failed and were retried with the same envelope, by status.
    retries: std::sync::Mutex<BTreeMap<String, u64>>,
    /// Events custody refused outright (a chain stops there): should stay 0.
    refused: std::sync::Mutex<Vec<String>>,
    /// Chains walked to the end.
    pub chains_done: AtomicU64,
}

/// An event the clients failed to get acknowledged before the run stopped.
pub struct Stopped;

impl Traffic {
    pub fn new(
        ids: RunIds,
        gtin: String,
        parties: Parties,
        custody: Arc<Pool>,
        scans: Arc<Pool>,
        status: StatusReader,
    ) -> Self {
        Self {
            lot: ids.lot('C', 0),
            ids,
            gtin,
            parties,
            custody,
            scans,
            status,
            stop: AtomicBool::new(false),
            next_pack: AtomicU64::new(0),
            acked: Default::default(),
            book: Default::default(),
            tally: Tally::default(),
            retries: Default::default(),
            refused: Default::default(),
            chains_done: AtomicU64::new(0),
        }
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    pub fn acked(&self) -> Vec<Hash> {
        self.acked.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn book(&self) -> HashMap<String, Phase> {
        self.book.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn retries(&self) -> BTreeMap<String, u64> {
        self.retries.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn refused(&self) -> Vec<String> {
        self.refused.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set_phase(&self, serial: &str, phase: Phase) {
        self.book
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(serial.to_string(), phase);
    }

    /// The DataMatrix element string of one of this run's packs.
    pub fn code(&self, serial: &str) -> String {
        format!("]d201{}17{EXPIRY}10{}{GS}21{serial}", self.gtin, self.lot)
    }

    /// Submits `event` until custody acknowledges it (the same envelope each time: always safe). `None` if the run
    /// stopped first or custody refused it.
    pub async fn submit(&self, event: &Signed) -> Option<()> {
        loop {
            if self.stopped() {
                return None;
            }
            let call = self.custody.submit(event.role, event.kind, event.envelope.clone());
            let failure = match tokio::time::timeout(ATTEMPT_TIMEOUT, call).await {
                Ok(Ok(_)) => {
                    self.acked.lock().unwrap_or_else(|p| p.into_inner()).push(event.id);
                    return Some(());
                }
                Ok(Err(s)) if transient(s.code()) => format!("{:?}", s.code()),
                Ok(Err(s)) => {
                    let mut refused = self.refused.lock().unwrap_or_else(|p| p.into_inner());
                    refused.push(format!("{:?}: {}", s.code(), s.message()));
                    return None;
                }
                Err(_) => "client timeout".to_string(),
            };
            *self
                .retries
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(failure)
                .or_default() += 1;
            tokio::time::sleep(RETRY_PAUSE).await;
        }
    }

    /// Waits until `id` reads back sealed (committed); `false` if the run stopped first or it was rejected.
    pub async fn sealed(&self, id: &Hash) -> bool {
        loop {
            match self.status.status(id).await {
                Seen::Committed => return true,
                Seen::Rejected => return false,
                Seen::NotYet if self.stopped() => return false,
                Seen::NotYet => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Signs the six events of a fresh single-pack chain: its serial and events.
    pub fn next_chain(&self) -> anyhow::Result<(String, Vec<Signed>)> {
        let i = self.next_pack.fetch_add(1, Ordering::Relaxed) as usize;
        let serial = self.ids.serial('C', i);
        let specs = workload::single_pack_chain(&self.parties, i, &self.gtin, &self.lot, &serial);
        let events = specs.into_iter().map(sign).collect::<anyhow::Result<Vec<_>>>()?;
        Ok((serial, events))
    }

    /// One client: walks chains until the run stops. A chain whose event custody refused, or whose commission or
    /// dispense the ledger rejected, is left there (and shows in the report) and the next one started.
    pub async fn walk(self: Arc<Self>) {
        while !self.stopped() {
            let Ok((serial, events)) = self.next_chain() else {
                self.refused
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push("could not sign a chain".into());
                return;
            };
            if self.walk_chain(&serial, &events).await {
                self.chains_done.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    async fn walk_chain(&self, serial: &str, events: &[Signed]) -> bool {
        let last = events.len() - 1;
        for (k, event) in events.iter().enumerate() {
            if k == last {
                self.set_phase(serial, Phase::Dispensing);
            }
            if self.submit(event).await.is_none() {
                return false;
            }
            let wait = k == 0 || k == last;
            if wait && !self.sealed(&event.id).await {
                return false;
            }
            if k == 0 {
                self.set_phase(serial, Phase::InStock);
            }
        }
        self.set_phase(serial, Phase::Dispensed);
        true
    }

    /// One scanner: scans known packs (and now and then a serial nobody commissioned) until the run stops.
    pub async fn scan(self: Arc<Self>, seed: u64) {
        let mut rng = Rng::from_seed(seed);
        let mut unknown = 0usize;
        while !self.stopped() {
            // Half the scans go to packs in stock (or being dispensed), the rest to dispensed ones, whichever there are.
            let want_dispensed = rng.below(2) == 0;
            let picked = {
                let book = self.book.lock().unwrap_or_else(|p| p.into_inner());
                let mut of = |dispensed: bool| {
                    let candidates: Vec<(&String, &Phase)> = book
                        .iter()
                        .filter(|(_, p)| (**p == Phase::Dispensed) == dispensed)
                        .collect();
                    (!candidates.is_empty()).then(|| {
                        let (s, p) = candidates[rng.below(candidates.len())];
                        (s.clone(), *p)
                    })
                };
                of(want_dispensed).or_else(|| of(!want_dispensed))
            };
            let Some((serial, phase)) = picked else {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            let (serial, allowed): (String, &[Verdict]) = if rng.below(10) == 0 {
                unknown += 1;
                (self.ids.serial('U', unknown), &[Verdict::UnknownSerial])
            } else {
                (serial, phase.allowed())
            };
            let code = self.code(&serial);
            let answer = tokio::time::timeout(ATTEMPT_TIMEOUT, self.scans.verify(code)).await;
            match answer {
                Ok(Ok(r)) => {
                    let verdict = r.get_ref().verdict();
                    if allowed.contains(&verdict) {
                        self.tally.count(format!("correct {}", verdict_name(verdict)));
                    } else {
                        let expected: Vec<_> = allowed.iter().map(|v| verdict_name(*v)).collect();
                        self.tally.wrong(format!(
                            "{serial}: {} (expected {})",
                            verdict_name(verdict),
                            expected.join(" or ")
                        ));
                    }
                }
                Ok(Err(s)) => self.tally.count(format!("{:?}", s.code())),
                Err(_) => self.tally.count("client timeout".into()),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Failures after which the same envelope is sent again.
fn transient(code: Code) -> bool {
    matches!(
        code,
        Code::Unavailable
            | Code::DeadlineExceeded
            | Code::Unknown
            | Code::Cancelled
            | Code::Aborted
            | Code::ResourceExhausted
            | Code::Internal
    )
}

/// How long after `from` a fresh pack took to go through end to end: commission acknowledged, read back sealed,
/// and scanned VERIFIED. `None` if that did not happen within `timeout`.
pub async fn probe(traffic: &Traffic, from: Instant, timeout: Duration) -> Option<Duration> {
    let work = async {
        let (serial, events) = traffic.next_chain().ok()?;
        let commission = events.first()?;
        traffic.submit(commission).await?;
        if !traffic.sealed(&commission.id).await {
            return None;
        }
        traffic.set_phase(&serial, Phase::InStock);
        loop {
            let answer = tokio::time::timeout(ATTEMPT_TIMEOUT, traffic.scans.verify(traffic.code(&serial))).await;
            if let Ok(Ok(r)) = answer
                && r.get_ref().verdict() == Verdict::Verified
            {
                return Some(from.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(timeout, work).await.ok().flatten()
}
