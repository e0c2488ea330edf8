//! Serving gRPC the same way everywhere: `grpc.health.v1` and server reflection (`v1`, and `v1alpha` for clients
//! that only ask that one, such as Python's grpcio-reflection) next to the service's own API; reflection lists
//! exactly the services the server answers; health turns NOT_SERVING as soon as shutdown starts, and in-flight
//! calls are drained within a grace period.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures::{Stream, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tonic::body::Body;
use tonic::codegen::{Service, http};
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic_health::server::HealthReporter;
use tonic_reflection::pb::{v1, v1alpha};

use crate::conn::Conn;
use crate::limits::{KEEPALIVE_TIMEOUT, Limits, MAX_HEADER_BYTES};
use crate::shutdown::Shutdown;
use crate::tls::ServerTls;

/// The services one gRPC server answers, added by their generated `*Server` types so that their names (for health
/// and reflection) come from the same place as their routes.
pub struct Services {
    routes: Routes,
    names: Vec<&'static str>,
    health_only: Vec<&'static str>,
    probe: Option<TcpListener>,
    ready: Option<watch::Receiver<bool>>,
}

impl Default for Services {
    fn default() -> Self {
        Self::new()
    }
}

impl Services {
    /// No service yet: served as is, only health and reflection answer.
    pub fn new() -> Self {
        Self {
            routes: Routes::default(),
            names: Vec::new(),
            health_only: Vec::new(),
            probe: None,
            ready: None,
        }
    }

    /// Also answers `grpc.health.v1` (and nothing else) in plaintext on `listener`: for Kubernetes' native gRPC
    /// probes, which cannot speak TLS. The health status is the only thing served there.
    pub fn probe_on(mut self, listener: Option<TcpListener>) -> Self {
        self.probe = listener;
        self
    }

    /// Serves `service`, reports its health and lists it in reflection.
    pub fn add_service<S>(mut self, service: S) -> Self
    where
        S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.names.push(S::NAME);
        self.routes = self.routes.add_service(service);
        self
    }

    /// Reports the named services SERVING only while `ready` holds true (a verifier whose Redis lost its state, a
    /// sequencer whose sealing loop is stuck), NOT_SERVING otherwise; without it, SERVING from start until shutdown.
    /// The server's overall status ("") is not affected.
    pub fn ready_while(mut self, ready: watch::Receiver<bool>) -> Self {
        self.ready = Some(ready);
        self
    }

    /// Also reports health under `name`, which names a component rather than a gRPC service (reflection does not
    /// list it): the sequencer, whose port answers only health and reflection.
    pub fn report_health_as(mut self, name: &'static str) -> Self {
        self.health_only.push(name);
        self
    }
}

/// What [`with_basics`] makes of [`Services`].
struct Basics {
    routes: Routes,
    ready: Option<watch::Receiver<bool>>,
    health: HealthReporter,
    reported: Vec<&'static str>,
    /// The plaintext probe listener and its routes (health only).
    probe: Option<(TcpListener, Routes)>,
}

/// The health service, with every name reported, and the routes with health and both reflection versions added.
fn with_basics(services: Services) -> anyhow::Result<Basics> {
    let (health, health_service) = tonic_health::server::health_reporter();
    let listed: Vec<&'static str> = services
        .names
        .iter()
        .copied()
        .chain([
            tonic_health::pb::health_server::SERVICE_NAME,
            v1::server_reflection_server::SERVICE_NAME,
            v1alpha::server_reflection_server::SERVICE_NAME,
        ])
        .collect();
    // Both versions describe the same files and list the same services, both reflection versions included.
    let builder = || {
        listed.iter().fold(
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(pedigree_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(v1::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(v1alpha::FILE_DESCRIPTOR_SET)
                .include_reflection_service(false),
            |builder, name| builder.with_service_name(*name),
        )
    };
    let reflection_v1 = builder().build_v1().context("building the reflection service (v1)")?;
    let reflection_v1alpha = builder()
        .build_v1alpha()
        .context("building the reflection service (v1alpha)")?;
    let probe = services
        .probe
        .map(|listener| (listener, Routes::default().add_service(health_service.clone())));
    let routes = services
        .routes
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha);
    let reported = services.names.into_iter().chain(services.health_only).collect();
    Ok(Basics {
        routes,
        ready: services.ready,
        health,
        reported,
        probe,
    })
}

/// How much later than the shedding layer's DEADLINE_EXCEEDED tonic's own server timeout fires: it then only ends
/// calls whose client asked for a shorter deadline (`grpc-timeout`).
const TONIC_TIMEOUT_MARGIN: Duration = Duration::from_millis(500);

/// Serves `services` (with health and reflection) on `listener`, over TLS unless `tls` is plaintext, within
/// `limits` (connections, streams per connection, keepalive, connection age, request timeout, in-flight calls shed
/// with RESOURCE_EXHAUSTED), until `shutdown` starts; then reports NOT_SERVING for each of them (and ""), stops
/// accepting, and waits for in-flight calls at most `grace`.
pub async fn serve(
    listener: TcpListener,
    services: Services,
    tls: &ServerTls,
    shutdown: Shutdown,
    grace: Duration,
    limits: &Limits,
) -> anyhow::Result<()> {
    let Basics {
        routes,
        ready,
        health,
        reported,
        probe,
    } = with_basics(services)?;
    let names: Vec<&'static str> = reported.iter().copied().chain([""]).collect();
    report(&health, &names, true).await;
    // Readiness moves the named services only: "" (the server as a whole) stays SERVING while the process serves,
    // so a liveness probe on "" does not restart a verifier that waits for Redis to be rebuilt. A liveness probe
    // that should follow readiness (the sequencer's stall check) names the service.
    let mirror = ready.map(|mut ready| {
        let (health, names) = (health.clone(), reported.clone());
        tokio::spawn(async move {
            loop {
                let now = *ready.borrow_and_update();
                report(&health, &names, now).await;
                if ready.changed().await.is_err() {
                    return;
                }
            }
        })
    });
    // The server stops only once health says NOT_SERVING, so a probe never sees a closed port reported healthy.
    let stopping = Shutdown::on(async move {
        shutdown.started().await;
        if let Some(mirror) = mirror {
            mirror.abort();
            let _ = mirror.await;
        }
        report(&health, &names, false).await;
    });
    let config = limits.config();
    let mut builder = tonic::transport::Server::builder()
        .timeout(config.request_timeout() + TONIC_TIMEOUT_MARGIN)
        .max_concurrent_streams(config.max_streams_per_connection)
        .http2_max_header_list_size(MAX_HEADER_BYTES)
        .http2_keepalive_interval(Some(config.keepalive()))
        .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
        .max_connection_age(config.max_connection_age());
    if let Some(config) = tls.grpc() {
        builder = builder.tls_config(config).context("configuring TLS")?;
    }
    // Responses are small and many streams share a connection: without TCP_NODELAY, Nagle's algorithm holds a
    // response back until the previous one is acknowledged (tens of ms at the tail).
    let incoming = TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .with_keepalive(Some(config.keepalive()));
    let server = builder
        .layer(limits.in_flight().grpc(config.request_timeout()))
        .add_routes(routes)
        .serve_with_incoming_shutdown(counted(incoming, config.max_connections), stopping.started());
    if let Some((listener, routes)) = probe {
        let stopped = stopping.started();
        tokio::spawn(async move {
            let served = tonic::transport::Server::builder()
                .add_routes(routes)
                .serve_with_incoming_shutdown(TcpIncoming::from(listener), stopped)
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "the health probe server failed");
            }
        });
    }
    let stopped = stopping.started();
    let deadline = async move {
        stopped.await;
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

/// `incoming` connections, at most `max` open at once: the next is accepted only once one closes (until then,
/// connections wait in the kernel's accept queue).
fn counted(incoming: TcpIncoming, max: usize) -> impl Stream<Item = std::io::Result<Conn<TcpStream>>> + Send + 'static {
    let permits = Arc::new(Semaphore::new(max));
    futures::stream::unfold((incoming, permits), |(mut incoming, permits)| async move {
        let permit = permits.clone().acquire_owned().await.ok()?;
        let next = incoming.next().await?;
        Some((next.map(|io| Conn::new(io, permit)), (incoming, permits)))
    })
}

/// Sets every name's health to SERVING or NOT_SERVING.
async fn report(health: &HealthReporter, names: &[&'static str], serving: bool) {
    let status = if serving {
        tonic_health::ServingStatus::Serving
    } else {
        tonic_health::ServingStatus::NotServing
    };
    for name in names {
        health.set_service_status(*name, status).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_and_both_reflection_versions_build_over_every_descriptor() {
        let basics = with_basics(Services::new().report_health_as("pedigree.v1.Sequencer")).unwrap();
        assert_eq!(basics.reported, ["pedigree.v1.Sequencer"]);
    }
}
