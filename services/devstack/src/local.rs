//! The whole system on this machine as real processes: a tansu broker (durable, SQLite), a redis-server (TLS, one
//! ACL user per service, nothing on disk), and the custody, sequencer and verifier binaries, every one a child of a
//! [`Supervisor`] that restarts what dies. `pedigree up` runs it for a person; the chaos run kills its children.

use std::path::{Path, PathBuf};

use anyhow::Context;
use pedigree_kafka::{ClientSettings, TopicSpec, ensure_topics};
use pedigree_store::RedisUser;

use crate::service::{ServiceProcess, ServiceSpec, binaries_dir, log_path};
use crate::supervisor::{Notice, Supervised, Supervisor};
use crate::{Broker, ClientCerts, Fixture, LocalCa, Redis, Storage, free_port};

/// The events topic the local stack creates (the sequencer creates its blocks topic itself).
pub const EVENTS_TOPIC: &str = "pedigree.events";
/// The blocks topic (the services' default).
pub const BLOCKS_TOPIC: &str = "pedigree.blocks";

/// Names of the supervised children.
pub mod names {
    pub const BROKER: &str = "broker";
    pub const REDIS: &str = "redis";
    pub const SEQUENCER: &str = "pedigree-sequencer";
    pub const CUSTODY: &str = "pedigree-custody";
    pub const VERIFIER: &str = "pedigree-verifier";
}

/// Where the services listen; a port of 0 takes a free one.
#[derive(Clone, Debug)]
pub struct Ports {
    pub custody: u16,
    pub verifier_grpc: u16,
    pub verifier_http: u16,
    pub sequencer_health: u16,
    /// Prometheus metrics (`PEDIGREE_METRICS_ADDR`) of custody, the sequencer and the verifier.
    pub custody_metrics: u16,
    pub sequencer_metrics: u16,
    pub verifier_metrics: u16,
}

impl Ports {
    /// Free ports for everything (tests, chaos runs).
    pub fn free() -> Self {
        Self {
            custody: free_port(),
            verifier_grpc: free_port(),
            verifier_http: free_port(),
            sequencer_health: free_port(),
            custody_metrics: free_port(),
            sequencer_metrics: free_port(),
            verifier_metrics: free_port(),
        }
    }
}

/// How to start the local stack.
pub struct LocalStackConfig {
    /// Keys, genesis, broker data, certificates and logs (cleared first).
    pub dir: PathBuf,
    pub ports: Ports,
    /// Extra environment for every service (`PEDIGREE_BATCH_MAX_EVENTS`, ...).
    pub extra_env: Vec<(String, String)>,
    /// Where the service binaries are (default: next to the running executable).
    pub bin_dir: Option<PathBuf>,
}

/// The running stack.
pub struct LocalStack {
    pub fixture: Fixture,
    /// The CA every server's certificate chains to (clients trust it).
    pub ca: LocalCa,
    pub dir: PathBuf,
    pub ports: Ports,
    /// The broker's bootstrap address.
    pub brokers: String,
    /// Redis' URL and CA (for display; the services have their own users).
    pub redis_url: String,
    pub redis_ca: PathBuf,
    /// The Redis admin's connection settings (for checks that read the store).
    pub redis_admin: pedigree_store::RedisConfig,
    supervisor: Supervisor,
}

impl LocalStack {
    /// Starts everything, the services last, each once the one before listens; `notify` hears of exits and restarts.
    pub async fn start(
        config: LocalStackConfig,
        notify: impl Fn(Notice) + Send + Sync + 'static,
    ) -> anyhow::Result<Self> {
        let LocalStackConfig {
            dir,
            ports,
            extra_env,
            bin_dir,
        } = config;
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
        }
        let fixture = Fixture::create(&dir)?;
        let dir = std::fs::canonicalize(&dir)?;
        let ca = LocalCa::create(&dir.join("tls")).context("creating the local CA")?;
        let server = ca.issue_loopback("server").context("issuing the server certificate")?;
        let broker = Broker::start(Storage::Sqlite(dir.join("broker.db"))).context("starting the tansu broker")?;
        let redis_dir = dir.join("redis");
        std::fs::create_dir_all(&redis_dir)?;
        let redis = Redis::start_in(&redis_dir, ClientCerts::NotRequired).context("starting redis-server")?;
        let brokers = broker.brokers();
        let spec = TopicSpec::events(EVENTS_TOPIC, 1, &Default::default());
        ensure_topics(&ClientSettings::new(&brokers), &[spec])
            .await
            .context("creating the events topic")?;
        let bin_dir = match bin_dir {
            Some(d) => d,
            None => binaries_dir()?,
        };
        let path = |p: &Path| p.display().to_string();
        let mut common: Vec<(String, String)> = [
            ("PEDIGREE_TLS_CERT", path(&server.cert_path)),
            ("PEDIGREE_TLS_KEY", path(&server.key_path)),
            ("PEDIGREE_KAFKA_BROKERS", brokers.clone()),
            ("PEDIGREE_GENESIS", path(&fixture.genesis_path)),
            ("PEDIGREE_SEQUENCER_KEY", path(&fixture.sequencer_key_path)),
            ("PEDIGREE_CUSTODY_GRPC_ADDR", format!("127.0.0.1:{}", ports.custody)),
            (
                "PEDIGREE_VERIFIER_GRPC_ADDR",
                format!("127.0.0.1:{}", ports.verifier_grpc),
            ),
            (
                "PEDIGREE_VERIFIER_HTTP_ADDR",
                format!("127.0.0.1:{}", ports.verifier_http),
            ),
            (
                "PEDIGREE_SEQUENCER_HEALTH_ADDR",
                format!("127.0.0.1:{}", ports.sequencer_health),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        common.extend(extra_env);
        let redis_url = redis.url();
        let redis_ca = redis.ca().ca_path().to_path_buf();
        let redis_admin = redis.admin_config();
        let mut services: Vec<(String, Box<dyn Supervised>)> = Vec::new();
        for (name, port, user, metrics) in [
            (
                names::SEQUENCER,
                ports.sequencer_health,
                RedisUser::Sequencer,
                ports.sequencer_metrics,
            ),
            (names::CUSTODY, ports.custody, RedisUser::Custody, ports.custody_metrics),
            (
                names::VERIFIER,
                ports.verifier_grpc,
                RedisUser::Verifier,
                ports.verifier_metrics,
            ),
        ] {
            // Each service logs in to Redis as its own ACL user, and serves its metrics on its own port.
            let mut env = common.clone();
            env.push(("PEDIGREE_METRICS_ADDR".to_string(), format!("127.0.0.1:{metrics}")));
            env.extend(
                redis
                    .config_for(user)
                    .to_env()
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v)),
            );
            let service = ServiceProcess::start(ServiceSpec {
                binary: name.to_string(),
                bin_dir: bin_dir.clone(),
                env,
                log: log_path(&dir, name),
                port,
            })?;
            services.push((name.to_string(), Box::new(service)));
        }
        let mut children: Vec<(String, Box<dyn Supervised>)> = vec![
            (names::BROKER.to_string(), Box::new(broker)),
            (names::REDIS.to_string(), Box::new(redis)),
        ];
        children.extend(services);
        Ok(Self {
            fixture,
            ca,
            dir,
            ports,
            brokers,
            redis_url,
            redis_ca,
            redis_admin,
            supervisor: Supervisor::new(children, notify),
        })
    }

    /// The supervisor of the stack's children (to signal one by name).
    pub fn supervisor(&self) -> &Supervisor {
        &self.supervisor
    }

    /// Stops every child: the services first (SIGTERM, then SIGKILL after a grace period), then Redis and the broker.
    pub fn stop(self) {
        self.supervisor.stop();
    }
}
