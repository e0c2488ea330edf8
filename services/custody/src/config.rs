//! Custody settings, from flags or environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug, clap::Parser)]
#[command(name = "pedigree-custody", about = "Pedigree custody gRPC service", version)]
pub struct Config {
    /// Address of the gRPC server (port 0 picks a free port).
    #[arg(long, env = "PEDIGREE_CUSTODY_GRPC_ADDR", default_value = "127.0.0.1:50051")]
    pub grpc_addr: SocketAddr,
    /// Kafka bootstrap servers.
    #[arg(long, env = "PEDIGREE_KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    pub kafka_brokers: String,
    /// Kafka TLS and SASL settings.
    #[command(flatten)]
    pub kafka_security: pedigree_kafka::KafkaSecurity,
    /// Topic custody events are appended to.
    #[arg(long, env = "PEDIGREE_EVENTS_TOPIC", default_value = "pedigree.events")]
    pub events_topic: String,
    /// Genesis file: the trust anchors and founding participants. Later registry changes are read from Redis.
    #[arg(long, env = "PEDIGREE_GENESIS", default_value = ".pedigree/genesis.json")]
    pub genesis: PathBuf,
    /// Redis: the participant registry as sealed so far (read-only user `custody`).
    #[command(flatten)]
    pub redis: pedigree_store::RedisConfig,
    /// How often to look for registry changes sealed by the sequencer.
    #[arg(long, env = "PEDIGREE_REGISTRY_REFRESH_MS", default_value_t = 500)]
    pub registry_refresh_ms: u64,
    /// How long to wait for the broker to acknowledge an event before answering UNAVAILABLE.
    #[arg(long, env = "PEDIGREE_DELIVERY_TIMEOUT_MS", default_value_t = 5000)]
    pub delivery_timeout_ms: u64,
    /// The sequencer's block size limit (the same setting): an envelope that could not fit in a block is refused.
    #[arg(long, env = "PEDIGREE_BLOCK_MAX_BYTES", default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(65_536..=1_048_000))]
    pub block_max_bytes: u64,
    /// Events one participant may submit per second on average (0: no limit); bursts of twice that pass. One more
    /// is refused with RESOURCE_EXHAUSTED and a `retry-after` (seconds), so no participant crowds out the others.
    #[arg(long, env = "PEDIGREE_SUBMISSIONS_PER_SEC", default_value_t = 1_000)]
    pub submissions_per_sec: u32,
    /// Grace period for in-flight requests on shutdown.
    #[arg(long, env = "PEDIGREE_SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,
    /// The certificate the servers present (TLS is on unless `insecure_plaintext` is set).
    #[command(flatten)]
    pub tls: pedigree_runtime::tls::ServerTlsConfig,
    /// Where Prometheus metrics are served (off unless set).
    #[command(flatten)]
    pub metrics: pedigree_runtime::metrics::MetricsConfig,
    /// What a request, a connection and a client may cost (docs/operations.md, "Limits").
    #[command(flatten)]
    pub limits: pedigree_runtime::limits::LimitsConfig,
}

impl Config {
    /// What the custody service's Kafka producer is built from.
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
