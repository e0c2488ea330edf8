//! `verify`: seed a population (bulk commissions, a tenth of the packs dispensed), then scan it over gRPC and then
//! over HTTP with `--clients` tasks each, checking every verdict: first flat out (the most scans per second), then
//! at `--scan-rate` (the latency at that load). Each scan phase is a timed phase (warm-up, window, drain).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use pedigree_core::Hash;
use pedigree_core::pb::ledger_service_client::LedgerServiceClient;
use pedigree_core::pb::{EventState, GetEventStatusRequest};
use tokio::time::sleep;

use crate::chains::Unit;
use crate::cpu::Meter;
use crate::report::PhaseReport;
use crate::scan::{self, GRPC, GRPC_PACED, HTTP, HTTP_PACED, Scan, Scanner};
use crate::scenario::{Ctx, Outcome, report};
use crate::workload::Population;

pub const POPULATION: &str = "population";

/// Commissions (and for a tenth, moves to dispensed) the population; bails if any of it failed.
pub async fn seed(ctx: &Ctx<'_>, out: &mut Outcome) -> anyhow::Result<Population> {
    let gtin = ctx.product().await?;
    let population = Population::plan(&ctx.ids, gtin, ctx.opts.population(), ctx.opts.pack_size)?;
    let chains = ctx
        .presign(population.specs(&ctx.ids, &ctx.target.parties), &mut out.presign)
        .await?;
    let (phase, acked) = ctx.seed_phase(POPULATION, chains, Unit::Packs).await;
    let (errors, skipped) = (phase.errors.clone(), phase.skipped);
    out.phases.push(phase);
    if !errors.is_empty() || skipped > 0 {
        bail!("seeding the scan population failed ({errors:?}, {skipped} events not sent)");
    }
    let ids: Vec<Hash> = acked.iter().map(|a| a.id).collect();
    out.acked.extend(ids.iter().copied());
    wait_committed(ctx, &ids).await?;
    Ok(population)
}

/// Waits until the verifier reports every event committed: a block is on the topic before its effects are in
/// Redis, and scans read Redis.
async fn wait_committed(ctx: &Ctx<'_>, ids: &[Hash]) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(ctx.opts.seal_stall_secs);
    let mut ledger = LedgerServiceClient::new(ctx.verifier.authed());
    for id in ids {
        loop {
            let request = GetEventStatusRequest { event_id: id.to_vec() };
            let status = ledger
                .get_event_status(request)
                .await
                .context("asking for an event's status")?;
            match status.get_ref().state() {
                EventState::Committed => break,
                EventState::Pending if Instant::now() < deadline => sleep(Duration::from_millis(20)).await,
                state => bail!("population event {} is {state:?}, not committed", hex::encode(id)),
            }
        }
    }
    Ok(())
}

/// One timed phase (`name`) of scans over `series` with `clients` tasks, cycling through `scans`, flat out or at
/// `rate` scans/s.
async fn scan_phase(
    ctx: &Ctx<'_>,
    (name, series): (&'static str, &'static str),
    scans: Arc<Vec<Scan>>,
    clients: usize,
    rate: Option<f64>,
) -> PhaseReport {
    let (recorder, window) = ctx.timed();
    let meter = Meter::window(window.from);
    // Flat out: scans start until the window ends. Paced: the scans due until then are all sent, however late.
    let (limit, stop_at) = match rate {
        None => (usize::MAX, window.to),
        Some(rate) => (
            (rate * ctx.sending_secs()).ceil() as usize,
            window.to + Duration::from_secs(ctx.opts.phase_timeout_secs),
        ),
    };
    let scanner = Scanner::new(
        ctx.verifier.clone(),
        &ctx.target.client_tls,
        recorder.clone(),
        scans,
        limit,
        stop_at,
    );
    let scanner = match rate {
        None => scanner,
        Some(rate) => match scanner.paced(rate) {
            Ok(paced) => paced,
            Err(e) => {
                // No schedule, no paced phase: the missing latency then fails its target instead of being faked.
                recorder.error(format!("{name}: cannot start the pacing thread: {e}"));
                return report(name, None, &recorder, meter.read().await, (0, 0));
            }
        },
    };
    let scanner = Arc::new(scanner);
    scanner.run(series, clients).await;
    report(name, None, &recorder, meter.read().await, (0, 0))
}

pub async fn run(ctx: &Ctx<'_>) -> anyhow::Result<Outcome> {
    let mut out = Outcome::default();
    let population = seed(ctx, &mut out).await?;
    // Planned once; every phase cycles through them.
    let scans = Arc::new(scan::plan(
        &population,
        &ctx.ids,
        ctx.opts.scans.max(1),
        &ctx.target.verifier_http,
    )?);
    // Scans seal nothing: the blocks watcher rests meanwhile (see Watcher::pause), and catches up before the
    // exactly-once check.
    ctx.watcher.pause();
    for series in [GRPC, HTTP] {
        let phase = scan_phase(ctx, (series, series), scans.clone(), ctx.opts.clients, None).await;
        out.phases.push(phase);
    }
    // The latency target is a statement at a given load: measured at that load, not at saturation.
    let rate = Some(ctx.opts.scan_rate).filter(|r| r.is_finite() && *r > 0.0);
    if rate.is_some() {
        for phase in [(GRPC_PACED, GRPC), (HTTP_PACED, HTTP)] {
            out.phases
                .push(scan_phase(ctx, phase, scans.clone(), ctx.opts.clients, rate).await);
        }
    }
    let stall = Duration::from_secs(ctx.opts.seal_stall_secs);
    if !ctx.watcher.resume(stall).await? {
        bail!("the blocks watcher did not catch up with the blocks topic within {stall:?} after the scans");
    }
    Ok(out)
}
