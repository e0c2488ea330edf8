//! `pedigree-verifier`: telemetry, configuration, build, run until SIGTERM.

/// mimalloc, as in the sequencer (see its main.rs): many small, short-lived allocations per request.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    pedigree_runtime::init();
    let config = pedigree_verifier::Config::parse();
    let app = pedigree_verifier::App::build(config).await?;
    tracing::info!(grpc = %app.grpc_addr(), http = %app.http_addr(), "verifier serving");
    app.run_until(pedigree_runtime::shutdown_signal()).await
}
