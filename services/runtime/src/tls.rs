//! TLS on every hop, rustls throughout: what a server presents ([`ServerTls`]), what a client checks servers against
//! ([`ClientTls`]), and the one way to go without, a setting named `insecure_plaintext` that logs a warning.
//!
//! gRPC servers hand the identity to tonic; the HTTP server accepts through [`TlsListener`], which runs handshakes
//! concurrently (a slow client delays nobody else) under a deadline.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client may take over the TLS handshake before its connection is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A server's TLS settings (flattened into each service's configuration).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ServerTlsConfig {
    /// PEM certificate chain the servers present (leaf first).
    #[arg(id = "tls_cert", long = "tls-cert", env = "PEDIGREE_TLS_CERT")]
    pub cert: Option<PathBuf>,
    /// PEM private key of that certificate (PKCS#8, SEC1 or PKCS#1).
    #[arg(id = "tls_key", long = "tls-key", env = "PEDIGREE_TLS_KEY")]
    pub key: Option<PathBuf>,
    /// Serve plaintext, without TLS: only behind something that encrypts for you. Logged as a warning at start.
    #[arg(
        id = "tls_insecure_plaintext",
        long = "insecure-plaintext",
        env = "PEDIGREE_INSECURE_PLAINTEXT",
        default_value_t = false
    )]
    pub insecure_plaintext: bool,
    /// Also answer grpc.health.v1, and nothing else, in plaintext on this address: for Kubernetes' native gRPC
    /// probes, which cannot speak TLS. Off unless set.
    #[arg(id = "tls_probe_addr", long = "probe-addr", env = "PEDIGREE_PROBE_ADDR")]
    pub probe_addr: Option<std::net::SocketAddr>,
}

/// What a server presents: a certificate chain and its key, or nothing (plaintext, chosen explicitly).
#[derive(Clone)]
pub struct ServerTls {
    identity: Option<Identity>,
    probe_addr: Option<SocketAddr>,
}

#[derive(Clone)]
struct Identity {
    cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
}

impl ServerTls {
    /// Reads the certificate and key; refuses to start without them unless plaintext was asked for by name.
    pub fn load(config: &ServerTlsConfig) -> anyhow::Result<Self> {
        match (&config.cert, &config.key, config.insecure_plaintext) {
            (Some(cert), Some(key), false) => {
                let identity = Identity {
                    cert_pem: std::fs::read(cert).with_context(|| format!("reading {}", cert.display()))?,
                    key_pem: std::fs::read(key).with_context(|| format!("reading {}", key.display()))?,
                };
                let tls = Self {
                    identity: Some(identity),
                    probe_addr: config.probe_addr,
                };
                // Fail at start, naming the file, rather than at the first handshake.
                tls.rustls_config(&[b"h2"]).map_err(|e| {
                    e.context(format!(
                        "loading the certificate {} and key {}",
                        cert.display(),
                        key.display()
                    ))
                })?;
                Ok(tls)
            }
            (_, _, true) => {
                if config.cert.is_some() || config.key.is_some() {
                    bail!("both a TLS certificate and insecure_plaintext are set: choose one");
                }
                tracing::warn!("serving PLAINTEXT (insecure_plaintext is set): nothing on these ports is encrypted");
                Ok(Self {
                    identity: None,
                    probe_addr: config.probe_addr,
                })
            }
            (None, None, false) => bail!(
                "no TLS certificate: set PEDIGREE_TLS_CERT and PEDIGREE_TLS_KEY (--tls-cert, --tls-key), or \
                 PEDIGREE_INSECURE_PLAINTEXT=true to serve plaintext"
            ),
            (Some(_), None, false) => bail!("PEDIGREE_TLS_CERT is set without PEDIGREE_TLS_KEY"),
            (None, Some(_), false) => bail!("PEDIGREE_TLS_KEY is set without PEDIGREE_TLS_CERT"),
        }
    }

    /// Plaintext, for in-process tests of what is not about transport.
    pub fn insecure_plaintext() -> Self {
        Self {
            identity: None,
            probe_addr: None,
        }
    }

    /// Binds the plaintext health probe listener, if one is configured.
    pub async fn bind_probe(&self) -> anyhow::Result<Option<TcpListener>> {
        match self.probe_addr {
            None => Ok(None),
            Some(addr) => Ok(Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding the probe address {addr}"))?,
            )),
        }
    }

    pub fn is_plaintext(&self) -> bool {
        self.identity.is_none()
    }

    /// tonic's form, for a gRPC server (None: plaintext).
    pub fn grpc(&self) -> Option<tonic::transport::ServerTlsConfig> {
        self.identity.as_ref().map(|id| {
            tonic::transport::ServerTlsConfig::new()
                .identity(tonic::transport::Identity::from_pem(&id.cert_pem, &id.key_pem))
                .timeout(HANDSHAKE_TIMEOUT)
        })
    }

    /// A rustls server configuration offering `alpn` (most preferred first).
    fn rustls_config(&self, alpn: &[&[u8]]) -> anyhow::Result<Option<rustls::ServerConfig>> {
        let Some(id) = &self.identity else { return Ok(None) };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&id.cert_pem)
            .collect::<Result<_, _>>()
            .context("reading the certificate chain")?;
        if certs.is_empty() {
            bail!("the certificate file holds no certificate");
        }
        let key = PrivateKeyDer::from_pem_slice(&id.key_pem).context("reading the private key")?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .context("choosing TLS versions")?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .context("the key does not match the certificate")?;
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(Some(config))
    }

    /// Wraps `listener` for an HTTP server (HTTP/2 and HTTP/1.1 by ALPN), or leaves it plaintext. A TLS listener
    /// takes one of `connections` before accepting each connection (its handshake included).
    pub fn http_listener(&self, listener: TcpListener, connections: Arc<Semaphore>) -> anyhow::Result<HttpListener> {
        Ok(match self.rustls_config(&[b"h2", b"http/1.1"])? {
            None => HttpListener::Plain(listener),
            Some(config) => HttpListener::Tls(TlsListener::spawn(
                listener,
                TlsAcceptor::from(Arc::new(config)),
                connections,
            )),
        })
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// An HTTP server's listener: TLS, or plaintext when so configured.
pub enum HttpListener {
    Plain(TcpListener),
    Tls(TlsListener),
}

/// Accepted connections whose TLS handshake completed, each with its connection permit; handshakes run
/// concurrently, each under [`HANDSHAKE_TIMEOUT`], and failures are logged at debug level (scanners and port probes
/// are many).
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr, OwnedSemaphorePermit)>,
    _acceptor: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    fn spawn(listener: TcpListener, acceptor: TlsAcceptor, connections: Arc<Semaphore>) -> Self {
        let (tx, ready) = mpsc::channel(64);
        let task = tokio::spawn(async move {
            loop {
                let Ok(permit) = connections.clone().acquire_owned().await else {
                    return;
                };
                let (tcp, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accepting a connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            let _ = tx.send((stream, peer, permit)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "tls handshake failed"),
                        Err(_) => tracing::debug!(%peer, "tls handshake timed out"),
                    }
                });
            }
        });
        Self { ready, _acceptor: task }
    }

    /// The next connection whose handshake completed.
    pub async fn accept(&mut self) -> (TlsStream<TcpStream>, SocketAddr, OwnedSemaphorePermit) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            // The accept task ended only if the runtime is shutting down: never resolve.
            None => std::future::pending().await,
        }
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self._acceptor.abort();
    }
}

/// A client's TLS settings: the CA its servers' certificates are checked against.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ClientTlsConfig {
    /// PEM CA bundle that servers' certificates must chain to (default: the system's roots).
    #[arg(id = "tls_ca", long = "ca", env = "PEDIGREE_CA")]
    pub ca: Option<PathBuf>,
    /// Allow `http://` endpoints (no TLS). Logged as a warning.
    #[arg(
        id = "tls_insecure_plaintext",
        long = "insecure-plaintext",
        env = "PEDIGREE_INSECURE_PLAINTEXT",
        default_value_t = false
    )]
    pub insecure_plaintext: bool,
}

/// What a client trusts: a CA bundle (or the system roots) and whether plaintext endpoints are allowed.
#[derive(Clone, Debug)]
pub struct ClientTls {
    ca_pem: Option<Vec<u8>>,
    insecure_plaintext: bool,
}

impl ClientTls {
    pub fn load(config: &ClientTlsConfig) -> anyhow::Result<Self> {
        let ca_pem = match &config.ca {
            Some(path) => {
                Some(std::fs::read(path).with_context(|| format!("reading the CA bundle {}", path.display()))?)
            }
            None => None,
        };
        Ok(Self {
            ca_pem,
            insecure_plaintext: config.insecure_plaintext,
        })
    }

    /// Trusts the CA in `path` (PEM).
    pub fn with_ca_file(path: &Path) -> anyhow::Result<Self> {
        Self::load(&ClientTlsConfig {
            ca: Some(path.to_path_buf()),
            insecure_plaintext: false,
        })
    }

    /// Trusts the CA in `pem`.
    pub fn with_ca_pem(pem: Vec<u8>) -> Self {
        Self {
            ca_pem: Some(pem),
            insecure_plaintext: false,
        }
    }

    /// The CA bundle, if one was configured (for HTTP clients that take it themselves).
    pub fn ca_pem(&self) -> Option<&[u8]> {
        self.ca_pem.as_deref()
    }

    /// A tonic endpoint for `uri`: `https://` checked against the CA, `http://` only when plaintext is allowed.
    pub fn endpoint(&self, uri: &str) -> anyhow::Result<tonic::transport::Endpoint> {
        let endpoint = tonic::transport::Endpoint::from_shared(uri.to_string())
            .with_context(|| format!("{} is not a valid endpoint URI", quote(uri)))?;
        if uri.starts_with("https://") {
            let mut tls = tonic::transport::ClientTlsConfig::new();
            tls = match &self.ca_pem {
                Some(pem) => tls.ca_certificate(tonic::transport::Certificate::from_pem(pem)),
                None => tls.with_native_roots(),
            };
            endpoint.tls_config(tls).context("configuring TLS")
        } else if uri.starts_with("http://") {
            if !self.insecure_plaintext {
                bail!(
                    "{} is plaintext: use https://, or set PEDIGREE_INSECURE_PLAINTEXT=true (--insecure-plaintext)",
                    quote(uri)
                );
            }
            tracing::warn!(uri, "connecting in PLAINTEXT (insecure_plaintext is set)");
            Ok(endpoint)
        } else {
            bail!("{} must start with https://", quote(uri))
        }
    }

    /// Connects to `uri` (see [`ClientTls::endpoint`]).
    pub async fn connect(&self, uri: &str) -> anyhow::Result<tonic::transport::Channel> {
        self.endpoint(uri)?
            .connect()
            .await
            .with_context(|| format!("connecting to {}", quote(uri)))
    }
}

/// At most 80 characters of `s`, escaped, for an error message.
fn quote(s: &str) -> String {
    let mut q: String = s.chars().take(80).flat_map(char::escape_debug).collect();
    if s.chars().count() > 80 {
        q.push('…');
    }
    format!("\"{q}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_without_certificate_refuses_to_start_unless_plaintext_is_named() {
        let err = ServerTls::load(&ServerTlsConfig::default()).err().unwrap();
        assert!(err.to_string().contains("PEDIGREE_INSECURE_PLAINTEXT"), "{err}");
        let plain = ServerTls::load(&ServerTlsConfig {
            insecure_plaintext: true,
            ..ServerTlsConfig::default()
        })
        .unwrap();
        assert!(plain.is_plaintext());
    }

    #[test]
    fn a_client_refuses_plaintext_endpoints_unless_told() {
        let tls = ClientTls::load(&ClientTlsConfig::default()).unwrap();
        let err = tls.endpoint("http://127.0.0.1:1").err().unwrap();
        assert!(err.to_string().contains("plaintext"), "{err}");
        assert!(tls.endpoint("ftp://x").is_err());
        let plain = ClientTls::load(&ClientTlsConfig {
            insecure_plaintext: true,
            ca: None,
        })
        .unwrap();
        assert!(plain.endpoint("http://127.0.0.1:1").is_ok());
    }

    #[test]
    fn long_inputs_are_quoted_short() {
        let q = quote(&"x".repeat(10_000));
        assert!(q.len() < 100);
    }
}
