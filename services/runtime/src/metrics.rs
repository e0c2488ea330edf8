//! Prometheus metrics, the same way in every service: each builds a [`prometheus_client`] registry with
//! [`registry`] (which adds `pedigree_build_info`), registers its own metrics in it, and serves it with
//! [`MetricsServer`] on `PEDIGREE_METRICS_ADDR` (`GET /metrics`, Prometheus text format 0.0.4), over TLS with the
//! service's certificate unless `insecure_plaintext` is set. Every metric is listed in docs/operations.md ("Metrics
//! and alerts") and docs/metrics.txt.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::exponential_buckets;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

use crate::shutdown::Shutdown;
use crate::tls::ServerTls;

/// Where a service serves its metrics (flattened into each service's configuration).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct MetricsConfig {
    /// Serve Prometheus metrics (GET /metrics, text format) on this address, over TLS with the servers'
    /// certificate unless insecure_plaintext is set. Off unless set.
    #[arg(id = "metrics_addr", long = "metrics-addr", env = "PEDIGREE_METRICS_ADDR")]
    pub addr: Option<SocketAddr>,
}

/// The `Content-Type` of what `/metrics` answers.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// A registry for `service`, holding `pedigree_build_info{service, version}` (always 1).
pub fn registry(service: &'static str) -> Registry {
    let mut registry = Registry::default();
    let info = Family::<[(&'static str, &'static str); 2], Gauge>::default();
    info.get_or_create(&[("service", service), ("version", env!("CARGO_PKG_VERSION"))])
        .set(1);
    registry.register("pedigree_build_info", "The service and its version (always 1)", info);
    registry
}

/// Latency buckets, in seconds: 0.5 ms doubling to about 16 s.
pub fn latency_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(0.0005, 2.0, 16)
}

/// The registry in the Prometheus text format.
pub fn render(registry: &Registry) -> String {
    let mut out = String::new();
    if let Err(e) = prometheus_text::encode(&mut out, registry) {
        tracing::warn!(error = %e, "encoding the metrics");
    }
    out
}

/// The answer to `GET /metrics`.
pub fn response(registry: &Registry) -> Response {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], render(registry)).into_response()
}

/// A router answering `GET /metrics` from `registry`.
pub fn router(registry: Arc<Registry>) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let registry = registry.clone();
            async move { response(&registry) }
        }),
    )
}

/// The metrics listener, bound at build time (port 0 in tests), or none when `PEDIGREE_METRICS_ADDR` is not set.
pub struct MetricsServer {
    listener: Option<TcpListener>,
}

impl MetricsServer {
    pub async fn bind(config: &MetricsConfig) -> anyhow::Result<Self> {
        let listener = match config.addr {
            None => None,
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding the metrics address {addr}"))?,
            ),
        };
        Ok(Self { listener })
    }

    /// The bound address, if metrics are served.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Serves `registry` until `shutdown` starts (at once returns when no address was set).
    pub async fn serve(self, registry: Arc<Registry>, tls: &ServerTls, shutdown: Shutdown) -> anyhow::Result<()> {
        match self.listener {
            None => Ok(()),
            Some(listener) => crate::http::serve(
                listener,
                router(registry),
                tls,
                shutdown,
                &crate::limits::Limits::default(),
            )
            .await
            .context("metrics server"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registry_names_its_service_and_version() {
        let text = render(&registry("custody"));
        assert!(text.contains("# TYPE pedigree_build_info gauge"), "{text}");
        assert!(
            text.contains(&format!(
                "pedigree_build_info{{service=\"custody\",version=\"{}\"}} 1",
                env!("CARGO_PKG_VERSION")
            )),
            "{text}"
        );
    }

    #[test]
    fn latency_buckets_span_half_a_millisecond_to_seconds() {
        let buckets: Vec<f64> = latency_buckets().collect();
        assert_eq!(buckets.first(), Some(&0.0005));
        assert!(buckets.last().is_some_and(|&b| b > 10.0));
    }
}
