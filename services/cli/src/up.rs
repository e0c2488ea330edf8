//! `pedigree up`: the whole system on this machine — tansu broker, redis-server, custody, sequencer and verifier
//! as separate processes on 127.0.0.1 — then the demo scenario, then wait for Ctrl-C and stop everything.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use pedigree_devstack::{Broker, ClientCerts, Fixture, LocalCa, Redis, Storage};
use pedigree_kafka::{ClientSettings, TopicSpec, ensure_topics};
use pedigree_store::RedisUser;

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
    /// Exit after the demo instead of waiting for Ctrl-C (smoke tests).
    #[arg(long)]
    pub exit_after_demo: bool,
}

/// A service child process, stopped with SIGTERM (then killed) when dropped.
struct Service {
    name: &'static str,
    child: Child,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("{} did not stop in 10 s, killing it", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sibling_binary(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let path = exe.parent().context("the executable has no folder")?.join(name);
    if !path.is_file() {
        bail!("{} not found next to {} (cargo build --bins)", name, exe.display());
    }
    Ok(path)
}

fn spawn(name: &'static str, env: &[(&str, String)], log_dir: &Path) -> anyhow::Result<Service> {
    let log = std::fs::File::create(log_dir.join(format!("{name}.log")))?;
    let child = Command::new(sibling_binary(name)?)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {name}"))?;
    Ok(Service { name, child })
}

fn wait_listening(service: &mut Service, port: u16) -> anyhow::Result<()> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if let Some(status) = service.child.try_wait()? {
            bail!("{} exited with {status}; see its log", service.name);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("{} does not listen on {addr} after 30 s", service.name)
}

pub async fn run(a: UpArgs) -> anyhow::Result<()> {
    if a.dir.exists() {
        std::fs::remove_dir_all(&a.dir).with_context(|| format!("clearing {}", a.dir.display()))?;
    }
    let fixture = Fixture::create(&a.dir)?;
    let dir = std::fs::canonicalize(&a.dir)?;
    // A local CA and one certificate for every server on 127.0.0.1 (the CLI trusts {dir}/tls/ca.pem by default).
    let ca = LocalCa::create(&dir.join("tls")).context("creating the local CA")?;
    let server = ca.issue_loopback("server").context("issuing the server certificate")?;
    let broker = Broker::start(Storage::Sqlite(dir.join("broker.db"))).context("starting the tansu broker")?;
    let redis = Redis::start_in(&dir.join("redis"), ClientCerts::NotRequired).context("starting redis-server")?;
    let spec = TopicSpec::events("pedigree.events", 1, &Default::default());
    ensure_topics(&ClientSettings::new(broker.brokers()), &[spec])
        .await
        .context("creating the events topic")?;
    let common = [
        ("PEDIGREE_TLS_CERT", server.cert_path.display().to_string()),
        ("PEDIGREE_TLS_KEY", server.key_path.display().to_string()),
        ("PEDIGREE_KAFKA_BROKERS", broker.brokers()),
        ("PEDIGREE_GENESIS", fixture.genesis_path.display().to_string()),
        (
            "PEDIGREE_SEQUENCER_KEY",
            fixture.sequencer_key_path.display().to_string(),
        ),
        ("PEDIGREE_CUSTODY_GRPC_ADDR", format!("127.0.0.1:{}", a.custody_port)),
        (
            "PEDIGREE_VERIFIER_GRPC_ADDR",
            format!("127.0.0.1:{}", a.verifier_grpc_port),
        ),
        (
            "PEDIGREE_VERIFIER_HTTP_ADDR",
            format!("127.0.0.1:{}", a.verifier_http_port),
        ),
        (
            "PEDIGREE_SEQUENCER_HEALTH_ADDR",
            format!("127.0.0.1:{}", a.sequencer_health_port),
        ),
    ];
    let mut services = Vec::new();
    for (name, port, user) in [
        ("pedigree-sequencer", a.sequencer_health_port, RedisUser::Sequencer),
        ("pedigree-custody", a.custody_port, RedisUser::Custody),
        ("pedigree-verifier", a.verifier_grpc_port, RedisUser::Verifier),
    ] {
        // Each service logs in to Redis as its own ACL user.
        let mut env = common.to_vec();
        env.extend(redis.config_for(user).to_env());
        let mut service = spawn(name, &env, &dir)?;
        wait_listening(&mut service, port)?;
        services.push(service);
    }
    // The demo's clients trust the CA just made (unless --ca named another).
    crate::connect::default_ca(ca.ca_path().to_path_buf());
    let custody = format!("https://127.0.0.1:{}", a.custody_port);
    let verifier = format!("https://127.0.0.1:{}", a.verifier_grpc_port);
    crate::demo::run(&fixture, &custody, &verifier)
        .await
        .context("the demo scenario failed")?;
    println!("demo: audit of the chain from genesis");
    let audit = crate::audit::AuditArgs {
        brokers: broker.brokers(),
        kafka_security: Default::default(),
        blocks_topic: "pedigree.blocks".into(),
        genesis: fixture.genesis_path.clone(),
        api: None,
        as_id: "ledger-auditor".into(),
        key: None,
    };
    crate::audit::run(audit).await.context("the audit failed")?;
    println!("demo: the same audit through the verifier's API, signed in as ledger-auditor");
    let audit = crate::audit::AuditArgs {
        brokers: broker.brokers(),
        kafka_security: Default::default(),
        blocks_topic: "pedigree.blocks".into(),
        genesis: fixture.genesis_path.clone(),
        api: Some(verifier.clone()),
        as_id: "ledger-auditor".into(),
        key: None,
    };
    crate::audit::run(audit)
        .await
        .context("the audit through the API failed")?;
    println!();
    println!("pedigree is running:");
    println!("  kafka (tansu)     {}", broker.brokers());
    println!(
        "  redis (TLS)       {} (CA {})",
        redis.url(),
        redis.ca().ca_path().display()
    );
    println!("  custody gRPC      127.0.0.1:{}", a.custody_port);
    println!("  verifier gRPC     127.0.0.1:{}", a.verifier_grpc_port);
    println!(
        "  verifier HTTP     https://127.0.0.1:{}/v1/verify?code=...",
        a.verifier_http_port
    );
    println!("  sequencer health  127.0.0.1:{}", a.sequencer_health_port);
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
    if a.exit_after_demo {
        return Ok(());
    }
    println!("Ctrl-C stops everything.");
    pedigree_runtime_signal().await;
    drop(services);
    Ok(())
}

async fn pedigree_runtime_signal() {
    let _ = tokio::signal::ctrl_c().await;
    println!("stopping...");
}
