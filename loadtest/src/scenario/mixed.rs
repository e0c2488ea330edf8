//! `mixed`: ingest chains flat out (or at `--rate`) while `--scan-clients` tasks scan the seeded population, half
//! over gRPC and half over HTTP, until the ingest is sealed.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::chains::{Driver, Unit};
use crate::cli::Scenario;
use crate::cpu;
use crate::pacer::Pacer;
use crate::recorder::Recorder;
use crate::scan::{self, GRPC, HTTP, Scanner};
use crate::scenario::{Ctx, Outcome, report, verify};
use crate::workload;

pub const PHASE: &str = "mixed";

/// Distinct scans planned; the scanners cycle through them.
const PLANNED_SCANS: usize = 20_000;

pub async fn run(ctx: &Ctx<'_>) -> anyhow::Result<Outcome> {
    let mut out = Outcome::default();
    let opts = ctx.opts;
    let population = verify::seed(ctx, Scenario::Mixed, &mut out).await?;
    let planned = opts.scans.clamp(1, PLANNED_SCANS);
    let scans = Arc::new(scan::plan(&population, &ctx.ids, planned, &ctx.target.verifier_http)?);
    let gtin = ctx.ids.gtin()?;
    let specs = workload::ingest(&ctx.ids, &ctx.target.parties, 'M', opts.events, &gtin);
    let chains = ctx.presign(specs, &mut out.presign).await?;

    let recorder = Arc::new(Recorder::new(ctx.origin));
    let mark = cpu::mark();
    let deadline = ctx.deadline();
    let scanner = Arc::new(Scanner::new(
        ctx.verifier.clone(),
        recorder.clone(),
        scans,
        usize::MAX,
        deadline,
    ));
    let grpc_clients = (opts.scan_clients / 2).max(1);
    let http_clients = opts.scan_clients.saturating_sub(grpc_clients).max(1);
    let grpc = tokio::spawn(scanner.clone().run(GRPC, grpc_clients));
    let http = tokio::spawn(scanner.clone().run(HTTP, http_clients));
    let driver = Arc::new(Driver::new(
        ctx.custody.clone(),
        recorder.clone(),
        Pacer::new(opts.rate),
        deadline,
        Unit::Events,
    ));
    let clients = opts.clients.min(chains.len()).max(1);
    let (acked, skipped) = driver.run(chains, clients).await;
    // Scanning goes on until the ingest is sealed: the sequencer's Redis writes are part of the interference.
    ctx.seal(&recorder, &acked, Unit::Events).await;
    scanner.stop.store(true, Ordering::Relaxed);
    for task in [grpc, http] {
        if task.await.is_err() {
            recorder.error("scanner panicked");
        }
    }
    out.acked.extend(acked.iter().map(|a| a.id));
    out.phases.push(report(PHASE, opts.rate, &recorder, skipped, mark));
    Ok(out)
}
