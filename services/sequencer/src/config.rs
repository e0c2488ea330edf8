//! Sequencer settings, from flags or environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug, clap::Parser)]
#[command(name = "pedigree-sequencer", about = "Pedigree sequencer", version)]
pub struct Config {
    /// Kafka bootstrap servers.
    #[arg(long, env = "PEDIGREE_KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    pub kafka_brokers: String,
    /// Topic of custody events (input).
    #[arg(long, env = "PEDIGREE_EVENTS_TOPIC", default_value = "pedigree.events")]
    pub events_topic: String,
    /// Topic of sealed blocks (output, one partition).
    #[arg(long, env = "PEDIGREE_BLOCKS_TOPIC", default_value = "pedigree.blocks")]
    pub blocks_topic: String,
    /// Redis URL.
    #[arg(long, env = "PEDIGREE_REDIS_URL", default_value = "redis://127.0.0.1:6379/0")]
    pub redis_url: String,
    /// Genesis file listing the participants and the sequencer's public key.
    #[arg(long, env = "PEDIGREE_GENESIS", default_value = ".pedigree/genesis.json")]
    pub genesis: PathBuf,
    /// PKCS#8 PEM file of the sequencer's signing key.
    #[arg(long, env = "PEDIGREE_SEQUENCER_KEY", default_value = ".pedigree/sequencer.pem")]
    pub key: PathBuf,
    /// Seal a block once this many events are collected...
    #[arg(long, env = "PEDIGREE_BATCH_MAX_EVENTS", default_value_t = 2000)]
    pub batch_max_events: usize,
    /// ...or this many payload bytes...
    #[arg(long, env = "PEDIGREE_BATCH_MAX_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub batch_max_bytes: usize,
    /// ...or this long after the first event of the batch arrived.
    #[arg(long, env = "PEDIGREE_BATCH_MAX_WAIT_MS", default_value_t = 50)]
    pub batch_max_wait_ms: u64,
    /// gRPC health endpoint.
    #[arg(long, env = "PEDIGREE_SEQUENCER_HEALTH_ADDR", default_value = "127.0.0.1:50053")]
    pub health_addr: SocketAddr,
    /// Grace period for finishing the batch in hand on shutdown.
    #[arg(long, env = "PEDIGREE_SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,
}
