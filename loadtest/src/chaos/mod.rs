//! `pedigree-loadtest chaos`: the whole system as real processes under a supervisor (as `pedigree up` runs it),
//! chains of custody and scans running, while components are SIGKILLed (Redis comes back empty, the broker keeps
//! its SQLite log) and paused with SIGSTOP/SIGCONT longer than the client timeouts. After each fault the run waits
//! until a fresh pack goes through end to end again (its recovery time). Afterwards: the chain audited, every
//! acknowledged event sealed exactly once, Redis equal to a replay of the log, every verify answer equal to the
//! replay's verdict, and no wrong verdict during the run.

pub mod check;
pub mod plan;
pub mod report;
pub mod traffic;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use pedigree_core::participant::Registry;
use pedigree_devstack::local::BLOCKS_TOPIC;
use pedigree_devstack::supervisor::Handle;
use pedigree_devstack::{LocalStack, LocalStackConfig, Notice, Ports};
use pedigree_kafka::ClientSettings;
use pedigree_runtime::tls::ClientTls;

use crate::ids::RunIds;
use crate::parties::{Parties, Party};
use crate::submit::Pool;
use plan::{FaultKind, PlanSpec};
use report::{ChaosReport, FaultRecord};
use traffic::{StatusReader, Traffic};

#[derive(Args, Debug, Clone)]
pub struct ChaosArgs {
    /// Seed of the fault plan (which component, what fault, when).
    #[arg(long, default_value_t = 4242)]
    pub seed: u64,
    /// SIGKILLs, spread evenly over sequencer, custody, verifier, Redis and broker.
    #[arg(long, default_value_t = 25)]
    pub kills: usize,
    /// SIGSTOP/SIGCONT pauses.
    #[arg(long, default_value_t = 3)]
    pub pauses: usize,
    /// Length of a pause: longer than the clients' attempt timeout (5 s) and the sequencer's lease.
    #[arg(long, default_value_t = 20)]
    pub pause_secs: u64,
    /// Shortest stretch of plain load before a fault, in ms.
    #[arg(long, default_value_t = 1000)]
    pub min_gap_ms: u64,
    /// Longest stretch of plain load before a fault, in ms.
    #[arg(long, default_value_t = 6000)]
    pub max_gap_ms: u64,
    /// Clients walking packs through their chains.
    #[arg(long, default_value_t = 6)]
    pub clients: usize,
    /// Scanning tasks.
    #[arg(long, default_value_t = 2)]
    pub scanners: usize,
    /// The sequencer's largest batch (events per block).
    #[arg(long, default_value_t = 50)]
    pub batch_max_events: usize,
    /// A fault not recovered from (a fresh pack through end to end) within this many seconds fails the run.
    #[arg(long, default_value_t = 180)]
    pub recovery_timeout_secs: u64,
    /// Folder of the stack (cleared first; default: a temporary folder).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Where the service binaries are (default: next to this executable).
    #[arg(long)]
    pub bin_dir: Option<PathBuf>,
    /// Folder for results/chaos-<timestamp>/.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
}

/// A finished chaos run.
pub struct ChaosOutcome {
    pub report: ChaosReport,
    pub dir: PathBuf,
    pub summary: String,
}

/// Runs the chaos scenario and writes its report.
pub async fn run(args: ChaosArgs) -> anyhow::Result<ChaosOutcome> {
    let temp = tempfile::tempdir().context("creating a temporary folder")?;
    let dir = args.dir.clone().unwrap_or_else(|| temp.path().join("stack"));
    let notices: Arc<Mutex<Vec<(Instant, Notice)>>> = Arc::default();
    let heard = notices.clone();
    let config = LocalStackConfig {
        dir,
        ports: Ports::free(),
        // Per-client rate limits off: every client runs on one address, and the run is about faults, not abuse.
        extra_env: vec![
            ("PEDIGREE_BATCH_MAX_EVENTS".into(), args.batch_max_events.to_string()),
            ("PEDIGREE_ANONYMOUS_PER_SEC".into(), "0".into()),
            ("PEDIGREE_PARTICIPANT_PER_SEC".into(), "0".into()),
            ("PEDIGREE_SUBMISSIONS_PER_SEC".into(), "0".into()),
        ],
        bin_dir: args.bin_dir.clone(),
    };
    let stack = LocalStack::start(config, move |notice| {
        eprintln!("chaos: supervisor: {notice}");
        heard
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((Instant::now(), notice));
    })
    .await
    .context("starting the stack")?;
    let result = drive(&args, &stack, &notices).await;
    let logs = stack.dir.clone();
    tokio::task::spawn_blocking(move || stack.stop()).await?;
    let mut report = result?;
    report.logs = logs.display().to_string();
    let out = args.out.join(format!("chaos-{}", report.started_utc));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let json = serde_json::to_string_pretty(&report)?;
    std::fs::write(out.join("report.json"), json)?;
    let summary = report::render(&report);
    std::fs::write(out.join("summary.md"), &summary)?;
    // Keep the services' logs of a failed run (the temporary folder goes away).
    if !report.ok && args.dir.is_none() {
        for entry in std::fs::read_dir(temp.path().join("stack"))?.flatten() {
            if entry.path().extension().is_some_and(|e| e == "log") {
                let _ = std::fs::copy(entry.path(), out.join(entry.file_name()));
            }
        }
    }
    Ok(ChaosOutcome {
        report,
        dir: out,
        summary,
    })
}

async fn drive(
    args: &ChaosArgs,
    stack: &LocalStack,
    notices: &Mutex<Vec<(Instant, Notice)>>,
) -> anyhow::Result<ChaosReport> {
    let started = Instant::now();
    let started_utc = crate::run::timestamp();
    let tls = ClientTls::with_ca_file(stack.ca.ca_path())?;
    let custody_url = format!("https://127.0.0.1:{}", stack.ports.custody);
    let verifier_url = format!("https://127.0.0.1:{}", stack.ports.verifier_grpc);
    let chain_id = stack.fixture.chain_id;
    let parties = Parties::new(stack.fixture.parties.values().map(|p| Party {
        id: p.id.clone(),
        role: p.role,
        key: p.key.clone(),
        chain_id,
    }))?;
    let reader = Arc::new(parties.reader()?.clone());
    let custody = Arc::new(Pool::connect(&custody_url, 2, &tls).await?);
    let scans = Arc::new(Pool::connect(&verifier_url, 2, &tls).await?);
    let status = StatusReader::new(Arc::new(Pool::connect(&verifier_url, 1, &tls).await?), reader);
    let ids = RunIds::fresh()?;
    let gtin = ids.gtin()?;
    crate::master_data::register_product(
        &custody,
        &scans,
        Some(&stack.fixture.governance),
        &parties.manufacturers[0],
        &gtin,
    )
    .await?;
    let traffic = Arc::new(Traffic::new(ids, gtin, parties, custody, scans.clone(), status));

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.clients.max(1) {
        tasks.spawn(traffic.clone().walk());
    }
    for k in 0..args.scanners {
        tasks.spawn(traffic.clone().scan(args.seed.wrapping_add(k as u64 + 1)));
    }
    let recovery_timeout = Duration::from_secs(args.recovery_timeout_secs);
    // The system must work before the first fault.
    let warm = traffic::probe(&traffic, Instant::now(), recovery_timeout).await;
    anyhow::ensure!(
        warm.is_some(),
        "the stack did not seal and verify a pack before any fault"
    );

    let faults = plan::plan(PlanSpec {
        seed: args.seed,
        kills: args.kills,
        pauses: args.pauses,
        pause_secs: args.pause_secs,
        min_gap_ms: args.min_gap_ms,
        max_gap_ms: args.max_gap_ms,
    });
    let supervisor = stack.supervisor().handle();
    let mut records = Vec::new();
    for (n, fault) in faults.iter().enumerate() {
        tokio::time::sleep(Duration::from_millis(fault.after_ms)).await;
        let name = fault.component.process();
        let at = started.elapsed();
        let of = format!("fault {}/{}", n + 1, faults.len());
        let (from, replaced) = match fault.kind {
            FaultKind::Kill => {
                let from = Instant::now();
                let pid = blocking(&supervisor, move |s| s.signal(name, "KILL")).await?;
                eprintln!("chaos: {of}: SIGKILL {name} (pid {pid})");
                let replaced = blocking(&supervisor, move |s| s.wait_replaced(name, pid, recovery_timeout)).await;
                (from, replaced.is_ok())
            }
            FaultKind::Pause { secs } => {
                let pid = blocking(&supervisor, move |s| s.signal(name, "STOP")).await?;
                eprintln!("chaos: {of}: SIGSTOP {name} (pid {pid}) for {secs} s");
                tokio::time::sleep(Duration::from_secs(secs)).await;
                blocking(&supervisor, move |s| s.signal(name, "CONT")).await?;
                (Instant::now(), true)
            }
        };
        let recovered = traffic::probe(&traffic, from, recovery_timeout).await;
        eprintln!(
            "chaos: {of}: {} {} recovered {}",
            match fault.kind {
                FaultKind::Kill => "kill",
                FaultKind::Pause { .. } => "pause",
            },
            fault.component.name(),
            recovered.map_or("NEVER".to_string(), |d| format!("after {d:.1?}"))
        );
        records.push(FaultRecord {
            component: fault.component,
            kind: fault.kind,
            at_secs: at.as_secs_f64(),
            restarted: replaced,
            recovered_after_secs: recovered.map(|d| d.as_secs_f64()),
        });
    }
    // Let the clients finish the events in hand, then stop them.
    tokio::time::sleep(Duration::from_secs(2)).await;
    traffic.stop();
    while tasks.join_next().await.is_some() {}
    let load_secs = started.elapsed().as_secs_f64();

    // Every acknowledged event must reach the chain: wait for the sequencer to drain, then replay.
    let acked = traffic.acked();
    let kafka = ClientSettings::new(&stack.brokers);
    let registry = Registry::from_genesis(&stack.fixture.genesis)?;
    let deadline = Instant::now() + Duration::from_secs(120);
    let replayed = loop {
        let (k, t, r) = (kafka.clone(), BLOCKS_TOPIC.to_string(), registry.clone());
        let replayed = tokio::task::spawn_blocking(move || check::replay(&k, &t, r)).await?;
        let done = match &replayed {
            Ok(r) => check::exactly_once(&acked, r).lost == 0,
            Err(_) => false,
        };
        if done || Instant::now() > deadline {
            break replayed;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    let mut report = ChaosReport::new(args, started_utc, load_secs, records);
    report.chains_done = traffic.chains_done.load(std::sync::atomic::Ordering::Relaxed);
    report.submit_retries = traffic.retries();
    report.refused = traffic.refused();
    report.scans = traffic.tally.kinds();
    report.wrong_verdicts = traffic.tally.wrong_examples();
    for c in plan::Component::ALL {
        let restarts = blocking(&supervisor, move |s| s.restarts(c.process())).await;
        report.restarts.insert(c.name().into(), restarts.unwrap_or(0));
    }
    report.supervisor_notices = notices.lock().unwrap_or_else(|p| p.into_inner()).len();
    match replayed {
        Ok(replay) => {
            report.audit = Some(format!(
                "OK: {} blocks, {} events, {} rejections, {} stale blocks skipped",
                replay.auditor.progress().blocks,
                replay.auditor.progress().events,
                replay.auditor.progress().rejections,
                replay.auditor.progress().stale,
            ));
            report.exactly_once = check::exactly_once(&acked, &replay);
            report.store = check::store(&stack.redis_admin, &replay, Duration::from_secs(120)).await;
            let mut codes: Vec<String> = traffic.book().keys().map(|s| traffic.code(s)).collect();
            codes.sort();
            codes.extend((1..=20).map(|i| traffic.code(&traffic.ids.serial('X', i))));
            report.replay = check::verdicts(&scans, &replay, &codes, Duration::from_secs(60)).await;
        }
        Err(e) => report.audit_error = Some(e),
    }
    report.conclude();
    Ok(report)
}

/// Runs a supervisor call on a blocking thread (it waits while the child is being restarted).
async fn blocking<T: Send + 'static>(
    supervisor: &Handle,
    call: impl FnOnce(&Handle) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let handle = supervisor.clone();
    tokio::task::spawn_blocking(move || call(&handle)).await?
}
