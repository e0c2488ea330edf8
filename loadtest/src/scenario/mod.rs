//! What the scenarios share: connections, the blocks watcher, pre-signing, and running a phase of chains from
//! first send to last seal.

pub mod bulk;
pub mod ingest;
pub mod mixed;
pub mod verify;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use pedigree_core::Hash;
use pedigree_core::pb::RejectCode;

use crate::chains::{Acked, Driver, SEALED, Unit};
use crate::cli::Options;
use crate::cpu;
use crate::ids::RunIds;
use crate::pacer::Pacer;
use crate::presign::{Chain, Spec, sign_chains};
use crate::recorder::Recorder;
use crate::report::{PhaseReport, Presign};
use crate::submit::Pool;
use crate::target::Target;
use crate::watcher::Watcher;

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
    pub async fn new(target: &'a Target, opts: &'a Options, ids: RunIds) -> anyhow::Result<Self> {
        let started = Instant::now();
        let watcher = Watcher::start(&target.kafka, &target.blocks_topic).await?;
        let watcher_setup = started.elapsed();
        Ok(Self {
            watcher_setup,
            custody: Arc::new(Pool::connect(&target.custody, opts.connections).await?),
            verifier: Arc::new(Pool::connect(&target.verifier, opts.connections).await?),
            target,
            opts,
            ids,
            watcher,
            origin: Instant::now(),
        })
    }

    pub fn deadline(&self) -> Instant {
        Instant::now() + Duration::from_secs(self.opts.phase_timeout_secs)
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

    /// Submits `chains` with `clients` tasks (at `rate` events/s if given), waits for sealing, and reports.
    pub async fn chains_phase(
        &self,
        name: &str,
        chains: Vec<Chain>,
        rate: Option<f64>,
        unit: Unit,
    ) -> (PhaseReport, Vec<Acked>) {
        let clients = self.opts.clients.min(chains.len()).max(1);
        let recorder = Arc::new(Recorder::new(self.origin));
        let mark = cpu::mark();
        let driver = Arc::new(Driver::new(
            self.custody.clone(),
            recorder.clone(),
            Pacer::new(rate),
            self.deadline(),
            unit,
        ));
        let (acked, skipped) = driver.run(chains, clients).await;
        self.seal(&recorder, &acked, unit).await;
        let phase = report(name, rate, &recorder, skipped, mark);
        (phase, acked)
    }
}

/// A phase's report from its recorder.
pub fn report(name: &str, rate: Option<f64>, recorder: &Recorder, skipped: u64, mark: cpu::Mark) -> PhaseReport {
    PhaseReport {
        name: name.to_string(),
        rate_limit: rate,
        series: recorder.summarize(),
        errors: recorder.errors(),
        skipped,
        cpu: mark.since(),
    }
}
