//! `pedigree-loadtest`: runs a load scenario, prints the table, writes the report, and exits non-zero when an
//! acknowledged event was lost or sealed twice (a chaos run: when any of its checks failed).

#![forbid(unsafe_code)]

/// mimalloc, as in the sequencer (see its main.rs): many small, short-lived allocations per request.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use pedigree_loadtest::cli::Command;
use pedigree_loadtest::{Cli, chaos, run};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Chaos(args) = cli.command {
        let outcome = chaos::run(args).await?;
        println!("{}", outcome.summary);
        println!("results: {}", outcome.dir.display());
        if !outcome.report.ok {
            eprintln!("chaos run FAILED");
            std::process::exit(2);
        }
        return Ok(());
    }
    if let Command::Hostile(args) = cli.command {
        let outcome = pedigree_loadtest::hostile::run(args).await?;
        println!("{}", outcome.summary);
        println!("results: {}", outcome.dir.display());
        return Ok(());
    }
    if let Command::HostileAttack(args) = cli.command {
        return pedigree_loadtest::hostile::attacker::run(args).await;
    }
    if let Command::Failover(args) = cli.command {
        let (_, dir, summary) = pedigree_loadtest::failover::run(args).await?;
        println!("{summary}");
        println!("results: {}", dir.display());
        return Ok(());
    }
    let outcome = run(cli).await?;
    println!("{}", outcome.summary);
    println!("results: {}", outcome.dir.display());
    if !outcome.report.exactly_once.ok {
        eprintln!("exactly-once check FAILED");
        std::process::exit(2);
    }
    Ok(())
}
