//! `pedigree-sequencer`: telemetry, configuration, build, run until SIGTERM.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    pedigree_runtime::init();
    let config = pedigree_sequencer::Config::parse();
    let app = pedigree_sequencer::App::build(config).await?;
    tracing::info!(health = %app.health_addr(), "sequencer starting");
    app.run_until(pedigree_runtime::shutdown_signal()).await
}
