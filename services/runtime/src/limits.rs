//! What one request, one connection and one client may cost a server: every bound in one place, with its setting
//! (docs/operations.md "Limits" is the table of these). Each service flattens [`LimitsConfig`] into its settings;
//! [`crate::grpc::serve`] and [`crate::http::serve`] apply them.

use std::time::Duration;

use crate::shed::InFlight;

/// The serving limits, as settings (flags or environment variables).
#[derive(Clone, Debug, clap::Args)]
pub struct LimitsConfig {
    /// Longest a gRPC call or an HTTP request may take; beyond it the call ends with DEADLINE_EXCEEDED, the request
    /// with 503. A gRPC client's shorter `grpc-timeout` wins.
    #[arg(long, env = "PEDIGREE_REQUEST_TIMEOUT_MS", default_value_t = 10_000)]
    pub request_timeout_ms: u64,
    /// Requests in progress at once in this process (gRPC and HTTP together); one more is refused at once with
    /// RESOURCE_EXHAUSTED / 503 and `Retry-After`, instead of queueing into seconds of latency.
    #[arg(long, env = "PEDIGREE_MAX_IN_FLIGHT", default_value_t = 512)]
    pub max_in_flight: usize,
    /// Open connections per server (TLS handshakes included); further connections wait in the kernel's accept
    /// queue until one closes.
    #[arg(long, env = "PEDIGREE_MAX_CONNECTIONS", default_value_t = 8_192)]
    pub max_connections: usize,
    /// HTTP/2 streams (calls) one connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS).
    #[arg(long, env = "PEDIGREE_MAX_STREAMS_PER_CONNECTION", default_value_t = 128)]
    pub max_streams_per_connection: u32,
    /// How long an HTTP/1.1 client may take to send a request's headers (from the connection's start or the end
    /// of its previous request): a slow or idle keep-alive connection is closed after it.
    #[arg(long, env = "PEDIGREE_HEADER_READ_TIMEOUT_MS", default_value_t = 5_000)]
    pub header_read_timeout_ms: u64,
    /// An HTTP connection (HTTP/1.1 or HTTP/2) with no byte read or written for this long is closed.
    #[arg(long, env = "PEDIGREE_IDLE_TIMEOUT_SECS", default_value_t = 60)]
    pub idle_timeout_secs: u64,
    /// Interval of HTTP/2 PING keepalives on gRPC and HTTP/2 connections; a peer that does not answer one within
    /// 20 s is disconnected.
    #[arg(long, env = "PEDIGREE_KEEPALIVE_SECS", default_value_t = 30)]
    pub keepalive_secs: u64,
    /// A gRPC connection older than this is asked to go away (GOAWAY) once its calls finish, so clients reconnect
    /// and spread over replicas.
    #[arg(long, env = "PEDIGREE_MAX_CONNECTION_AGE_SECS", default_value_t = 1_800)]
    pub max_connection_age_secs: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            request_timeout_ms: 10_000,
            max_in_flight: 512,
            max_connections: 8_192,
            max_streams_per_connection: 128,
            header_read_timeout_ms: 5_000,
            idle_timeout_secs: 60,
            keepalive_secs: 30,
            max_connection_age_secs: 1_800,
        }
    }
}

/// The limits of one process: its settings and the in-flight budget its servers share.
#[derive(Clone, Debug)]
pub struct Limits {
    config: LimitsConfig,
    in_flight: InFlight,
}

impl Limits {
    pub fn new(config: LimitsConfig) -> anyhow::Result<Self> {
        config.check()?;
        let in_flight = InFlight::new(config.max_in_flight);
        Ok(Self { config, in_flight })
    }

    pub fn config(&self) -> &LimitsConfig {
        &self.config
    }

    pub fn in_flight(&self) -> &InFlight {
        &self.in_flight
    }
}

impl Default for Limits {
    fn default() -> Self {
        let config = LimitsConfig::default();
        let in_flight = InFlight::new(config.max_in_flight);
        Self { config, in_flight }
    }
}

/// How long a peer has to answer a keepalive PING.
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// Longest header block (all header names and values) a request may carry: a session token is about 200 bytes.
pub const MAX_HEADER_BYTES: u32 = 16 * 1024;

/// What an HTTP request body may hold at most (the JSON sign-in request is under 1 KiB).
pub const MAX_HTTP_BODY_BYTES: usize = 16 * 1024;

/// How long a refused client is told to wait (`Retry-After`, in seconds) when the server is full.
pub const SHED_RETRY_AFTER_SECS: u64 = 1;

impl LimitsConfig {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms)
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    pub fn keepalive(&self) -> Duration {
        Duration::from_secs(self.keepalive_secs)
    }

    pub fn max_connection_age(&self) -> Duration {
        Duration::from_secs(self.max_connection_age_secs)
    }

    /// Limits that refuse nonsense settings (a zero would refuse everything or disable the bound silently).
    pub fn check(&self) -> anyhow::Result<()> {
        let zero = [
            ("PEDIGREE_REQUEST_TIMEOUT_MS", self.request_timeout_ms == 0),
            ("PEDIGREE_MAX_IN_FLIGHT", self.max_in_flight == 0),
            ("PEDIGREE_MAX_CONNECTIONS", self.max_connections == 0),
            (
                "PEDIGREE_MAX_STREAMS_PER_CONNECTION",
                self.max_streams_per_connection == 0,
            ),
            ("PEDIGREE_HEADER_READ_TIMEOUT_MS", self.header_read_timeout_ms == 0),
            ("PEDIGREE_IDLE_TIMEOUT_SECS", self.idle_timeout_secs == 0),
            ("PEDIGREE_KEEPALIVE_SECS", self.keepalive_secs == 0),
            ("PEDIGREE_MAX_CONNECTION_AGE_SECS", self.max_connection_age_secs == 0),
        ];
        if let Some((name, _)) = zero.iter().find(|(_, zero)| *zero) {
            anyhow::bail!("{name} must be more than 0");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        limits: LimitsConfig,
    }

    #[test]
    fn the_flag_defaults_are_the_documented_defaults() {
        let parsed = Flags::parse_from(["x"]).limits;
        let default = LimitsConfig::default();
        assert_eq!(format!("{parsed:?}"), format!("{default:?}"));
        default.check().unwrap();
    }

    #[test]
    fn a_zero_limit_is_refused_by_name() {
        let limits = LimitsConfig {
            max_in_flight: 0,
            ..LimitsConfig::default()
        };
        assert_eq!(
            limits.check().unwrap_err().to_string(),
            "PEDIGREE_MAX_IN_FLIGHT must be more than 0"
        );
    }
}
