//! `pedigree-loadtest hostile`: the system as real processes with its default limits, legitimate pharmacies
//! scanning at a steady pace (each from its own address), while at the same time:
//! - thousands of slowloris connections trickle a TLS handshake one byte at a time (reconnecting when cut off),
//!   and hundreds more complete the handshake then trickle HTTP headers;
//! - clients send 4 MB bodies (`POST /v1/session`) and 4 MB gRPC scans, as fast as the verifier answers;
//! - one abusive address scans in a tight loop.
//!
//! The attackers run as a process of their own ([`attacker`]), at a niceness of `--attack-nice`, so that the
//! pharmacies' scans never wait behind the attackers' tasks in one runtime; the summary prints the CPU each process
//! used over the window.
//!
//! Reported beside the same-run machine limits: the legitimate scans' latency percentiles and errors, the
//! verifier's largest resident memory, and what each attack got. Targets (docs/performance.md): the legitimate p99
//! under 50 ms, no legitimate scan refused, the verifier under 256 MB.

mod attack;
pub mod attacker;
mod report;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use pedigree_core::envelope::{new_payload, sign_payload};
use pedigree_core::participant::Role;
use pedigree_devstack::local::names;
use pedigree_devstack::{LocalStack, LocalStackConfig, Ports};
use pedigree_runtime::tls::ClientTls;

use crate::ids::RunIds;
use crate::submit::Pool;
pub use report::{HostileReport, render};

#[derive(Args, Debug, Clone)]
pub struct HostileArgs {
    /// Seconds measured, after the warm-up.
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
    /// Seconds of attack before measuring (the slowloris connections are opened then).
    #[arg(long, default_value_t = 5)]
    pub warmup: u64,
    /// Connections trickling their TLS handshake.
    #[arg(long, default_value_t = 5_000)]
    pub slowloris: usize,
    /// Connections that complete the handshake and trickle HTTP headers.
    #[arg(long, default_value_t = 500)]
    pub slow_headers: usize,
    /// Clients sending oversized requests back to back (half HTTP bodies, half gRPC scans).
    #[arg(long, default_value_t = 8)]
    pub floods: usize,
    /// Size of each oversized request, in bytes.
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    pub flood_bytes: usize,
    /// Scans in flight at once from the abusive address.
    #[arg(long, default_value_t = 16)]
    pub abusive: usize,
    /// Legitimate pharmacies, each on its own address.
    #[arg(long, default_value_t = 20)]
    pub pharmacies: usize,
    /// Scans per second of each pharmacy.
    #[arg(long, default_value_t = 10)]
    pub scan_rate: u64,
    /// Niceness of the attack process (0 to 19, by `nice`): how much of the shared cores the attack yields to the
    /// stack. The attackers are other machines; on one box their own work (building and encrypting 4 MB requests,
    /// a thousand reconnections a second) would otherwise be charged to the verifier. 0 runs it at equal priority.
    #[arg(long, default_value_t = 19, value_parser = clap::value_parser!(u8).range(0..=19))]
    pub attack_nice: u8,
    /// The `pedigree-loadtest` executable to run the attack with (default: this one; a test names the built one).
    #[arg(long)]
    pub attack_exe: Option<PathBuf>,
    /// Where the service binaries are (default: next to this executable).
    #[arg(long)]
    pub bin_dir: Option<PathBuf>,
    /// Folder for results/hostile-<timestamp>/.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
}

/// A finished run.
pub struct HostileOutcome {
    pub report: HostileReport,
    pub dir: PathBuf,
    pub summary: String,
}

/// The source address of attacker `n` of a kind (`kind` picks the third octet, so kinds never share a budget).
pub fn address(kind: u8, n: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, kind, (n / 250) as u8, (n % 250) as u8 + 2))
}

pub async fn run(args: HostileArgs) -> anyhow::Result<HostileOutcome> {
    let temp = tempfile::tempdir().context("creating a temporary folder")?;
    let config = LocalStackConfig {
        dir: temp.path().join("stack"),
        ports: Ports::free(),
        extra_env: Vec::new(),
        bin_dir: args.bin_dir.clone(),
    };
    let stack = LocalStack::start(config, |notice| eprintln!("hostile: supervisor: {notice}"))
        .await
        .context("starting the stack")?;
    let result = drive(&args, &stack).await;
    tokio::task::spawn_blocking(move || stack.stop()).await?;
    let report = result?;
    let out = args.out.join(format!("hostile-{}", report.started_utc));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    std::fs::write(out.join("report.json"), serde_json::to_string_pretty(&report)?)?;
    let summary = render(&report);
    std::fs::write(out.join("summary.md"), &summary)?;
    Ok(HostileOutcome {
        report,
        dir: out,
        summary,
    })
}

async fn drive(args: &HostileArgs, stack: &LocalStack) -> anyhow::Result<HostileReport> {
    let started_utc = crate::run::timestamp();
    let tls = ClientTls::with_ca_file(stack.ca.ca_path())?;
    let ca_pem = std::fs::read(stack.ca.ca_path())?;
    let http: SocketAddr = ([127, 0, 0, 1], stack.ports.verifier_http).into();
    let grpc_url = format!("https://127.0.0.1:{}", stack.ports.verifier_grpc);
    let codes = seed(args.pharmacies.max(1), stack, &tls, &grpc_url).await?;
    let limits = crate::limits::measure(None).await;

    let attack_started = Instant::now();
    let attack = attacker::Attack::start(
        &attacker::AttackArgs {
            http,
            grpc_url: grpc_url.clone(),
            ca: stack.ca.ca_path().to_path_buf(),
            code: codes[0].clone(),
            slowloris: args.slowloris,
            slow_headers: args.slow_headers,
            floods: args.floods,
            flood_bytes: args.flood_bytes,
            abusive: args.abusive,
        },
        args.attack_exe.as_deref(),
        args.attack_nice,
    )?;
    let stop = Arc::new(AtomicBool::new(false));
    let verifier_pid = stack.supervisor().handle().pid(names::VERIFIER)?;
    let memory = tokio::spawn(attack::sample_rss(verifier_pid, stop.clone()));

    tokio::time::sleep(Duration::from_secs(args.warmup)).await;
    let window = Duration::from_secs(args.duration);
    let cpu = crate::cpu::mark();
    let attack_ticks = attack.pid().and_then(crate::cpu::process_ticks);
    let mut pharmacies = tokio::task::JoinSet::new();
    for n in 0..args.pharmacies.max(1) {
        let client = attack::https_client(&ca_pem, address(1, n))?;
        let code = codes[n % codes.len()].clone();
        pharmacies.spawn(attack::pharmacy(client, http, code, args.scan_rate, window));
    }
    let mut legit = report::Legit::default();
    while let Some(scans) = pharmacies.join_next().await {
        legit.add(scans?);
    }
    let mut cpu = cpu.since();
    if let (Some(before), Some(after)) = (attack_ticks, attack.pid().and_then(crate::cpu::process_ticks)) {
        let cores = crate::cpu::ticks_to_cores(after.saturating_sub(before), window);
        cpu.cores.insert("attack process".to_string(), cores);
    }
    stop.store(true, Ordering::Relaxed);
    let attacked = attack.finish().await?;
    let attack_secs = attack_started.elapsed().as_secs_f64();
    let max_rss_mb = memory.await?;
    let restarts = stack.supervisor().handle().restarts(names::VERIFIER)?;
    Ok(HostileReport::new(report::Parts {
        started_utc,
        args: args.clone(),
        legit,
        max_rss_mb,
        verifier_restarts: restarts,
        attacked,
        attack_secs,
        cpu,
        limits,
    }))
}

/// Commissions one pack per pharmacy and waits until the verifier knows the first; the codes to scan.
async fn seed(packs: usize, stack: &LocalStack, tls: &ClientTls, verifier: &str) -> anyhow::Result<Vec<String>> {
    let custody = Pool::connect(&format!("https://127.0.0.1:{}", stack.ports.custody), 1, tls).await?;
    let manufacturer = stack
        .fixture
        .parties
        .values()
        .find(|p| p.role == Role::Manufacturer)
        .context("the fixture has no manufacturer")?;
    let ids = RunIds::fresh()?;
    let gtin = ids.gtin()?;
    let scans = Pool::connect(verifier, 1, tls).await?;
    let owner = crate::parties::Party {
        id: manufacturer.id.clone(),
        role: manufacturer.role,
        key: manufacturer.key.clone(),
        chain_id: stack.fixture.chain_id,
    };
    crate::master_data::register_product(&custody, &scans, Some(&stack.fixture.governance), &owner, &gtin).await?;
    let serials: Vec<String> = (0..packs).map(|i| ids.serial('H', i)).collect();
    let body = pedigree_core::body::commission(&gtin, &ids.lot('H', 0), "301231", &serials);
    let envelope = sign_payload(
        &manufacturer.key,
        &new_payload(&stack.fixture.chain_id, &manufacturer.id, body),
    );
    custody
        .submit(Role::Manufacturer, pedigree_core::kind::EventKind::Commission, envelope)
        .await
        .context("commissioning the packs")?;
    let codes: Vec<String> = serials.iter().map(|s| format!("01{gtin}21{s}")).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(answer) = scans.verify(codes[0].clone()).await
            && answer.get_ref().verdict() == pedigree_core::pb::Verdict::Verified
        {
            return Ok(codes);
        }
        anyhow::ensure!(Instant::now() < deadline, "the packs were not sealed within 60 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
