//! `mixed`: ingest chains flat out (or at `--rate`) while `--scan-clients` tasks scan the seeded population, half
//! over gRPC and half over HTTP, as one timed phase: scanning stops when the ingest stops sending, at the end of the
//! window.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::chains::{Driver, Unit, Until};
use crate::cli::Scenario;
use crate::cpu::Meter;
use crate::pacer::Pacer;
use crate::scan::{self, GRPC, HTTP, Scanner};
use crate::scenario::{Ctx, Outcome, end_if_dry, report, verify};
use crate::{sizing, workload};

pub const PHASE: &str = "mixed";
/// Distinct scans planned at most; the scanners cycle through them.
const PLANNED_SCANS: usize = 20_000;

pub async fn run(ctx: &Ctx<'_>) -> anyhow::Result<Outcome> {
    let mut out = Outcome::default();
    let opts = ctx.opts;
    let population = verify::seed(ctx, &mut out).await?;
    let planned = opts.scans.clamp(1, PLANNED_SCANS);
    let scans = Arc::new(scan::plan(&population, &ctx.ids, planned, &ctx.target.verifier_http)?);
    let gtin = ctx.product().await?;
    let events = sizing::chain_events(opts, sizing::rate_bound(opts, Scenario::Mixed), ctx.sending_secs());
    let specs = workload::ingest(&ctx.ids, &ctx.target.parties, 'M', events, &gtin);
    let chains = ctx.presign(specs, &mut out.presign).await?;
    let (recorder, window) = ctx.timed();
    let meter = Meter::window(window.from);
    let scanner = Arc::new(Scanner::new(
        ctx.verifier.clone(),
        &ctx.target.client_tls,
        recorder.clone(),
        scans,
        usize::MAX,
        window.to,
    ));
    let grpc_clients = (opts.scan_clients / 2).max(1);
    let http_clients = opts.scan_clients.saturating_sub(grpc_clients).max(1);
    let grpc = tokio::spawn(scanner.clone().run(GRPC, grpc_clients));
    let http = tokio::spawn(scanner.clone().run(HTTP, http_clients));
    let driver = Arc::new(Driver::new(
        ctx.custody.clone(),
        recorder.clone(),
        Pacer::new(opts.rate),
        (
            Until::WindowEnd(window.to),
            opts.rate.is_none().then(|| sizing::backlog_events(opts, Unit::Events)),
        ),
        Unit::Events,
    ));
    let clients = opts.clients.min(chains.len()).max(1);
    let driven = driver.run(chains, clients, |id| ctx.is_sealed(id)).await;
    end_if_dry(&recorder, &driven);
    // Scans stop with the ingest (at the window's end, or earlier if its pool ran out): the drain is not measured.
    scanner.stop.store(true, Ordering::Relaxed);
    for task in [grpc, http] {
        if task.await.is_err() {
            recorder.error("scanner panicked");
        }
    }
    let cpu = meter.read().await;
    ctx.seal(&recorder, &driven.acked, Unit::Events).await;
    out.acked.extend(driven.acked.iter().map(|a| a.id));
    out.phases.push(report(
        PHASE,
        opts.rate,
        &recorder,
        cpu,
        (driven.skipped, driven.unsent),
    ));
    Ok(out)
}
