//! Building the verifier (tests start it on port 0) and running both servers until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt;
use pedigree_core::pb::ledger_service_server::LedgerServiceServer;
use pedigree_core::pb::verifier_service_server::VerifierServiceServer;
use pedigree_runtime::Shutdown;
use pedigree_runtime::grpc::Services;
use pedigree_store::Store;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::verify::Verifier;

pub struct App {
    grpc: TcpListener,
    http: TcpListener,
    verifier: Verifier,
    grace: Duration,
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store = Store::connect(&config.redis).await.context("connecting to redis")?;
        let grpc = TcpListener::bind(config.grpc_addr)
            .await
            .with_context(|| format!("binding {}", config.grpc_addr))?;
        let http = TcpListener::bind(config.http_addr)
            .await
            .with_context(|| format!("binding {}", config.http_addr))?;
        let verifier = Verifier {
            store,
            metrics: Arc::new(Metrics::default()),
            directory: Arc::default(),
        };
        if let Err(e) = verifier.refresh_directory().await {
            tracing::warn!(error = %e, "cannot read the participants from redis yet");
        }
        Ok(Self {
            grpc,
            http,
            verifier,
            grace: Duration::from_secs(config.shutdown_grace_secs),
        })
    }

    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc.local_addr().expect("a bound listener has an address")
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http.local_addr().expect("a bound listener has an address")
    }

    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let shutdown = Shutdown::on(shutdown);
        let services = Services::new()
            .add_service(VerifierServiceServer::new(self.verifier.clone()))
            .add_service(LedgerServiceServer::new(self.verifier.clone()));
        let grpc = pedigree_runtime::grpc::serve(self.grpc, services, shutdown.clone(), self.grace);
        // TCP_NODELAY for the same reason as the gRPC server's (see pedigree_runtime::grpc::serve).
        let listener = self.http.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let http = axum::serve(listener, crate::http::router(self.verifier)).with_graceful_shutdown(shutdown.started());
        let (grpc, http) = tokio::join!(grpc, http);
        grpc?;
        http.context("http server failed")
    }
}
