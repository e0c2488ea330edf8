//! The clients of a hostile run: the attackers, each counting what it got, the legitimate pharmacies, each timing
//! its scans, and the sampler of the verifier's memory.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pedigree_core::pb::VerifyRequest;
use pedigree_core::pb::verifier_service_client::VerifierServiceClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// What the attackers aim at.
#[derive(Clone)]
pub struct Target {
    pub http: SocketAddr,
    pub grpc_url: String,
    pub ca_pem: Vec<u8>,
    /// A code the verifier knows.
    pub code: String,
    pub stop: Arc<AtomicBool>,
}

/// Outcomes by name ("200", "429", "cut off", ...).
#[derive(Default)]
pub struct Counts(Mutex<BTreeMap<String, u64>>);

impl Counts {
    pub fn add(&self, outcome: impl Into<String>) {
        *self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(outcome.into())
            .or_default() += 1;
    }

    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// A TCP connection from `source`.
async fn connect_from(source: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    socket.connect(to).await
}

/// Waits until the server closes `stream` or `limit` passes; whether it closed.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 512];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

/// The first bytes of a TLS ClientHello record, sent one every two seconds; reconnects when cut off.
pub async fn slowloris(target: Target, source: IpAddr, counts: Arc<Counts>) {
    const HELLO: &[u8] = &[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03];
    while !target.stop.load(Ordering::Relaxed) {
        let Ok(mut tcp) = connect_from(source, target.http).await else {
            counts.add("connect failed");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        counts.add("connected");
        let mut cut = false;
        for byte in HELLO.iter().cycle().take(600) {
            if tcp.write_all(&[*byte]).await.is_err() || closed_within(&mut tcp, Duration::from_secs(2)).await {
                cut = true;
                break;
            }
        }
        counts.add(if cut { "cut off" } else { "outlasted" });
    }
}

/// A completed TLS handshake, then an HTTP/1.1 head one header line every second; reconnects when cut off.
pub async fn slow_headers(target: Target, source: IpAddr, counts: Arc<Counts>) {
    let Ok(connector) = tls_connector(&target.ca_pem) else {
        counts.add("no tls config");
        return;
    };
    while !target.stop.load(Ordering::Relaxed) {
        let Ok(tcp) = connect_from(source, target.http).await else {
            counts.add("connect failed");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("a valid name");
        let Ok(mut tls) = connector.connect(name, tcp).await else {
            counts.add("handshake failed");
            continue;
        };
        counts.add("connected");
        let mut cut = tls
            .write_all(b"GET /v1/verify?code=x HTTP/1.1\r\nHost: localhost\r\n")
            .await
            .is_err();
        let mut line = 0;
        while !cut && line < 600 {
            line += 1;
            if tls.write_all(format!("X-Slow-{line}: y\r\n").as_bytes()).await.is_err() {
                cut = true;
                break;
            }
            let mut buf = [0u8; 512];
            match tokio::time::timeout(Duration::from_secs(1), tls.read(&mut buf)).await {
                Ok(Ok(0) | Err(_)) => cut = true,
                Ok(Ok(_)) => {
                    cut = true;
                    counts.add("answered");
                }
                Err(_) => {}
            }
        }
        counts.add(if cut { "cut off" } else { "outlasted" });
    }
}

fn tls_connector(ca_pem: &[u8]) -> anyhow::Result<tokio_rustls::TlsConnector> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(cert?)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// An HTTPS client from `source` that trusts the stack's CA.
pub fn https_client(ca_pem: &[u8], source: IpAddr) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem)?)
        .local_address(source)
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// Oversized requests back to back: 4 MB sign-in bodies over HTTP, or 4 MB codes over gRPC.
pub async fn flood(target: Target, source: IpAddr, http: bool, bytes: usize, counts: Arc<Counts>) {
    let body = vec![b'x'; bytes];
    if http {
        let Ok(client) = https_client(&target.ca_pem, source) else {
            return;
        };
        let url = format!("https://localhost:{}/v1/session", target.http.port());
        while !target.stop.load(Ordering::Relaxed) {
            let sent = client
                .post(&url)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await;
            counts.add(match sent {
                Ok(response) => format!("http {}", response.status().as_u16()),
                Err(_) => "http connection closed".to_string(),
            });
        }
    } else {
        let code = String::from_utf8(body).unwrap_or_default();
        while !target.stop.load(Ordering::Relaxed) {
            let Ok(tls) = pedigree_runtime::tls::ClientTls::with_ca_pem(target.ca_pem.clone())
                .connect(&target.grpc_url)
                .await
            else {
                counts.add("grpc connect failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            };
            let mut client = VerifierServiceClient::new(tls).max_encoding_message_size(bytes + 1024);
            for _ in 0..50 {
                let answer = client
                    .verify(VerifyRequest {
                        code: code.clone(),
                        include_proof: false,
                    })
                    .await;
                counts.add(match answer {
                    Ok(_) => "grpc ok".to_string(),
                    Err(status) => format!("grpc {:?}", status.code()),
                });
                if target.stop.load(Ordering::Relaxed) {
                    return;
                }
            }
        }
    }
}

/// Scans in a tight loop from one address.
pub async fn abusive(target: Target, source: IpAddr, counts: Arc<Counts>) {
    let Ok(client) = https_client(&target.ca_pem, source) else {
        return;
    };
    let url = format!("https://localhost:{}/v1/verify", target.http.port());
    while !target.stop.load(Ordering::Relaxed) {
        let sent = client.get(&url).query(&[("code", &target.code)]).send().await;
        counts.add(match sent {
            Ok(response) => response.status().as_u16().to_string(),
            Err(_) => "connection error".to_string(),
        });
    }
}

/// One legitimate scan's outcome: its latency, or what went wrong.
pub type Scan = Result<Duration, String>;

/// A pharmacy scanning `code` `rate` times a second for `window` (each scan sent on schedule, its latency counted
/// from when it was due, so a slow answer delays nothing unseen).
pub async fn pharmacy(
    client: reqwest::Client,
    http: SocketAddr,
    code: String,
    rate: u64,
    window: Duration,
) -> Vec<Scan> {
    let url = format!("https://localhost:{}/v1/verify", http.port());
    let period = Duration::from_micros(1_000_000 / rate.max(1));
    let started = tokio::time::Instant::now();
    let mut scans = Vec::new();
    let mut n = 0u32;
    loop {
        let due = started + period * n;
        if due.duration_since(started) >= window {
            return scans;
        }
        tokio::time::sleep_until(due).await;
        let sent = client.get(&url).query(&[("code", &code)]).send().await;
        scans.push(match sent {
            Ok(response) if response.status() == 200 => match response.bytes().await {
                Ok(_) => Ok(due.elapsed()),
                Err(e) => Err(format!("body: {e}")),
            },
            Ok(response) => Err(response.status().as_u16().to_string()),
            Err(e) => Err(if e.is_timeout() {
                "timeout".into()
            } else {
                "connection error".into()
            }),
        });
        n += 1;
    }
}

/// The largest resident memory of process `pid` (MB), sampled every 100 ms until `stop`.
pub async fn sample_rss(pid: u32, stop: Arc<AtomicBool>) -> f64 {
    let mut max_kb = 0u64;
    let started = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if let Ok(status) = tokio::fs::read_to_string(format!("/proc/{pid}/status")).await {
            let rss = status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok());
            max_kb = max_kb.max(rss.unwrap_or(0));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        if started.elapsed() > Duration::from_secs(3600) {
            break;
        }
    }
    max_kb as f64 / 1024.0
}
