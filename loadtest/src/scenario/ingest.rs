//! `ingest`: single-pack custody chains (six events each), flat out or paced; then, unless told otherwise, a second
//! pass at half of the end-to-end rate the first one reached, where submit-to-sealed latency is judged. Each pass is
//! a timed phase (warm-up, window, drain).

use crate::chains::{SEALED, Unit};
use crate::cli::Scenario;
use crate::scenario::{Ctx, Outcome};
use crate::sizing::{self, CHAIN_EVENTS};
use crate::workload;

pub const MAIN: &str = "flat-out";
pub const PACED: &str = "paced";
pub const HALF: &str = "half-rate";

pub async fn run(ctx: &Ctx<'_>) -> anyhow::Result<Outcome> {
    let mut out = Outcome::default();
    let (opts, parties) = (ctx.opts, &ctx.target.parties);
    let gtin = ctx.product().await?;
    let half = opts.rate.is_none() && !opts.no_half_rate;
    let secs = ctx.sending_secs();
    let events = sizing::chain_events(opts, sizing::rate_bound(opts, Scenario::Ingest), secs);
    let main = ctx
        .presign(
            workload::ingest(&ctx.ids, parties, 'I', events, &gtin),
            &mut out.presign,
        )
        .await?;
    let name = if opts.rate.is_some() { PACED } else { MAIN };
    let (phase, acked) = ctx.chains_phase(name, main, opts.rate, Unit::Events).await;
    out.acked.extend(acked.iter().map(|a| a.id));
    let reached = phase.series.get(SEALED).map_or(0.0, |s| s.per_sec);
    out.phases.push(phase);
    if half && reached > 0.0 {
        let rate = reached / 2.0;
        out.notes.push(format!(
            "half-rate pass paced at {rate:.0} events/s (half of the {reached:.0}/s end to end of the flat-out pass)"
        ));
        // Signed between the passes, for exactly the rate it is paced at.
        let events = sizing::units(rate, secs, opts.clients, CHAIN_EVENTS);
        let specs = workload::ingest(&ctx.ids, parties, 'H', events, &gtin);
        let second = ctx.presign(specs, &mut out.presign).await?;
        let (phase, acked) = ctx.chains_phase(HALF, second, Some(rate), Unit::Events).await;
        out.acked.extend(acked.iter().map(|a| a.id));
        out.phases.push(phase);
    }
    Ok(out)
}
