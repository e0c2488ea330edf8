//! Serving gRPC the same way everywhere: `grpc.health.v1` and server reflection next to the service's own API,
//! health turned NOT_SERVING as soon as shutdown starts, in-flight calls drained within a grace period.

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic_health::server::HealthReporter;

/// Health reporter plus the routes every server carries (health and reflection).
pub struct Basics {
    pub health: HealthReporter,
    pub routes: Routes,
}

/// Health (overall status "" set to SERVING) and reflection over the pedigree and health descriptors.
pub fn basics() -> anyhow::Result<Basics> {
    let (health, health_service) = tonic_health::server::health_reporter();
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pedigree_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .context("building the reflection service")?;
    let routes = Routes::new(health_service).add_service(reflection);
    Ok(Basics { health, routes })
}

/// Serves `routes` on `listener` until `shutdown` resolves; then reports NOT_SERVING for `services` (and ""),
/// stops accepting, and waits for in-flight calls at most `grace`.
pub async fn serve(
    listener: TcpListener,
    routes: Routes,
    health: HealthReporter,
    services: &[&str],
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> anyhow::Result<()> {
    for name in services.iter().copied().chain([""]) {
        health
            .set_service_status(name, tonic_health::ServingStatus::Serving)
            .await;
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let names: Vec<String> = services.iter().map(|s| s.to_string()).collect();
    tokio::spawn(async move {
        shutdown.await;
        for name in names.iter().map(String::as_str).chain([""]) {
            health
                .set_service_status(name, tonic_health::ServingStatus::NotServing)
                .await;
        }
        let _ = stop_tx.send(true);
    });
    let mut stopped = stop_rx.clone();
    let server = tonic::transport::Server::builder()
        .add_routes(routes)
        // Responses are small and many streams share a connection: without TCP_NODELAY, Nagle's algorithm holds a
        // response back until the previous one is acknowledged (tens of ms at the tail).
        .serve_with_incoming_shutdown(TcpIncoming::from(listener).with_nodelay(Some(true)), async move {
            let _ = stopped.wait_for(|s| *s).await;
        });
    let mut stopped = stop_rx;
    let deadline = async move {
        let _ = stopped.wait_for(|s| *s).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = server => result.context("grpc server failed"),
        () = deadline => {
            tracing::warn!(?grace, "grace period over, abandoning in-flight calls");
            Ok(())
        }
    }
}
