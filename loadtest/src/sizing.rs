//! How much to pre-sign for a timed phase. Every event is signed before the phase starts (signing is the client's
//! cost, not the system's), so the pool must last the warm-up and the window at any rate the stack could reach. It is
//! sized for a rate bound (`--rate` when paced, else `--max-rate`, generous by default), plus the chain each client
//! holds when sending stops and, flat out, the backlog the clients fill at the start (see [`crate::backlog`]). What is
//! left unsent is reported; a pool that runs out ends the window early, and the report says so.

use crate::chains::Unit;
use crate::cli::{Options, Scenario};

/// Chains of single-pack events (commission to dispense).
pub const CHAIN_EVENTS: usize = 6;
/// Events of a bulk chain (commission, ship, receive), each counting every pack it moves.
pub const BULK_CHAIN_EVENTS: usize = 3;

/// The default bound of single-pack events per second. Each event's signature is verified twice (custody and the
/// sequencer), so two cores doing nothing else pass at most one core's k256 rate (≈ 23,000/s at best on the 2-core
/// box); the most measured is ≈ 11,000.
pub const MAX_EVENTS_PER_SEC: f64 = 25_000.0;
/// The default bound of pack changes per second in bulk: about twice the most measured (207k on a small store).
pub const MAX_PACKS_PER_SEC: f64 = 400_000.0;

/// The default cap of single-pack events waiting to be sealed in a flat-out phase (see [`crate::backlog`]): ten of
/// `make bench`'s largest blocks (2,000 events), under two seconds of sealing.
pub const MAX_BACKLOG_EVENTS: u64 = 20_000;
/// The default cap of pack changes waiting to be sealed in flat-out bulk: five of the sequencer's largest blocks
/// (1 MiB of events, ≈ 50,000 pack changes), about a second of sealing.
pub const MAX_BACKLOG_PACKS: u64 = 250_000;

/// The cap of events waiting to be sealed in a flat-out phase of `unit`: `--max-backlog` (in that unit) or its
/// default, in events.
pub fn backlog_events(opts: &Options, unit: Unit) -> u64 {
    match unit {
        Unit::Events => opts.max_backlog.unwrap_or(MAX_BACKLOG_EVENTS),
        Unit::Packs => {
            let packs = opts.max_backlog.unwrap_or(MAX_BACKLOG_PACKS);
            packs.div_ceil(opts.pack_size.max(1) as u64)
        }
    }
    .max(1)
}

/// Units (events, or pack changes) a pass may use: `rate` units/s for `secs`, and then one more chain of
/// `chain_units` in the hands of each of `clients` when sending stops.
pub fn units(rate: f64, secs: f64, clients: usize, chain_units: usize) -> usize {
    let steady = (rate.max(0.0) * secs).ceil();
    // Saturating on purpose: a bound beyond memory is the caller's to notice, and signing would say so.
    let steady = if steady.is_finite() {
        steady as usize
    } else {
        usize::MAX
    };
    steady.saturating_add(clients.max(1).saturating_mul(chain_units))
}

/// The rate bound for pools of `scenario`, in its unit (events/s, or packs/s for bulk): `--rate` when paced (in
/// events/s), else `--max-rate` or its default.
pub fn rate_bound(opts: &Options, scenario: Scenario) -> f64 {
    let per_event = match scenario {
        Scenario::Bulk => opts.pack_size.max(1) as f64,
        _ => 1.0,
    };
    match (opts.rate, opts.max_rate) {
        (Some(rate), _) => rate * per_event,
        (None, Some(max)) => max,
        (None, None) if scenario == Scenario::Bulk => MAX_PACKS_PER_SEC,
        (None, None) => MAX_EVENTS_PER_SEC,
    }
}

/// Units a flat-out pass sends on top of its rate: the backlog its clients fill at the start (none when paced).
fn backlog_units(opts: &Options, unit: Unit) -> usize {
    if opts.rate.is_some() {
        return 0;
    }
    let per_event = match unit {
        Unit::Events => 1,
        Unit::Packs => opts.pack_size.max(1) as u64,
    };
    usize::try_from(backlog_events(opts, unit).saturating_mul(per_event)).unwrap_or(usize::MAX)
}

/// Single-pack events for the flat-out or `--rate` pass over `secs` at up to `rate` events/s: `--events` if given.
pub fn chain_events(opts: &Options, rate: f64, secs: f64) -> usize {
    opts.events.unwrap_or_else(|| {
        units(rate, secs, opts.clients, CHAIN_EVENTS).saturating_add(backlog_units(opts, Unit::Events))
    })
}

/// Packs to commission for the bulk pass over `secs`: `--packs` if given. Each pack changes state three times, each
/// change a unit of the rate.
pub fn bulk_packs(opts: &Options, secs: f64) -> usize {
    opts.packs.unwrap_or_else(|| {
        let chain_units = BULK_CHAIN_EVENTS * opts.pack_size.max(1);
        let changes = units(rate_bound(opts, Scenario::Bulk), secs, opts.clients, chain_units)
            .saturating_add(backlog_units(opts, Unit::Packs));
        changes.div_ceil(BULK_CHAIN_EVENTS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn opts(args: &[&str]) -> Options {
        let mut argv = vec!["pedigree-loadtest", "spawn", "ingest"];
        argv.extend_from_slice(args);
        crate::Cli::try_parse_from(argv)
            .unwrap()
            .command
            .options()
            .unwrap()
            .clone()
    }

    #[test]
    fn pools_last_the_phase_at_the_bound() {
        assert_eq!(units(100.0, 2.5, 8, 6), 250 + 48);
        let o = opts(&["--clients", "64"]);
        assert_eq!(rate_bound(&o, Scenario::Ingest), MAX_EVENTS_PER_SEC);
        // The rate over the warm-up and the window, the chain in each client's hands, and the backlog.
        assert_eq!(chain_events(&o, 25_000.0, 35.0), 875_000 + 64 * 6 + 20_000);
        assert_eq!(rate_bound(&o, Scenario::Bulk), MAX_PACKS_PER_SEC);
        assert_eq!(
            bulk_packs(&o, 35.0),
            (14_000_000 + 64 * 3000 + 250_000usize).div_ceil(3)
        );
        let paced = opts(&["--rate", "2000", "--pack-size", "100"]);
        assert_eq!(
            chain_events(&paced, 2000.0, 10.0),
            20_000 + 64 * 6,
            "no backlog when paced"
        );
        assert_eq!(rate_bound(&paced, Scenario::Ingest), 2000.0);
        assert_eq!(rate_bound(&paced, Scenario::Bulk), 200_000.0);
        let given = opts(&["--events", "60", "--packs", "300", "--max-rate", "10"]);
        assert_eq!((chain_events(&given, 1e9, 1e9), bulk_packs(&given, 1e9)), (60, 300));
        assert_eq!(rate_bound(&given, Scenario::Mixed), 10.0);
        assert_eq!(backlog_events(&o, Unit::Events), 20_000);
        assert_eq!(backlog_events(&o, Unit::Packs), 250);
        let capped = opts(&["--max-backlog", "1000", "--pack-size", "300"]);
        assert_eq!(
            (
                backlog_events(&capped, Unit::Events),
                backlog_events(&capped, Unit::Packs)
            ),
            (1000, 4)
        );
    }
}
