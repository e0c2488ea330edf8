//! `bulk`: commissions of `--pack-size` packs, each shipped to a wholesaler and received, as one timed phase;
//! throughput in packs/s (each event counts the packs it moves). With `--case-size`, the packs are packed into cases
//! and the cases onto a pallet, which is shipped and received whole.

use crate::chains::Unit;
use crate::scenario::{Ctx, Outcome};
use crate::{sizing, workload};

pub const PHASE: &str = "bulk";

pub async fn run(ctx: &Ctx<'_>) -> anyhow::Result<Outcome> {
    let mut out = Outcome::default();
    let opts = ctx.opts;
    let gtin = ctx.product().await?;
    let packs = sizing::bulk_packs(opts, ctx.sending_secs());
    let parties = &ctx.target.parties;
    let specs = match opts.case_size {
        0 => workload::bulk(&ctx.ids, parties, packs, opts.pack_size, &gtin),
        case_size => workload::bulk_aggregated(&ctx.ids, parties, packs, opts.pack_size, case_size, &gtin)?,
    };
    let chains = ctx.presign(specs, &mut out.presign).await?;
    let (phase, acked) = ctx.chains_phase(PHASE, chains, opts.rate, Unit::Packs).await;
    out.acked.extend(acked.iter().map(|a| a.id));
    out.phases.push(phase);
    Ok(out)
}
