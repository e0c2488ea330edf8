//! Whose address a request counts against (anonymous rate limits): the TCP peer's, unless the peer is a proxy the
//! operator trusts (`PEDIGREE_TRUSTED_PROXIES`), in which case the client is read from the `X-Forwarded-For` entries
//! that trusted proxies appended.
//!
//! Each proxy appends the address it received the request from, so the list reads client, proxy 1, proxy 2, …, and
//! only the entries appended by trusted proxies can be believed: walking from the right, past every trusted address,
//! the first untrusted one is the client. Whatever a client writes itself sits to the left of that and is ignored,
//! so a client cannot pick its own budget. An entry that is not an IP address ends the walk: the last trusted hop
//! before it is used, never the garbage.

use std::net::IpAddr;

use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("trusted proxies: '{0}' is not an address or a CIDR range (such as 10.0.0.0/8 or fd00::/8)")]
pub struct BadProxy(String);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and CIDR ranges (empty: trust nobody).
    pub fn parse(list: &str) -> Result<Self, BadProxy> {
        let nets = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| BadProxy(s.chars().take(64).collect()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(nets))
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request from `peer` carrying the `X-Forwarded-For` header values `forwarded` (in the order
    /// they came).
    pub fn client<'a>(&self, peer: IpAddr, forwarded: impl IntoIterator<Item = &'a [u8]>) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        let entries: Vec<&[u8]> = forwarded
            .into_iter()
            .flat_map(|value| value.split(|b| *b == b','))
            .collect();
        for entry in entries.into_iter().rev() {
            let Some(ip) = std::str::from_utf8(entry)
                .ok()
                .and_then(|s| s.trim().parse::<IpAddr>().ok())
            else {
                return client;
            };
            client = canonical(ip);
            if !self.trusts(client) {
                return client;
            }
        }
        client
    }
}

/// An IPv4 client seen through an IPv6 socket counts as itself.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn client(proxies: &str, peer: &str, headers: &[&str]) -> IpAddr {
        TrustedProxies::parse(proxies)
            .unwrap()
            .client(ip(peer), headers.iter().map(|h| h.as_bytes()))
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        assert_eq!(client("", "203.0.113.9", &["198.51.100.1"]), ip("203.0.113.9"));
        assert_eq!(
            client("10.0.0.0/8", "203.0.113.9", &["198.51.100.1"]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_hop_from_the_right_is_the_client() {
        // The client forged the first entry; the ingress (10.0.0.5) appended the real address.
        let got = client("10.0.0.0/8", "10.0.0.5", &["1.2.3.4, 198.51.100.7"]);
        assert_eq!(got, ip("198.51.100.7"));
        // Two trusted hops, entries over two header lines.
        let got = client(
            "10.0.0.0/8, 192.168.1.1",
            "192.168.1.1",
            &["1.2.3.4, 198.51.100.7", "10.0.0.5"],
        );
        assert_eq!(got, ip("198.51.100.7"));
        // No header: the proxy itself.
        assert_eq!(client("10.0.0.0/8", "10.0.0.5", &[]), ip("10.0.0.5"));
        // Every entry trusted: the leftmost one.
        assert_eq!(
            client("10.0.0.0/8", "10.0.0.5", &["10.1.1.1, 10.2.2.2"]),
            ip("10.1.1.1")
        );
    }

    #[test]
    fn garbage_ends_the_walk_at_the_last_trusted_hop() {
        assert_eq!(
            client("10.0.0.0/8", "10.0.0.5", &["198.51.100.7, unknown"]),
            ip("10.0.0.5")
        );
        assert_eq!(client("10.0.0.0/8", "10.0.0.5", &["\u{ff}"]), ip("10.0.0.5"));
    }

    #[test]
    fn mapped_ipv4_and_ipv6_ranges_match() {
        assert_eq!(
            client("10.0.0.0/8", "::ffff:10.0.0.5", &["2001:db8::1"]),
            ip("2001:db8::1")
        );
        assert_eq!(
            client("fd00::/8", "fd00::1", &["::ffff:198.51.100.7"]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn a_bad_range_is_refused_naming_it() {
        let err = TrustedProxies::parse("10.0.0.0/8, 10.0.0.0/99").unwrap_err();
        assert_eq!(err, BadProxy("10.0.0.0/99".into()));
        assert_eq!(TrustedProxies::parse(" ").unwrap(), TrustedProxies::default());
    }
}
