//! What the scenarios share: connections, the blocks watcher, pre-signing, and running a phase of chains: timed
//! (sending through a warm-up and a steady-state window, then draining until the last seal; see [`crate::window`]),
//! or untimed to seed a population.

pub mod bulk;
pub mod ingest;
pub mod mixed;
pub mod verify;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use pedigree_core::Hash;
use pedigree_core::pb::RejectCode;

use crate::chains::{Acked, Driven, Driver, SEALED, Unit, Until};
use crate::cli::Options;
use crate::cpu::Meter;
use crate::ids::RunIds;
use crate::pacer::Pacer;
use crate::presign::{Chain, Spec, sign_chains};
use crate::recorder::Recorder;
use crate::report::{CpuReport, PhaseReport, Presign};
use crate::sizing;
use crate::submit::Pool;
use crate::target::Target;
use crate::watcher::Watcher;
use crate::window::{Timing, Window};

/// What a scenario hands back.
#[derive(Default)]
pub struct Outcome {
    pub phases: Vec<PhaseReport>,
    /// Every acknowledged event id, for the exactly-once check.
    pub acked: Vec<Hash>,
    pub presign: Presign,
    pub notes: Vec<String>,
}

/// A run in progress.
pub struct Ctx<'a> {
    pub target: &'a Target,
    pub opts: &'a Options,
    /// Warm-up and window of every timed phase.
    pub timing: Timing,
    pub ids: RunIds,
    pub custody: Arc<Pool>,
    pub verifier: Arc<Pool>,
    pub watcher: Watcher,
    /// Zero of every timeline.
    pub origin: Instant,
    /// How long creating the blocks consumer took (metadata, watermarks, assignment): a reference for readers that
    /// open a consumer per read.
    pub watcher_setup: Duration,
}

impl<'a> Ctx<'a> {
    pub async fn new(target: &'a Target, opts: &'a Options, timing: Timing, ids: RunIds) -> anyhow::Result<Self> {
        let started = Instant::now();
        let watcher = Watcher::start(&target.kafka, &target.blocks_topic).await?;
        let watcher_setup = started.elapsed();
        Ok(Self {
            watcher_setup,
            custody: Arc::new(Pool::connect(&target.custody, opts.connections, &target.client_tls).await?),
            // Signed in as an auditor or authority: event statuses are theirs to read, and gRPC scans are measured
            // authenticated (HTTP scans stay anonymous).
            verifier: Arc::new(
                Pool::connect(&target.verifier, opts.connections, &target.client_tls)
                    .await?
                    .signed_in(target.parties.reader()?, &target.chain_id)
                    .await?,
            ),
            target,
            opts,
            timing,
            ids,
            watcher,
            origin: Instant::now(),
        })
    }

    /// A fresh GTIN, registered as the first manufacturer's product (untimed set-up).
    pub async fn product(&self) -> anyhow::Result<String> {
        let gtin = self.ids.gtin()?;
        let owner = &self.target.parties.manufacturers[0];
        crate::master_data::register_product(
            &self.custody,
            &self.verifier,
            self.target.governance.as_ref(),
            owner,
            &gtin,
        )
        .await?;
        Ok(gtin)
    }

    /// When seeding a population (an untimed phase) started now must have sent everything.
    pub fn deadline(&self) -> Instant {
        Instant::now() + Duration::from_secs(self.opts.phase_timeout_secs)
    }

    /// How long a timed phase sends (warm-up and window), in seconds: what its pre-signed pool must last.
    pub fn sending_secs(&self) -> f64 {
        self.timing.sending().as_secs_f64()
    }

    /// A timed phase starting now: its recorder, and its window (nothing is sent after the window's end).
    pub fn timed(&self) -> (Arc<Recorder>, Window) {
        let recorder = Recorder::timed(self.origin, self.timing);
        let window = self.timing.window(recorder.started);
        (Arc::new(recorder), window)
    }

    /// Signs specs on every core (off the async workers) and adds to the pre-signing tally.
    pub async fn presign(&self, specs: Vec<Vec<Spec>>, tally: &mut Presign) -> anyhow::Result<Vec<Chain>> {
        let (chains, took) = tokio::task::spawn_blocking(move || sign_chains(specs))
            .await
            .context("the signing task failed")??;
        tally.events += chains.iter().map(|c: &Chain| c.len() as u64).sum::<u64>();
        tally.secs += took.as_secs_f64();
        tally.per_sec = tally.events as f64 / tally.secs.max(1e-9);
        Ok(chains)
    }

    /// Whether the blocks topic held `id` yet.
    pub fn is_sealed(&self, id: &Hash) -> bool {
        self.watcher.seen(id).is_some()
    }

    /// Waits until `acked` are sealed, then records each one's submit-to-sealed time and counts rejections.
    pub async fn seal(&self, recorder: &Recorder, acked: &[Acked], unit: Unit) -> usize {
        let ids: Vec<Hash> = acked.iter().map(|a| a.id).collect();
        let missing = self
            .watcher
            .wait_for(&ids, Duration::from_secs(self.opts.seal_stall_secs))
            .await;
        for a in acked {
            let Some(seen) = self.watcher.seen(&a.id) else { continue };
            recorder.record(SEALED, unit.name(), a.sent, seen.first, a.units);
            if let Some(code) = seen.rejected {
                let name = RejectCode::try_from(code).map_or_else(|_| code.to_string(), |c| c.as_str_name().into());
                recorder.error(format!("sequencer: {name}"));
            }
        }
        if missing > 0 {
            recorder.error(format!(
                "sealed: {missing} acknowledged events not seen on the blocks topic"
            ));
        }
        missing
    }

    /// A timed phase: submits `chains` (at `rate` events/s if given) through the warm-up and the window, waits for
    /// sealing, and reports on the window.
    pub async fn chains_phase(
        &self,
        name: &str,
        chains: Vec<Chain>,
        rate: Option<f64>,
        unit: Unit,
    ) -> (PhaseReport, Vec<Acked>) {
        let (recorder, window) = self.timed();
        let meter = Meter::window(window.from);
        // Flat out, within a cap of events waiting to be sealed; paced, the rate is the cap.
        let backlog = rate.is_none().then(|| sizing::backlog_events(self.opts, unit));
        let until = (Until::WindowEnd(window.to), backlog);
        self.drive(name, chains, rate, unit, (recorder, until, meter)).await
    }

    /// An untimed phase seeding a population: submits every chain flat out, waits for sealing, and reports on the
    /// whole phase.
    pub async fn seed_phase(&self, name: &str, chains: Vec<Chain>, unit: Unit) -> (PhaseReport, Vec<Acked>) {
        let recorder = Arc::new(Recorder::new(self.origin));
        let until = (Until::Timeout(self.deadline()), None);
        self.drive(name, chains, None, unit, (recorder, until, Meter::whole()))
            .await
    }

    async fn drive(
        &self,
        name: &str,
        chains: Vec<Chain>,
        rate: Option<f64>,
        unit: Unit,
        (recorder, until, meter): (Arc<Recorder>, (Until, Option<u64>), Meter),
    ) -> (PhaseReport, Vec<Acked>) {
        let clients = self.opts.clients.min(chains.len()).max(1);
        let driver = Arc::new(Driver::new(
            self.custody.clone(),
            recorder.clone(),
            Pacer::new(rate),
            until,
            unit,
        ));
        let driven = driver.run(chains, clients, |id| self.is_sealed(id)).await;
        end_if_dry(&recorder, &driven);
        let cpu = meter.read().await;
        self.seal(&recorder, &driven.acked, unit).await;
        let phase = report(name, rate, &recorder, cpu, (driven.skipped, driven.unsent));
        (phase, driven.acked)
    }
}

/// Ends a timed phase's window where its pool ran out, if that came first: the clients then fall idle one by one.
pub fn end_if_dry(recorder: &Recorder, driven: &Driven) {
    let (Some(at), Some(window)) = (driven.ran_dry, recorder.window()) else {
        return;
    };
    let when = match at.checked_duration_since(window.from) {
        Some(into) => format!("{:.1} s into the window", into.as_secs_f64()),
        None => "during the warm-up".to_string(),
    };
    recorder.end_window(
        at,
        format!("the pre-signed pool ran out {when} (a longer window needs --max-rate, or --events / --packs)"),
    );
}

/// A phase's report from its recorder; `skipped` and `unsent` events as [`Driven`] counts them.
pub fn report(
    name: &str,
    rate: Option<f64>,
    recorder: &Recorder,
    cpu: CpuReport,
    (skipped, unsent): (u64, u64),
) -> PhaseReport {
    PhaseReport {
        name: name.to_string(),
        rate_limit: rate,
        window: recorder.window_report(),
        series: recorder.summarize(),
        errors: recorder.errors(),
        skipped,
        unsent,
        cpu,
    }
}
