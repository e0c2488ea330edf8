//! Building the custody service (so tests can start it on port 0) and running it until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use pedigree_core::custody_rpc::Serve;
use pedigree_core::envelope::MAX_PAYLOAD_BYTES;
use pedigree_core::pb::authority_service_server::AuthorityServiceServer;
use pedigree_core::pb::distributor_service_server::DistributorServiceServer;
use pedigree_core::pb::governance_service_server::GovernanceServiceServer;
use pedigree_core::pb::hospital_service_server::HospitalServiceServer;
use pedigree_core::pb::manufacturer_service_server::ManufacturerServiceServer;
use pedigree_core::pb::pharmacy_service_server::PharmacyServiceServer;
use pedigree_core::pb::repackager_service_server::RepackagerServiceServer;
use pedigree_core::pb::third_party_logistics_service_server::ThirdPartyLogisticsServiceServer;
use pedigree_kafka::{Producer, ProducerSettings};
use pedigree_runtime::Shutdown;
use pedigree_runtime::grpc::Services;
use pedigree_runtime::limits::Limits;
use pedigree_runtime::metrics::MetricsServer;
use pedigree_runtime::rate::RateLimit;
use pedigree_runtime::tls::ServerTls;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::submit::Submitter;

/// Decoded request limit: the largest payload plus room for signature, signer and framing.
const MAX_MESSAGE_BYTES: usize = MAX_PAYLOAD_BYTES + 4096;

/// A bound, ready-to-run custody service.
pub struct App {
    listener: TcpListener,
    addr: SocketAddr,
    submitter: Arc<Submitter>,
    tls: ServerTls,
    grace: Duration,
    metrics_server: MetricsServer,
    registry: Arc<Registry>,
    limits: Limits,
}

impl App {
    /// Loads the genesis, creates the producer and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let tls = ServerTls::load(&config.tls)?;
        let limits = Limits::new(config.limits.clone())?;
        let genesis = pedigree_runtime::load_registry(&config.genesis)?;
        let store = pedigree_store::Store::connect(&config.redis)
            .await
            .context("connecting to redis")?;
        let registry = pedigree_store::follow_registry(
            genesis,
            store.clone(),
            Duration::from_millis(config.registry_refresh_ms),
        )
        .await;
        let settings = ProducerSettings {
            delivery_timeout: Duration::from_millis(config.delivery_timeout_ms),
            ..ProducerSettings::default()
        };
        let producer = Producer::new(&config.kafka()?, &settings).context("creating the kafka producer")?;
        let listener = TcpListener::bind(config.grpc_addr)
            .await
            .with_context(|| format!("binding {}", config.grpc_addr))?;
        let addr = listener.local_addr()?;
        let metrics_server = MetricsServer::bind(&config.metrics).await?;
        let mut metrics_registry = pedigree_runtime::metrics::registry("custody");
        let metrics = Metrics::register(&mut metrics_registry, limits.in_flight().shed_counter());
        let submitter = Arc::new(Submitter {
            registry,
            producer,
            store,
            topic: config.events_topic,
            max_envelope_bytes: pedigree_core::block_size::max_envelope_bytes(config.block_max_bytes as usize),
            draining: AtomicBool::new(false),
            metrics,
            rate: RateLimit::new(
                config.submissions_per_sec,
                config.submissions_per_sec.saturating_mul(2),
                "this participant",
            ),
            // A tenth of the request timeout is left for checking the envelope and answering.
            broker_wait: limits.config().request_timeout().mul_f64(0.9),
        });
        Ok(Self {
            listener,
            addr,
            submitter,
            tls,
            grace: Duration::from_secs(config.shutdown_grace_secs),
            metrics_server,
            registry: Arc::new(metrics_registry),
            limits,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where metrics are served, if `PEDIGREE_METRICS_ADDR` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_server.addr()
    }

    /// Serves until `shutdown` resolves, then drains.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let submitter = self.submitter.clone();
        let shutdown = Shutdown::on(async move {
            shutdown.await;
            submitter.draining.store(true, Ordering::Relaxed);
        });
        let serve = Serve(self.submitter.clone());
        let services = Services::new()
            .probe_on(self.tls.bind_probe().await?)
            .add_service(ManufacturerServiceServer::new(serve.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES))
            .add_service(DistributorServiceServer::new(serve.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES))
            .add_service(PharmacyServiceServer::new(serve.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES))
            .add_service(HospitalServiceServer::new(serve.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES))
            .add_service(
                ThirdPartyLogisticsServiceServer::new(serve.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES),
            )
            .add_service(RepackagerServiceServer::new(serve.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES))
            .add_service(AuthorityServiceServer::new(serve.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES))
            .add_service(GovernanceServiceServer::new(serve).max_decoding_message_size(MAX_MESSAGE_BYTES));
        let grpc = pedigree_runtime::grpc::serve(
            self.listener,
            services,
            &self.tls,
            shutdown.clone(),
            self.grace,
            &self.limits,
        );
        let metrics = self.metrics_server.serve(self.registry, &self.tls, shutdown);
        let (grpc, metrics) = tokio::join!(grpc, metrics);
        grpc?;
        metrics?;
        // Flush anything the producer still holds; every acknowledged event was already flushed.
        let _ = self.submitter.producer.flush(Duration::from_secs(5));
        Ok(())
    }
}
