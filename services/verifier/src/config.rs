//! Verifier settings, from flags or environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::client_ip::TrustedProxies;

fn parse_proxies(list: &str) -> Result<TrustedProxies, String> {
    TrustedProxies::parse(list).map_err(|e| e.to_string())
}

#[derive(Clone, Debug, clap::Parser)]
#[command(name = "pedigree-verifier", about = "Pedigree verifier", version)]
pub struct Config {
    /// gRPC address (VerifierService, LedgerService, health, reflection).
    #[arg(long, env = "PEDIGREE_VERIFIER_GRPC_ADDR", default_value = "127.0.0.1:50052")]
    pub grpc_addr: SocketAddr,
    /// HTTP address (/v1/verify, Digital Link, /healthz, /readyz, /metrics).
    #[arg(long, env = "PEDIGREE_VERIFIER_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: SocketAddr,
    /// Redis (read-only user `verifier`, which may write only its sign-in nonces).
    #[command(flatten)]
    pub redis: pedigree_store::RedisConfig,
    /// Genesis file: the chain a sign-in is bound to, and the founding participants.
    #[arg(long, env = "PEDIGREE_GENESIS", default_value = ".pedigree/genesis.json")]
    pub genesis: PathBuf,
    /// How often to look for registry changes (revocations and key rotations end sessions within this delay).
    #[arg(long, env = "PEDIGREE_REGISTRY_REFRESH_MS", default_value_t = 500)]
    pub registry_refresh_ms: u64,
    /// File whose contents key the session tokens (at least 32 random bytes). Replicas sharing it accept each
    /// other's sessions; without it each process makes a random key (sessions end with the process).
    #[arg(long, env = "PEDIGREE_SESSION_KEY_FILE")]
    pub session_key_file: Option<PathBuf>,
    /// How long a session lasts.
    #[arg(long, env = "PEDIGREE_SESSION_TTL_SECS", default_value_t = 3600)]
    pub session_ttl_secs: u64,
    /// How many blocks Redis may be behind the log while a sequencer replays it (after Redis lost its state) and
    /// still be answered from; beyond it, and while Redis holds no state at all, scans and status queries answer
    /// UNAVAILABLE (HTTP 503) and the readiness checks fail.
    #[arg(long, env = "PEDIGREE_MAX_REDIS_LAG_BLOCKS", default_value_t = 0)]
    pub max_redis_lag_blocks: u64,
    /// Anonymous requests (scans, mostly) one source address may make per second on average (0: no limit); bursts
    /// of twice that pass. One more is refused with 429 / RESOURCE_EXHAUSTED and a `Retry-After`. The address is
    /// the TCP peer's, or the client a trusted proxy forwarded (`trusted_proxies`).
    #[arg(long, env = "PEDIGREE_ANONYMOUS_PER_SEC", default_value_t = 50)]
    pub anonymous_per_sec: u32,
    /// Proxies (addresses and CIDR ranges, comma-separated) whose `X-Forwarded-For` names the client an anonymous
    /// request counts against: the first untrusted address from the right. Empty: the TCP peer is the client.
    #[arg(long, env = "PEDIGREE_TRUSTED_PROXIES", default_value = "", value_parser = parse_proxies)]
    pub trusted_proxies: TrustedProxies,
    /// Requests one signed-in participant may make per second on average (0: no limit), bursts of twice that.
    #[arg(long, env = "PEDIGREE_PARTICIPANT_PER_SEC", default_value_t = 1_000)]
    pub participant_per_sec: u32,
    /// Kafka bootstrap servers: the alerts log is a topic (docs/operations.md, "Alerts").
    #[arg(long, env = "PEDIGREE_KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    pub kafka_brokers: String,
    /// Kafka TLS and SASL settings.
    #[command(flatten)]
    pub kafka_security: pedigree_kafka::KafkaSecurity,
    /// The alerts log: every alert raised and closed, kept for ever; created by the verifier if missing.
    #[arg(long, env = "PEDIGREE_ALERTS_TOPIC", default_value = "pedigree.alerts")]
    pub alerts_topic: String,
    /// Replication of the alerts topic when the verifier creates it.
    #[command(flatten)]
    pub durability: pedigree_kafka::Durability,
    /// The GLN a VRS answer names as responder when the product's owner registered no GLN (docs/verdicts.md, "VRS
    /// responder"); empty: none.
    #[arg(long, env = "PEDIGREE_VRS_RESPONDER_GLN", default_value = "")]
    pub vrs_responder_gln: String,
    /// Grace period for in-flight requests on shutdown.
    #[arg(long, env = "PEDIGREE_SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,
    /// The certificate the servers present (TLS is on unless `insecure_plaintext` is set).
    #[command(flatten)]
    pub tls: pedigree_runtime::tls::ServerTlsConfig,
    /// Where Prometheus metrics are also served (off unless set; /metrics on the HTTP port always answers).
    #[command(flatten)]
    pub metrics: pedigree_runtime::metrics::MetricsConfig,
    /// What a request, a connection and a client may cost (docs/operations.md, "Limits").
    #[command(flatten)]
    pub limits: pedigree_runtime::limits::LimitsConfig,
}

impl Config {
    /// What the verifier's Kafka clients (the alerts log's producer and reader) are built from.
    pub fn kafka(&self) -> pedigree_kafka::Result<pedigree_kafka::ClientSettings> {
        pedigree_kafka::ClientSettings::secured(&self.kafka_brokers, &self.kafka_security)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_flags_are_consistent() {
        use clap::CommandFactory;
        super::Config::command().debug_assert();
    }
}
