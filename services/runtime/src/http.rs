//! Serving an axum router the same way everywhere, within the limits of [`crate::limits`]: over TLS with the
//! service's certificate (handshakes run concurrently, see [`crate::tls::TlsListener`]) or plaintext when
//! `insecure_plaintext` is set; at most `max_connections` connections; HTTP/1.1 headers read within the header-read
//! timeout (slowloris), at most `max_streams_per_connection` HTTP/2 streams, keepalive PINGs, idle connections
//! closed; request bodies of at most [`MAX_HTTP_BODY_BYTES`]; requests shed beyond `max_in_flight` and ended after
//! the request timeout. Every request carries its peer's address (`axum::extract::ConnectInfo<SocketAddr>`). When
//! shutdown starts, the server stops accepting and every connection finishes its requests, then closes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;

use crate::conn::Conn;
use crate::limits::{KEEPALIVE_TIMEOUT, Limits, MAX_HEADER_BYTES, MAX_HTTP_BODY_BYTES};
use crate::shutdown::Shutdown;
use crate::tls::{HttpListener, ServerTls};

/// Serves `router` on `listener` until `shutdown` starts.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: &ServerTls,
    shutdown: Shutdown,
    limits: &Limits,
) -> anyhow::Result<()> {
    let config = limits.config();
    let router = router
        .layer(DefaultBodyLimit::max(MAX_HTTP_BODY_BYTES))
        .layer(limits.in_flight().http(config.request_timeout()));
    let connections = Arc::new(Semaphore::new(config.max_connections));
    let server = Server {
        router,
        builder: builder(limits),
        idle: config.idle_timeout(),
        stop: shutdown.watch(),
    };
    match tls.http_listener(listener, connections.clone())? {
        HttpListener::Plain(listener) => {
            let mut stop = shutdown.watch();
            loop {
                let permit = tokio::select! {
                    permit = connections.clone().acquire_owned() => permit.context("the connection limit closed")?,
                    _ = stop.wait_for(|stopping| *stopping) => break,
                };
                let accepted = tokio::select! {
                    accepted = listener.accept() => accepted,
                    _ = stop.wait_for(|stopping| *stopping) => break,
                };
                match accepted {
                    Ok((tcp, peer)) => {
                        // Responses are small: without TCP_NODELAY, Nagle's algorithm holds one back until the
                        // previous one is acknowledged (see crate::grpc::serve).
                        let _ = tcp.set_nodelay(true);
                        server.spawn(tcp, peer, permit);
                    }
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accepting a connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        }
        // The TLS listener holds a connection permit from accept on and sets TCP_NODELAY.
        HttpListener::Tls(mut listener) => {
            let mut stop = shutdown.watch();
            loop {
                tokio::select! {
                    (stream, peer, permit) = listener.accept() => server.spawn(stream, peer, permit),
                    _ = stop.wait_for(|stopping| *stopping) => break,
                }
            }
        }
    }
    // Every connection holds a permit until it is closed: all of them back means all connections are done.
    let _all = connections
        .acquire_many(u32::try_from(config.max_connections).unwrap_or(u32::MAX))
        .await;
    Ok(())
}

/// hyper's connection settings from the limits.
fn builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let config = limits.config();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout())
        .max_buf_size(MAX_HEADER_BYTES as usize * 2);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(config.max_streams_per_connection)
        .max_header_list_size(MAX_HEADER_BYTES)
        .keep_alive_interval(config.keepalive())
        .keep_alive_timeout(KEEPALIVE_TIMEOUT);
    builder
}

struct Server {
    router: Router,
    builder: auto::Builder<TokioExecutor>,
    idle: Duration,
    stop: watch::Receiver<bool>,
}

impl Server {
    /// Serves one accepted connection on its own task; `permit` is given back when the connection is dropped.
    fn spawn<I>(&self, io: I, peer: SocketAddr, permit: OwnedSemaphorePermit)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let router = self.router.clone();
        let service =
            TowerToHyperService::new(router.map_request(move |mut request: axum::http::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            }));
        let builder = self.builder.clone();
        let (idle, mut stop) = (self.idle, self.stop.clone());
        tokio::spawn(async move {
            let io = Conn::new(io, permit);
            let activity = io.activity();
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
            tokio::pin!(connection);
            let mut closing = false;
            loop {
                let quiet_for = activity.quiet_for();
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(%peer, error = %e, "http connection ended with an error");
                        }
                        break;
                    }
                    _ = stop.wait_for(|stopping| *stopping), if !closing => {
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                    }
                    () = tokio::time::sleep(idle.saturating_sub(quiet_for)), if !closing => {
                        if activity.quiet_for() >= idle {
                            tracing::debug!(%peer, "closing an idle http connection");
                            connection.as_mut().graceful_shutdown();
                            closing = true;
                        }
                    }
                }
            }
        });
    }
}
