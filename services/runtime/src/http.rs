//! Serving an axum router the same way everywhere: over TLS with the service's certificate (handshakes run
//! concurrently, see [`crate::tls::TlsListener`]), or plaintext when `insecure_plaintext` is set, with
//! TCP_NODELAY, until shutdown starts; in-flight requests are then finished.

use anyhow::Context;
use axum::Router;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;

use crate::shutdown::Shutdown;
use crate::tls::{HttpListener, ServerTls};

/// Serves `router` on `listener` until `shutdown` starts.
pub async fn serve(listener: TcpListener, router: Router, tls: &ServerTls, shutdown: Shutdown) -> anyhow::Result<()> {
    match tls.http_listener(listener)? {
        HttpListener::Plain(listener) => {
            // Responses are small: without TCP_NODELAY, Nagle's algorithm holds one back until the previous one is
            // acknowledged (see crate::grpc::serve).
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown.started())
                .await
        }
        // The TLS listener sets TCP_NODELAY on every connection it accepts.
        HttpListener::Tls(listener) => {
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown.started())
                .await
        }
    }
    .context("http server failed")
}
