//! Verifier settings, from flags or environment variables.

use std::net::SocketAddr;

#[derive(Clone, Debug, clap::Parser)]
#[command(name = "pedigree-verifier", about = "Pedigree verifier", version)]
pub struct Config {
    /// gRPC address (VerifierService, LedgerService, health, reflection).
    #[arg(long, env = "PEDIGREE_VERIFIER_GRPC_ADDR", default_value = "127.0.0.1:50052")]
    pub grpc_addr: SocketAddr,
    /// HTTP address (/v1/verify, Digital Link, /healthz, /readyz, /metrics).
    #[arg(long, env = "PEDIGREE_VERIFIER_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: SocketAddr,
    /// Redis (read-only user `verifier`).
    #[command(flatten)]
    pub redis: pedigree_store::RedisConfig,
    /// Grace period for in-flight requests on shutdown.
    #[arg(long, env = "PEDIGREE_SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,
}
