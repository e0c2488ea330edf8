//! Who may ask how often: anonymous callers by source address, signed-in participants by identity
//! (`PEDIGREE_ANONYMOUS_PER_SEC`, `PEDIGREE_PARTICIPANT_PER_SEC`). Every request is counted once its caller is known,
//! before any work for it is done.

use std::net::IpAddr;

use pedigree_runtime::rate::{Limited, RateLimit};
use prometheus_client::metrics::counter::Counter;

use crate::access::Caller;

pub struct Rates {
    anonymous: RateLimit<IpAddr>,
    participant: RateLimit<String>,
    /// Requests refused for their caller's rate, as a metric.
    refused: Counter,
}

impl Rates {
    /// Averages per second (0: no limit); bursts of twice the average pass.
    pub fn new(anonymous_per_sec: u32, participant_per_sec: u32) -> Self {
        Self {
            anonymous: RateLimit::new(anonymous_per_sec, anonymous_per_sec.saturating_mul(2), "this address"),
            participant: RateLimit::new(
                participant_per_sec,
                participant_per_sec.saturating_mul(2),
                "this participant",
            ),
            refused: Counter::default(),
        }
    }

    /// The count of refused requests, shared, for the metrics registry.
    pub fn refused_counter(&self) -> Counter {
        self.refused.clone()
    }

    /// Counts one request of `caller` (from `peer`, when the server knows it), or refuses it.
    pub fn admit(&self, caller: &Caller, peer: Option<IpAddr>) -> Result<(), Limited> {
        let admitted = match (caller, peer) {
            (Caller::Participant { id, .. }, _) => self.participant.check(id),
            (Caller::Anonymous, Some(peer)) => self.anonymous.check(&canonical(peer)),
            // No address (a server without one, in tests): nothing to key on.
            (Caller::Anonymous, None) => Ok(()),
        };
        if admitted.is_err() {
            self.refused.inc();
        }
        admitted
    }
}

/// An IPv4 client seen through an IPv6 socket counts as itself.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pedigree_core::participant::Role;

    #[test]
    fn addresses_and_participants_have_their_own_budgets() {
        let rates = Rates::new(2, 3);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let a_mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..4 {
            rates.admit(&Caller::Anonymous, Some(a)).unwrap();
        }
        assert_eq!(
            rates.admit(&Caller::Anonymous, Some(a_mapped)).unwrap_err().who,
            "this address"
        );
        rates.admit(&Caller::Anonymous, Some(b)).unwrap();
        let pharmacy = Caller::Participant {
            id: "pharmacy-1".into(),
            role: Role::Pharmacy,
            index: 3,
        };
        // A participant is counted by identity, whatever address it comes from.
        for _ in 0..6 {
            rates.admit(&pharmacy, Some(a)).unwrap();
        }
        assert_eq!(rates.admit(&pharmacy, Some(b)).unwrap_err().who, "this participant");
    }
}
