//! `pedigree-sequencer`: telemetry, configuration, build, run until SIGTERM.

/// mimalloc: the hot paths allocate many small, short-lived values (pack keys, records, Redis arguments), where
/// glibc malloc spent a quarter of the sequencer's time and kept freed memory as per-thread arenas.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    pedigree_runtime::init();
    let config = pedigree_sequencer::Config::parse();
    let app = pedigree_sequencer::App::build(config).await?;
    tracing::info!(health = %app.health_addr(), "sequencer starting");
    app.run_until(pedigree_runtime::shutdown_signal()).await
}
