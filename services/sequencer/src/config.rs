//! Sequencer settings, from flags or environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug, clap::Parser)]
#[command(name = "pedigree-sequencer", about = "Pedigree sequencer", version)]
pub struct Config {
    /// Kafka bootstrap servers.
    #[arg(long, env = "PEDIGREE_KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    pub kafka_brokers: String,
    /// Kafka TLS and SASL settings.
    #[command(flatten)]
    pub kafka_security: pedigree_kafka::KafkaSecurity,
    /// Topic of custody events (input).
    #[arg(long, env = "PEDIGREE_EVENTS_TOPIC", default_value = "pedigree.events")]
    pub events_topic: String,
    /// Topic of sealed blocks (output, one partition).
    #[arg(long, env = "PEDIGREE_BLOCKS_TOPIC", default_value = "pedigree.blocks")]
    pub blocks_topic: String,
    /// Redis (user `sequencer`: the only writer of ledger state).
    #[command(flatten)]
    pub redis: pedigree_store::RedisConfig,
    /// Genesis file listing the participants and the sequencer's public key.
    #[arg(long, env = "PEDIGREE_GENESIS", default_value = ".pedigree/genesis.json")]
    pub genesis: PathBuf,
    /// PKCS#8 PEM file of the sequencer's signing key.
    #[arg(long, env = "PEDIGREE_SEQUENCER_KEY", default_value = ".pedigree/sequencer.pem")]
    pub key: PathBuf,
    /// PKCS#8 PEM file of the key a governance `RotateSequencerKey` names (or will name): the sequencer signs with
    /// whichever of its keys the chain's schedule names for the next block, so both are configured while a rotation
    /// is under way (docs/operations.md, "Rotating the sequencer key").
    #[arg(long, env = "PEDIGREE_SEQUENCER_NEXT_KEY")]
    pub next_key: Option<PathBuf>,
    /// Seal a block once this many events are collected...
    #[arg(long, env = "PEDIGREE_BATCH_MAX_EVENTS", default_value_t = 2000)]
    pub batch_max_events: usize,
    /// ...or this many payload bytes...
    #[arg(long, env = "PEDIGREE_BATCH_MAX_BYTES", default_value_t = 1024 * 1024)]
    pub batch_max_bytes: usize,
    /// ...or this long after the first event of the batch arrived.
    #[arg(long, env = "PEDIGREE_BATCH_MAX_WAIT_MS", default_value_t = 50)]
    pub batch_max_wait_ms: u64,
    /// The largest block, in bytes: a batch that would seal a larger one is sealed as several blocks. Blocks are
    /// Kafka records: keep this under the broker's `message.max.bytes` (Apache Kafka's default is 1,048,588).
    #[arg(long, env = "PEDIGREE_BLOCK_MAX_BYTES", default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(65_536..=1_048_000))]
    pub block_max_bytes: u64,
    /// Replication factor and min.insync.replicas of the blocks topic, when the sequencer creates it.
    #[command(flatten)]
    pub durability: pedigree_kafka::Durability,
    /// Health turns NOT_SERVING (and the liveness probe restarts the process) once the sealing loop has been busy
    /// this long without progress.
    #[arg(long, env = "PEDIGREE_STALL_SECS", default_value_t = 60)]
    pub stall_secs: u64,
    /// gRPC health endpoint.
    #[arg(long, env = "PEDIGREE_SEQUENCER_HEALTH_ADDR", default_value = "127.0.0.1:50053")]
    pub health_addr: SocketAddr,
    /// Grace period for finishing the batch in hand on shutdown.
    #[arg(long, env = "PEDIGREE_SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,
    /// The certificate the servers present (TLS is on unless `insecure_plaintext` is set).
    #[command(flatten)]
    pub tls: pedigree_runtime::tls::ServerTlsConfig,
    /// Where Prometheus metrics are served (off unless set).
    #[command(flatten)]
    pub metrics: pedigree_runtime::metrics::MetricsConfig,
    /// Who may seal: see [`LeadershipConfig`].
    #[command(flatten)]
    pub leadership: LeadershipConfig,
}

impl Config {
    /// The most one envelope may take and still fit in a block (larger ones are refused, see `batch.rs`).
    pub fn max_envelope_bytes(&self) -> usize {
        pedigree_core::block_size::max_envelope_bytes(self.block_max_bytes as usize)
    }

    /// What every Kafka client of the sequencer is built from.
    pub fn kafka(&self) -> pedigree_kafka::Result<pedigree_kafka::ClientSettings> {
        pedigree_kafka::ClientSettings::secured(&self.kafka_brokers, &self.kafka_security)
    }
}

/// How a sequencer knows it leads (see `leadership.rs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LeadershipMode {
    /// Always leader, with a fixed epoch: one sequencer outside Kubernetes.
    #[default]
    Static,
    /// Campaign for a coordination.k8s.io/v1 Lease; its leaseTransitions is the epoch.
    Lease,
}

/// Leader-election settings.
#[derive(Clone, Debug, clap::Args)]
pub struct LeadershipConfig {
    /// `static` (always leader) or `lease` (Kubernetes Lease election).
    #[arg(long, env = "PEDIGREE_LEADERSHIP", value_enum, default_value_t = LeadershipMode::Static)]
    pub leadership: LeadershipMode,
    /// The epoch a static leader seals with (blocks of a lower epoch than the chain head are refused).
    #[arg(long, env = "PEDIGREE_STATIC_EPOCH", default_value_t = 1)]
    pub static_epoch: u64,
    /// Name of the Lease.
    #[arg(long, env = "PEDIGREE_LEASE_NAME", default_value = "pedigree-sequencer")]
    pub lease_name: String,
    /// Namespace of the Lease.
    #[arg(long, env = "PEDIGREE_LEASE_NAMESPACE", default_value = "default")]
    pub lease_namespace: String,
    /// This sequencer's holderIdentity (default: $HOSTNAME, else `sequencer-<pid>`).
    #[arg(long, env = "PEDIGREE_HOLDER_ID")]
    pub holder_id: Option<String>,
    /// leaseDurationSeconds: a leader renews every third of it and stops sealing before it runs out.
    #[arg(long, env = "PEDIGREE_LEASE_DURATION_SECS", default_value_t = 15)]
    pub lease_duration_secs: u64,
    /// Kubeconfig file (default: in-cluster config, else $KUBECONFIG, else ~/.kube/config).
    #[arg(long, env = "PEDIGREE_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
}

impl Default for LeadershipConfig {
    fn default() -> Self {
        Self {
            leadership: LeadershipMode::Static,
            static_epoch: 1,
            lease_name: "pedigree-sequencer".into(),
            lease_namespace: "default".into(),
            holder_id: None,
            lease_duration_secs: 15,
            kubeconfig: None,
        }
    }
}

impl LeadershipConfig {
    /// Static leadership with `epoch`.
    pub fn fixed(epoch: u64) -> Self {
        Self {
            static_epoch: epoch,
            ..Self::default()
        }
    }

    /// Lease leadership as `holder` on `namespace/name`, through `kubeconfig`.
    pub fn lease(kubeconfig: PathBuf, namespace: &str, name: &str, holder: &str, duration_secs: u64) -> Self {
        Self {
            leadership: LeadershipMode::Lease,
            lease_name: name.into(),
            lease_namespace: namespace.into(),
            holder_id: Some(holder.into()),
            lease_duration_secs: duration_secs,
            kubeconfig: Some(kubeconfig),
            ..Self::default()
        }
    }

    /// The holder identity to campaign with.
    pub fn holder(&self) -> String {
        self.holder_id
            .clone()
            .filter(|h| !h.is_empty())
            .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
            .unwrap_or_else(|| format!("sequencer-{}", std::process::id()))
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
