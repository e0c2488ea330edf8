//! Scans: a realistic mix of codes (about 90% genuine in stock, 5% unknown serials, 5% dispensed) planned up front
//! with the verdict each must get, then sent over gRPC or HTTP by `clients` tasks. A wrong verdict is an error.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use pedigree_core::gs1::GS;
use pedigree_core::pb::Verdict;
use pedigree_core::verdict::verdict_name;
use serde::Deserialize;

use pedigree_runtime::tls::ClientTls;

use crate::ids::{EXPIRY, Rng, RunIds};
use crate::recorder::Recorder;
use crate::submit::{Pool, status_name};
use crate::ticker::Ticker;
use crate::workload::Population;

pub const GRPC: &str = "verify-grpc";
pub const HTTP: &str = "verify-http";
/// Phases at a steady rate (the series inside are still [`GRPC`] and [`HTTP`]).
pub const GRPC_PACED: &str = "verify-grpc-paced";
pub const HTTP_PACED: &str = "verify-http-paced";
/// In paced phases: how late the load generator itself sent each scan (from its due time to the request leaving the
/// client task). The scan latencies count from the due time, so this part of them is the generator's, not the
/// verifier's (see [`crate::ticker`]; the clients also share the machine with everything else).
pub const SEND_LAG: &str = "send-lag";

/// One planned scan.
pub struct Scan {
    /// What the scanner read: a DataMatrix element string.
    pub code: String,
    /// The same code as an HTTP request.
    pub url: reqwest::Url,
    pub expected: Verdict,
}

fn element_string(gtin: &str, lot: &str, serial: &str) -> String {
    format!("]d201{gtin}17{EXPIRY}10{lot}{GS}21{serial}")
}

/// Picks a random pack of the lots with `dispensed`: (lot, serial index).
fn pick(population: &Population, dispensed: bool, rng: &mut Rng) -> Option<(String, usize)> {
    let lots: Vec<_> = population.lots.iter().filter(|l| l.dispensed == dispensed).collect();
    let total: usize = lots.iter().map(|l| l.count).sum();
    let mut i = rng.below(total.max(1));
    for lot in lots {
        if i < lot.count {
            return Some((lot.lot.clone(), lot.first + i));
        }
        i -= lot.count;
    }
    None
}

/// `n` scans of `population`.
pub fn plan(population: &Population, ids: &RunIds, n: usize, http_base: &str) -> anyhow::Result<Vec<Scan>> {
    let mut rng = Rng::seeded()?;
    let endpoint = format!("{http_base}/v1/verify");
    let mut scans = Vec::with_capacity(n);
    for i in 0..n {
        let roll = rng.below(100);
        let (lot, serial, expected) = if roll < 5 {
            let (lot, _) = pick(population, false, &mut rng).context("no pack in stock")?;
            (lot, ids.serial('U', i), Verdict::UnknownSerial)
        } else if roll < 10 {
            let (lot, k) = pick(population, true, &mut rng).context("no dispensed pack")?;
            (lot, ids.serial('V', k), Verdict::Dispensed)
        } else {
            let (lot, k) = pick(population, false, &mut rng).context("no pack in stock")?;
            (lot, ids.serial('V', k), Verdict::Verified)
        };
        let code = element_string(&population.gtin, &lot, &serial);
        let url = reqwest::Url::parse_with_params(&endpoint, &[("code", code.as_str())])
            .with_context(|| format!("building a URL on {endpoint}"))?;
        scans.push(Scan { code, url, expected });
    }
    Ok(scans)
}

#[derive(Deserialize)]
struct VerdictJson {
    verdict: String,
}

/// What the scanning tasks share.
pub struct Scanner {
    pub pool: Arc<Pool>,
    pub http: reqwest::Client,
    pub recorder: Arc<Recorder>,
    pub scans: Arc<Vec<Scan>>,
    /// Scans to send at most (cycling through `scans`).
    pub limit: usize,
    /// No scan starts after this. Flat out, the end of the phase's window. Paced, a timeout: the `limit` scans due in
    /// the window are all sent however late (their lateness is part of their latency), unless this comes first.
    pub stop_at: Instant,
    pub stop: AtomicBool,
    next: AtomicUsize,
    /// When paced: scan `i` is due at `start + i / rate`, and its latency counts from then.
    ticker: Option<Ticker>,
}

impl Scanner {
    pub fn new(
        pool: Arc<Pool>,
        tls: &ClientTls,
        recorder: Arc<Recorder>,
        scans: Arc<Vec<Scan>>,
        limit: usize,
        stop_at: Instant,
    ) -> Self {
        let mut http = reqwest::Client::builder()
            .use_rustls_tls()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(1024)
            .timeout(Duration::from_secs(30));
        if let Some(ca) = tls.ca_pem().and_then(|pem| reqwest::Certificate::from_pem(pem).ok()) {
            http = http.tls_built_in_root_certs(false).add_root_certificate(ca);
        }
        // Without a client the HTTP phase fails scan by scan (counted as transport errors), never silently.
        let http = http.build().unwrap_or_default();
        Self {
            pool,
            http,
            recorder,
            scans,
            limit,
            stop_at,
            stop: AtomicBool::new(false),
            next: AtomicUsize::new(0),
            ticker: None,
        }
    }

    /// Scans at `rate` per second from now on, instead of as fast as the clients go.
    pub fn paced(mut self, rate: f64) -> std::io::Result<Self> {
        self.ticker = Some(Ticker::start(rate, self.limit)?);
        Ok(self)
    }

    /// When scan `i` is due: when paced, its time on the schedule (waiting for it, and recording how late the
    /// wait ended), else now. None once the schedule is stopped.
    async fn due(&self, i: usize) -> Option<Instant> {
        let Some(ticker) = &self.ticker else {
            return Some(Instant::now());
        };
        if !ticker.wait().await {
            return None;
        }
        let now = Instant::now();
        // Permits are handed out in order of waiting, not of index: a scan can leave up to one interval early.
        let due = ticker.due(i).min(now);
        self.recorder.record(SEND_LAG, "scans", due, now, 1);
        Some(due)
    }

    async fn grpc(&self, scan: &Scan) -> Result<String, String> {
        match self.pool.verify(scan.code.clone()).await {
            Ok(r) => Ok(verdict_name(r.get_ref().verdict()).to_string()),
            Err(status) => Err(status_name(&status)),
        }
    }

    async fn http(&self, scan: &Scan) -> Result<String, String> {
        let response = self
            .http
            .get(scan.url.clone())
            .send()
            .await
            .map_err(|e| transport(&e))?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status().as_u16()));
        }
        let body: VerdictJson = response.json().await.map_err(|e| transport(&e))?;
        Ok(body.verdict)
    }

    async fn client(self: Arc<Self>, series: &'static str) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.limit || self.stop.load(Ordering::Relaxed) {
                return;
            }
            if Instant::now() > self.stop_at {
                if self.ticker.is_some() {
                    self.recorder
                        .error(format!("{series}: scans due in the window still unsent at the timeout"));
                }
                return;
            }
            let scan = &self.scans[i % self.scans.len()];
            let Some(started) = self.due(i).await else { return };
            let answer = if series == GRPC {
                self.grpc(scan).await
            } else {
                self.http(scan).await
            };
            let done = Instant::now();
            match answer {
                Ok(verdict) if verdict == verdict_name(scan.expected) => {
                    self.recorder.record(series, "scans", started, done, 1)
                }
                Ok(verdict) => self.recorder.error(format!(
                    "{series}: verdict {verdict}, expected {}",
                    verdict_name(scan.expected)
                )),
                Err(kind) => self.recorder.error(format!("{series}: {kind}")),
            }
        }
    }

    /// Runs `clients` tasks scanning over `series` (GRPC or HTTP) until the limit, `stop_at` or `stop`.
    pub async fn run(self: Arc<Self>, series: &'static str, clients: usize) {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..clients.max(1) {
            tasks.spawn(self.clone().client(series));
        }
        while let Some(joined) = tasks.join_next().await {
            if joined.is_err() {
                self.recorder.error("scan task panicked");
            }
        }
    }
}

fn transport(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_decode() {
        "bad body".into()
    } else {
        "transport".into()
    }
}
