//! `pedigree-custody`: telemetry, configuration, build, run until SIGTERM.

/// mimalloc, as in the sequencer (see its main.rs): many small, short-lived allocations per request.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    pedigree_runtime::init();
    let config = pedigree_custody::Config::parse();
    let app = pedigree_custody::App::build(config).await?;
    tracing::info!(addr = %app.addr(), "custody serving grpc");
    app.run_until(pedigree_runtime::shutdown_signal()).await
}
