//! Who may ask how often: anonymous callers by source address, signed-in participants by identity
//! (`PEDIGREE_ANONYMOUS_PER_SEC`, `PEDIGREE_PARTICIPANT_PER_SEC`). Every request is counted once its caller is known,
//! before any work for it is done.

use std::net::IpAddr;

use pedigree_runtime::rate::{Limited, RateLimit};
use prometheus_client::metrics::counter::Counter;

use crate::access::Caller;
use crate::client_ip::TrustedProxies;

pub struct Rates {
    anonymous: RateLimit<IpAddr>,
    /// Whose `X-Forwarded-For` names the client (see [`crate::client_ip`]).
    proxies: TrustedProxies,
    participant: RateLimit<String>,
    /// Requests refused for their caller's rate, as a metric.
    refused: Counter,
}

impl Rates {
    /// Averages per second (0: no limit); bursts of twice the average pass.
    pub fn new(anonymous_per_sec: u32, participant_per_sec: u32, proxies: TrustedProxies) -> Self {
        Self {
            proxies,
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

    /// Counts one request of `caller` (from `peer`, when the server knows it, with the `X-Forwarded-For` values
    /// `forwarded`), or refuses it.
    pub fn admit<'a>(
        &self,
        caller: &Caller,
        peer: Option<IpAddr>,
        forwarded: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<(), Limited> {
        let admitted = match (caller, peer) {
            (Caller::Participant { id, .. }, _) => self.participant.check(id),
            (Caller::Anonymous, Some(peer)) => self.anonymous.check(&self.proxies.client(peer, forwarded)),
            // No address (a server without one, in tests): nothing to key on.
            (Caller::Anonymous, None) => Ok(()),
        };
        if admitted.is_err() {
            self.refused.inc();
        }
        admitted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pedigree_core::participant::Role;

    #[test]
    fn addresses_and_participants_have_their_own_budgets() {
        let rates = Rates::new(2, 3, TrustedProxies::default());
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let a_mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..4 {
            rates.admit(&Caller::Anonymous, Some(a), []).unwrap();
        }
        assert_eq!(
            rates.admit(&Caller::Anonymous, Some(a_mapped), []).unwrap_err().who,
            "this address"
        );
        rates.admit(&Caller::Anonymous, Some(b), []).unwrap();
        let pharmacy = Caller::Participant {
            id: "pharmacy-1".into(),
            role: Role::Pharmacy,
            index: 3,
        };
        // A participant is counted by identity, whatever address it comes from.
        for _ in 0..6 {
            rates.admit(&pharmacy, Some(a), []).unwrap();
        }
        assert_eq!(rates.admit(&pharmacy, Some(b), []).unwrap_err().who, "this participant");
    }

    #[test]
    fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
        let rates = Rates::new(1, 0, TrustedProxies::parse("10.0.0.0/8").unwrap());
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        for _ in 0..2 {
            rates
                .admit(&Caller::Anonymous, Some(proxy), [&b"198.51.100.1"[..]])
                .unwrap();
        }
        assert!(
            rates
                .admit(&Caller::Anonymous, Some(proxy), [&b"198.51.100.1"[..]])
                .is_err()
        );
        // Another client through the same proxy, and a client lying about its address, are counted apart.
        rates
            .admit(&Caller::Anonymous, Some(proxy), [&b"198.51.100.2"[..]])
            .unwrap();
        rates
            .admit(&Caller::Anonymous, Some(proxy), [&b"198.51.100.1, 198.51.100.3"[..]])
            .unwrap();
    }
}
