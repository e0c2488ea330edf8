//! How much to pre-sign for a timed phase. Every event is signed before the phase starts (signing is the client's
//! cost, not the system's), so the pool must last the warm-up and the window at any rate the stack could reach. It is
//! sized for a rate bound (`--rate` when paced, else `--max-rate`, generous by default), plus the chain each client
//! holds when sending stops. What is left unsent is reported; a pool that runs out ends the window early, and the
//! report says so.

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

/// Single-pack events for a pass at up to `rate` events/s over `secs`: `--events` if given.
pub fn chain_events(opts: &Options, rate: f64, secs: f64) -> usize {
    opts.events
        .unwrap_or_else(|| units(rate, secs, opts.clients, CHAIN_EVENTS))
}

/// Packs to commission for the bulk pass over `secs`: `--packs` if given. Each pack changes state three times, each
/// change a unit of the rate.
pub fn bulk_packs(opts: &Options, secs: f64) -> usize {
    opts.packs.unwrap_or_else(|| {
        let chain_units = BULK_CHAIN_EVENTS * opts.pack_size.max(1);
        let changes = units(rate_bound(opts, Scenario::Bulk), secs, opts.clients, chain_units);
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
        crate::Cli::try_parse_from(argv).unwrap().command.options().clone()
    }

    #[test]
    fn pools_last_the_phase_at_the_bound() {
        assert_eq!(units(100.0, 2.5, 8, 6), 250 + 48);
        let o = opts(&["--clients", "64"]);
        assert_eq!(rate_bound(&o, Scenario::Ingest), MAX_EVENTS_PER_SEC);
        assert_eq!(chain_events(&o, 25_000.0, 35.0), 875_000 + 64 * 6);
        assert_eq!(rate_bound(&o, Scenario::Bulk), MAX_PACKS_PER_SEC);
        assert_eq!(bulk_packs(&o, 35.0), (14_000_000 + 64 * 3000usize).div_ceil(3));
        let paced = opts(&["--rate", "2000", "--pack-size", "100"]);
        assert_eq!(rate_bound(&paced, Scenario::Ingest), 2000.0);
        assert_eq!(rate_bound(&paced, Scenario::Bulk), 200_000.0);
        let given = opts(&["--events", "60", "--packs", "300", "--max-rate", "10"]);
        assert_eq!((chain_events(&given, 1e9, 1e9), bulk_packs(&given, 1e9)), (60, 300));
        assert_eq!(rate_bound(&given, Scenario::Mixed), 10.0);
    }
}
