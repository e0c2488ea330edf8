//! `pedigree up`: the whole system on this machine — tansu broker, redis-server, custody, sequencer and verifier
//! as separate processes on 127.0.0.1, supervised (one that dies is restarted) — then the demo scenario, then wait
//! for Ctrl-C, SIGTERM or SIGHUP and stop everything.

use std::path::PathBuf;

use anyhow::Context;
use pedigree_devstack::{LocalStack, LocalStackConfig, Ports};

#[derive(clap::Args)]
pub struct UpArgs {
    /// Folder for keys, genesis, broker data and logs (recreated on each run).
    #[arg(long, env = "PEDIGREE_DIR", default_value = ".pedigree")]
    pub dir: PathBuf,
    #[arg(long, default_value_t = 50051)]
    pub custody_port: u16,
    #[arg(long, default_value_t = 50052)]
    pub verifier_grpc_port: u16,
    #[arg(long, default_value_t = 8080)]
    pub verifier_http_port: u16,
    #[arg(long, default_value_t = 50053)]
    pub sequencer_health_port: u16,
    /// Prometheus metrics (GET /metrics, TLS): custody on this port, the sequencer on the next, the verifier on the
    /// one after.
    #[arg(long, default_value_t = 9464)]
    pub metrics_port: u16,
    /// Exit after the demo instead of waiting for Ctrl-C (smoke tests).
    #[arg(long)]
    pub exit_after_demo: bool,
}

pub async fn run(a: UpArgs) -> anyhow::Result<()> {
    let config = LocalStackConfig {
        dir: a.dir.clone(),
        ports: Ports {
            custody: a.custody_port,
            verifier_grpc: a.verifier_grpc_port,
            verifier_http: a.verifier_http_port,
            sequencer_health: a.sequencer_health_port,
            custody_metrics: a.metrics_port,
            sequencer_metrics: a.metrics_port.saturating_add(1),
            verifier_metrics: a.metrics_port.saturating_add(2),
        },
        extra_env: Vec::new(),
        bin_dir: None,
    };
    // Like an init: a child that dies is restarted, and said so on the console.
    let stack = LocalStack::start(config, |notice| eprintln!("pedigree up: {notice}")).await?;
    let (fixture, ca, dir) = (&stack.fixture, &stack.ca, stack.dir.clone());
    // The demo's clients trust the CA just made (unless --ca named another).
    crate::connect::default_ca(ca.ca_path().to_path_buf());
    let custody = format!("https://127.0.0.1:{}", a.custody_port);
    let verifier = format!("https://127.0.0.1:{}", a.verifier_grpc_port);
    crate::demo::run(fixture, &custody, &verifier)
        .await
        .context("the demo scenario failed")?;
    println!("demo: audit of the chain from genesis");
    let audit = crate::audit::AuditArgs {
        brokers: stack.brokers.clone(),
        kafka_security: Default::default(),
        blocks_topic: "pedigree.blocks".into(),
        genesis: fixture.genesis_path.clone(),
        api: None,
        as_id: "ledger-auditor".into(),
        key: None,
        sequencer_keys_out: None,
    };
    crate::audit::run(audit).await.context("the audit failed")?;
    println!("demo: the same audit through the verifier's API, signed in as ledger-auditor");
    let audit = crate::audit::AuditArgs {
        brokers: stack.brokers.clone(),
        kafka_security: Default::default(),
        blocks_topic: "pedigree.blocks".into(),
        genesis: fixture.genesis_path.clone(),
        api: Some(verifier.clone()),
        as_id: "ledger-auditor".into(),
        key: None,
        sequencer_keys_out: None,
    };
    crate::audit::run(audit)
        .await
        .context("the audit through the API failed")?;
    println!();
    println!("pedigree is running:");
    println!("  kafka (tansu)     {}", stack.brokers.clone());
    println!(
        "  redis (TLS)       {} (CA {})",
        stack.redis_url,
        stack.redis_ca.display()
    );
    println!("  custody gRPC      127.0.0.1:{}", a.custody_port);
    println!("  verifier gRPC     127.0.0.1:{}", a.verifier_grpc_port);
    println!(
        "  verifier HTTP     https://127.0.0.1:{}/v1/verify?code=...",
        a.verifier_http_port
    );
    println!("  sequencer health  127.0.0.1:{}", a.sequencer_health_port);
    println!(
        "  scan page         https://127.0.0.1:{}/  (a pharmacy's console: pedigree console --as city-pharmacy)",
        a.verifier_http_port
    );
    let ports = &stack.ports;
    println!(
        "  metrics           https://127.0.0.1:{}/metrics (custody), :{} (sequencer), :{} (verifier)",
        ports.custody_metrics, ports.sequencer_metrics, ports.verifier_metrics
    );
    println!("  keys and logs     {}", dir.display());
    println!();
    println!(
        "every server speaks TLS with a certificate from the local CA {}; trust it with:",
        ca.ca_path().display()
    );
    println!(
        "  curl --cacert {} 'https://127.0.0.1:{}/v1/verify?code=...'",
        ca.ca_path().display(),
        a.verifier_http_port
    );
    println!(
        "  grpcurl -cacert {} 127.0.0.1:{} list",
        ca.ca_path().display(),
        a.verifier_grpc_port
    );
    println!(
        "  pedigree --ca {} ... (the default when run from this folder)",
        ca.ca_path().display()
    );
    println!(
        "  a browser: import {} as a trusted authority (Chromium: Settings > Privacy and security > Security > \
         Manage certificates > Authorities), then open https://127.0.0.1:{}/",
        ca.ca_path().display(),
        a.verifier_http_port
    );
    if a.exit_after_demo {
        stack.stop();
        return Ok(());
    }
    println!("Ctrl-C (or SIGTERM, SIGHUP) stops everything.");
    let signal = stop_signal().await;
    println!("{signal}: stopping the services, Redis and the broker...");
    tokio::task::spawn_blocking(move || stack.stop()).await?;
    println!("stopped");
    Ok(())
}

/// Waits for Ctrl-C, SIGTERM or SIGHUP (a closed terminal), and names the one that came.
async fn stop_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).ok();
    let mut hup = signal(SignalKind::hangup()).ok();
    let recv = |s: &mut Option<tokio::signal::unix::Signal>| {
        let s = s.take();
        async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "interrupt",
        _ = recv(&mut term) => "SIGTERM",
        _ = recv(&mut hup) => "SIGHUP",
    }
}
