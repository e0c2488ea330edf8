//! The attack as a process of its own (`pedigree-loadtest hostile-attack`), started by a hostile run.
//!
//! The attackers are other machines: in one process with the legitimate pharmacies they would share its runtime,
//! and a pharmacy's scan would wait behind thousands of attacking tasks (4 MB requests built and encrypted, a
//! thousand reconnections a second) before the verifier ever saw it, which measures the load generator, not the
//! verifier. Apart, they share only what a real attack shares with the verifier on this box: the cores.
//!
//! The child runs every attack until its standard input closes, then prints what each attack got as one JSON
//! object on standard output and exits.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

use super::address;
use super::attack::{self, Counts, Target};

/// What the attack process is told.
#[derive(Args, Debug, Clone)]
pub struct AttackArgs {
    /// The verifier's HTTPS address.
    #[arg(long)]
    pub http: SocketAddr,
    /// The verifier's gRPC address (https://...).
    #[arg(long)]
    pub grpc_url: String,
    /// The CA certificate the verifier's certificate chains to (PEM).
    #[arg(long)]
    pub ca: PathBuf,
    /// A code the verifier knows.
    #[arg(long)]
    pub code: String,
    #[arg(long)]
    pub slowloris: usize,
    #[arg(long)]
    pub slow_headers: usize,
    #[arg(long)]
    pub floods: usize,
    #[arg(long)]
    pub flood_bytes: usize,
    #[arg(long)]
    pub abusive: usize,
}

/// What each attack got, by outcome.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct AttackCounts {
    pub slowloris: BTreeMap<String, u64>,
    pub slow_headers: BTreeMap<String, u64>,
    pub floods: BTreeMap<String, u64>,
    pub abusive: BTreeMap<String, u64>,
}

/// The child's side: attacks until standard input closes, then prints [`AttackCounts`] as JSON.
pub async fn run(args: AttackArgs) -> anyhow::Result<()> {
    let ca_pem = std::fs::read(&args.ca).with_context(|| format!("reading {}", args.ca.display()))?;
    let stop = Arc::new(AtomicBool::new(false));
    let target = Target {
        http: args.http,
        grpc_url: args.grpc_url.clone(),
        ca_pem,
        code: args.code.clone(),
        stop: stop.clone(),
    };
    let mut attacks = tokio::task::JoinSet::new();
    let (slowloris, slow_headers, floods, abusive) = (
        Arc::new(Counts::default()),
        Arc::new(Counts::default()),
        Arc::new(Counts::default()),
        Arc::new(Counts::default()),
    );
    for n in 0..args.slowloris {
        attacks.spawn(attack::slowloris(target.clone(), address(3, n), slowloris.clone()));
    }
    for n in 0..args.slow_headers {
        attacks.spawn(attack::slow_headers(
            target.clone(),
            address(4, n),
            slow_headers.clone(),
        ));
    }
    for n in 0..args.floods {
        attacks.spawn(attack::flood(
            target.clone(),
            address(5, n),
            n % 2 == 0,
            args.flood_bytes,
            floods.clone(),
        ));
    }
    for _ in 0..args.abusive {
        attacks.spawn(attack::abusive(target.clone(), address(6, 0), abusive.clone()));
    }
    tokio::task::spawn_blocking(|| {
        let mut sink = [0u8; 64];
        while std::io::stdin().read(&mut sink).unwrap_or(0) > 0 {}
    })
    .await?;
    stop.store(true, Ordering::Relaxed);
    attacks.abort_all();
    let counts = AttackCounts {
        slowloris: slowloris.snapshot(),
        slow_headers: slow_headers.snapshot(),
        floods: floods.snapshot(),
        abusive: abusive.snapshot(),
    };
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", serde_json::to_string(&counts)?)?;
    stdout.flush()?;
    Ok(())
}

/// The parent's side: the attack process, stopped (and its counts read) by [`Attack::finish`], killed if dropped.
pub struct Attack {
    child: Child,
}

impl Attack {
    /// Starts `exe` (default: this executable) as `hostile-attack` with `args`, at niceness `nice`.
    pub fn start(args: &AttackArgs, exe: Option<&std::path::Path>, nice: u8) -> anyhow::Result<Self> {
        let exe = match exe {
            Some(exe) => exe.to_path_buf(),
            None => std::env::current_exe().context("finding this executable")?,
        };
        // coreutils' nice: the child starts at that niceness, and so do its threads.
        let mut command = Command::new("nice");
        command
            .args(["-n", &nice.to_string()])
            .arg(exe)
            .arg("hostile-attack")
            .args(["--http", &args.http.to_string()])
            .args(["--grpc-url", &args.grpc_url])
            .arg("--ca")
            .arg(&args.ca)
            .args(["--code", &args.code])
            .args(["--slowloris", &args.slowloris.to_string()])
            .args(["--slow-headers", &args.slow_headers.to_string()])
            .args(["--floods", &args.floods.to_string()])
            .args(["--flood-bytes", &args.flood_bytes.to_string()])
            .args(["--abusive", &args.abusive.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        let child = command.spawn().context("starting the attack process")?;
        Ok(Self { child })
    }

    /// The attack process's id (to read its CPU time).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Closes the child's standard input and reads what each attack got.
    pub async fn finish(mut self) -> anyhow::Result<AttackCounts> {
        drop(self.child.stdin.take());
        let mut out = String::new();
        let mut stdout = self
            .child
            .stdout
            .take()
            .context("the attack process has no standard output")?;
        tokio::time::timeout(Duration::from_secs(30), stdout.read_to_string(&mut out))
            .await
            .context("the attack process did not report within 30 s")??;
        let status = self.child.wait().await?;
        anyhow::ensure!(status.success(), "the attack process exited with {status}");
        serde_json::from_str(out.trim()).context("reading the attack process's report")
    }
}
