//! Building the verifier (tests start it on port 0) and running both servers until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use pedigree_core::pb::alert_service_server::AlertServiceServer;
use pedigree_core::pb::ledger_service_server::LedgerServiceServer;
use pedigree_core::pb::notification_service_server::NotificationServiceServer;
use pedigree_core::pb::trace_service_server::TraceServiceServer;
use pedigree_core::pb::verifier_service_server::VerifierServiceServer;
use pedigree_runtime::Shutdown;
use pedigree_runtime::grpc::Services;
use pedigree_runtime::limits::Limits;
use pedigree_runtime::metrics::MetricsServer;
use pedigree_runtime::tls::ServerTls;
use pedigree_store::Store;
use tokio::net::TcpListener;

use crate::alert_log::AlertLog;
use crate::auth::Auth;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::rates::Rates;
use crate::session::SessionKey;
use crate::verify::Verifier;
use pedigree_core::pb::auth_service_server::AuthServiceServer;

/// The largest request any verifier RPC accepts: a verify request is a code of at most
/// [`pedigree_core::gs1::MAX_CODE_BYTES`] and a flag; sign-in, ledger and status requests are an id, a nonce, a
/// signature or two numbers. 4 KiB fits all of them with room; tonic refuses a larger one (OUT_OF_RANGE) from its length
/// prefix, before reading it.
pub const MAX_REQUEST_BYTES: usize = 4096;

pub struct App {
    grpc: TcpListener,
    http: TcpListener,
    verifier: Verifier,
    tls: ServerTls,
    grace: Duration,
    metrics_server: MetricsServer,
    limits: Limits,
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let tls = ServerTls::load(&config.tls)?;
        let limits = Limits::new(config.limits.clone())?;
        let store = Store::connect(&config.redis).await.context("connecting to redis")?;
        let grpc = TcpListener::bind(config.grpc_addr)
            .await
            .with_context(|| format!("binding {}", config.grpc_addr))?;
        let http = TcpListener::bind(config.http_addr)
            .await
            .with_context(|| format!("binding {}", config.http_addr))?;
        let metrics_server = MetricsServer::bind(&config.metrics).await?;
        let genesis = pedigree_runtime::load_registry(&config.genesis)?;
        let chain_id = genesis.chain_id;
        let registry = pedigree_store::follow_registry(
            genesis,
            store.clone(),
            Duration::from_millis(config.registry_refresh_ms),
        )
        .await;
        let key = match &config.session_key_file {
            Some(path) => {
                let secret = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
                if secret.len() < 32 {
                    anyhow::bail!("{}: a session key needs at least 32 bytes", path.display());
                }
                SessionKey::from_secret(&secret)
            }
            None => {
                tracing::warn!(
                    "no session key file: using a random key (sessions end with this process, other replicas refuse \
                     them); set PEDIGREE_SESSION_KEY_FILE"
                );
                SessionKey::random()
            }
        };
        let auth = Auth {
            key,
            ttl: Duration::from_secs(config.session_ttl_secs),
            chain_id,
            registry,
            store: store.clone(),
        };
        let rates = Rates::new(
            config.anonymous_per_sec,
            config.participant_per_sec,
            config.trusted_proxies.clone(),
        );
        let refusals = crate::metrics::Refusals {
            shed: limits.in_flight().shed_counter(),
            rate_limited: rates.refused_counter(),
        };
        let kafka = config.kafka().context("kafka settings")?;
        let alert_log = AlertLog::start(&kafka, &config.alerts_topic, &config.durability, store.clone())
            .context("the alerts log's kafka clients")?;
        if !config.vrs_responder_gln.is_empty() && !crate::vrs::is_gln(&config.vrs_responder_gln) {
            anyhow::bail!("PEDIGREE_VRS_RESPONDER_GLN: must be a GLN (13 digits with a valid check digit)");
        }
        let verifier = Verifier {
            responder_gln: config.vrs_responder_gln.clone(),
            alert_log,
            store,
            metrics: Arc::new(Metrics::with(refusals)),
            directory: Arc::default(),
            auth: Arc::new(auth),
            max_lag: config.max_redis_lag_blocks,
            rates: Arc::new(rates),
        };
        if let Err(e) = verifier.refresh_directory().await {
            tracing::warn!(error = %e, "cannot read the participants from redis yet");
        }
        Ok(Self {
            grpc,
            http,
            verifier,
            tls,
            grace: Duration::from_secs(config.shutdown_grace_secs),
            metrics_server,
            limits,
        })
    }

    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc.local_addr().expect("a bound listener has an address")
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http.local_addr().expect("a bound listener has an address")
    }

    /// Where metrics are also served, if `PEDIGREE_METRICS_ADDR` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_server.addr()
    }

    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let shutdown = Shutdown::on(shutdown);
        let services = Services::new()
            .probe_on(self.tls.bind_probe().await?)
            .ready_while(crate::readiness::watch_readiness(self.verifier.clone()))
            .add_service(VerifierServiceServer::new(self.verifier.clone()).max_decoding_message_size(MAX_REQUEST_BYTES))
            .add_service(LedgerServiceServer::new(self.verifier.clone()).max_decoding_message_size(MAX_REQUEST_BYTES))
            .add_service(
                NotificationServiceServer::new(self.verifier.clone()).max_decoding_message_size(MAX_REQUEST_BYTES),
            )
            .add_service(AuthServiceServer::new(self.verifier.clone()).max_decoding_message_size(MAX_REQUEST_BYTES))
            .add_service(AlertServiceServer::new(self.verifier.clone()).max_decoding_message_size(MAX_REQUEST_BYTES))
            .add_service(TraceServiceServer::new(self.verifier.clone()).max_decoding_message_size(MAX_REQUEST_BYTES));
        let grpc = pedigree_runtime::grpc::serve(
            self.grpc,
            services,
            &self.tls,
            shutdown.clone(),
            self.grace,
            &self.limits,
        );
        let registry = self.verifier.metrics.registry();
        let router = crate::http::router(self.verifier, !self.tls.is_plaintext());
        let http = pedigree_runtime::http::serve(self.http, router, &self.tls, shutdown.clone(), &self.limits);
        let metrics = self.metrics_server.serve(registry, &self.tls, shutdown);
        let (grpc, http, metrics) = tokio::join!(grpc, http, metrics);
        grpc?;
        http?;
        metrics
    }
}
