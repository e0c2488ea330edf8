//! `bulk`: commissions of `--pack-size` packs, each shipped to a wholesaler and received, as one timed phase;
//! throughput in packs/s (each event counts the packs it moves).

use crate::chains::Unit;
use crate::scenario::{Ctx, Outcome};
use crate::{sizing, workload};

pub const PHASE: &str = "bulk";

pub async fn run(ctx: &Ctx<'_>) -> anyhow::Result<Outcome> {
    let mut out = Outcome::default();
    let opts = ctx.opts;
    let gtin = ctx.ids.gtin()?;
    let packs = sizing::bulk_packs(opts, ctx.sending_secs());
    let specs = workload::bulk(&ctx.ids, &ctx.target.parties, packs, opts.pack_size, &gtin);
    let chains = ctx.presign(specs, &mut out.presign).await?;
    let (phase, acked) = ctx.chains_phase(PHASE, chains, opts.rate, Unit::Packs).await;
    out.acked.extend(acked.iter().map(|a| a.id));
    out.phases.push(phase);
    Ok(out)
}
