//! What TLS and authentication cost per scan, in CPU time, measured on the verifier's own code and configuration:
//!
//! - `tls/handshake`: one full TLS 1.3 handshake, client and server together, with the crypto provider, protocol
//!   versions and certificate kind the servers use (rustls with ring; an ECDSA P-256 certificate from the dev CA,
//!   checked against that CA). Paid once per connection: scanners and ERPs keep their connections.
//! - `tls/scan_records`: one scan's traffic on an established connection, both directions, both ends (the client
//!   seals a 128-byte request, the server opens it, seals a 320-byte answer, the client opens it): the per-scan cost
//!   of encryption. The sizes are a gRPC `Verify` call on a warm HTTP/2 connection (HPACK-indexed headers, the gRPC
//!   frame and an anonymous answer with product data); HTTPS answers are of the same order.
//! - `auth/caller_anonymous`, `auth/caller_session`: the per-request check of the `authorization` value
//!   ([`Auth::caller`]): nothing for an anonymous scan; for a signed-in caller an HMAC-SHA256 over the token and a
//!   registry lookup (no signature check per scan).
//! - `auth/sign_in`: opening a session ([`Auth::start_session`]): a k256 signature check and claiming the nonce in a
//!   real redis-server (TLS, the verifier's ACL user). Paid once per session (an hour by default).
//!
//! `cargo bench -p pedigree-verifier --bench per_scan` (needs `redis-server` on PATH). docs/performance.md states the
//! figures beside the CPU a whole scan costs.

use std::hint::black_box;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use pedigree_core::participant::Registry;
use pedigree_core::pb::StartSessionRequest;
use pedigree_core::session::{SESSION_TAG, session_message};
use pedigree_devstack::{Fixture, LocalCa, Redis};
use pedigree_store::{RedisUser, Store};
use pedigree_verifier::auth::{Auth, Claims, SessionKey};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, pem::PemObject};
use rustls::{ClientConfig, ClientConnection, Connection, RootCertStore, ServerConfig, ServerConnection};

/// A warm gRPC `Verify` request and its anonymous answer, in bytes of HTTP/2 frames.
const REQUEST_BYTES: usize = 128;
const ANSWER_BYTES: usize = 320;

fn configs() -> (Arc<ClientConfig>, Arc<ServerConfig>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = LocalCa::create(dir.path()).expect("a CA");
    let cert = ca.issue_loopback("verifier").expect("a certificate");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert.cert_path)
        .expect("the certificate")
        .collect::<Result<_, _>>()
        .expect("the certificate");
    let key = PrivateKeyDer::from_pem_file(&cert.key_path).expect("the key");
    let mut server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("tls versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("a server config");
    server.alpn_protocols = vec![b"h2".to_vec()];
    let mut roots = RootCertStore::empty();
    for ca_cert in CertificateDer::pem_file_iter(ca.ca_path()).expect("the CA") {
        roots.add(ca_cert.expect("the CA")).expect("a root");
    }
    let mut client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("tls versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    client.alpn_protocols = vec![b"h2".to_vec()];
    // No resumption: every handshake measured is a full one.
    client.resumption = rustls::client::Resumption::disabled();
    (Arc::new(client), Arc::new(server), dir)
}

/// Moves whatever `from` has to send into `to`.
fn pump(from: &mut Connection, to: &mut Connection, buf: &mut Vec<u8>) {
    buf.clear();
    while from.wants_write() {
        from.write_tls(buf).expect("write tls");
    }
    let mut slice = buf.as_slice();
    while !slice.is_empty() {
        to.read_tls(&mut slice).expect("read tls");
        to.process_new_packets().expect("process tls");
    }
}

fn connect(client: &Arc<ClientConfig>, server: &Arc<ServerConfig>) -> (Connection, Connection) {
    let name = ServerName::try_from("localhost").expect("a name");
    let mut c = Connection::Client(ClientConnection::new(client.clone(), name).expect("a client"));
    let mut s = Connection::Server(ServerConnection::new(server.clone()).expect("a server"));
    let mut buf = Vec::with_capacity(8192);
    while c.is_handshaking() || s.is_handshaking() {
        pump(&mut c, &mut s, &mut buf);
        pump(&mut s, &mut c, &mut buf);
    }
    (c, s)
}

fn tls(c: &mut Criterion) {
    let (client, server, _dir) = configs();
    let mut group = c.benchmark_group("tls");
    group.bench_function("handshake", |b| b.iter(|| black_box(connect(&client, &server))));
    let (mut cc, mut sc) = connect(&client, &server);
    let (request, answer) = (vec![7u8; REQUEST_BYTES], vec![9u8; ANSWER_BYTES]);
    let (mut buf, mut got) = (Vec::with_capacity(4096), vec![0u8; 4096]);
    group.bench_function("scan_records", |b| {
        b.iter(|| {
            cc.writer().write_all(&request).expect("write");
            pump(&mut cc, &mut sc, &mut buf);
            let n = sc.reader().read(&mut got).expect("read");
            assert_eq!(n, REQUEST_BYTES);
            sc.writer().write_all(&answer).expect("write");
            pump(&mut sc, &mut cc, &mut buf);
            let n = cc.reader().read(&mut got).expect("read");
            assert_eq!(n, ANSWER_BYTES);
        })
    });
    group.finish();
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn auth(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let fixture = Fixture::create(dir.path()).expect("a fixture");
    let redis = Redis::start().expect("redis-server");
    let store = runtime
        .block_on(Store::connect(&redis.config_for(RedisUser::Verifier)))
        .expect("redis");
    let registry = Registry::from_genesis(&fixture.genesis).expect("genesis");
    let (_tx, rx) = tokio::sync::watch::channel(Arc::new(registry));
    let auth = Auth {
        key: SessionKey::random(),
        ttl: Duration::from_secs(3600),
        chain_id: fixture.chain_id,
        registry: rx,
        store,
    };
    let pharmacy = fixture.party("city-pharmacy");
    let token = auth.key.issue(&Claims {
        participant: pharmacy.id.clone(),
        key_id: pharmacy.key.key_id(),
        expires_at_ms: now_ms() + 3_600_000,
    });
    let header = format!("Bearer {token}");
    let mut group = c.benchmark_group("auth");
    group.bench_function("caller_anonymous", |b| {
        b.iter(|| black_box(auth.caller(black_box(None)).expect("anonymous")))
    });
    group.bench_function("caller_session", |b| {
        b.iter(|| black_box(auth.caller(Some(black_box(header.as_bytes()))).expect("a participant")))
    });
    let mut counter = 0u64;
    group.bench_function("sign_in", |b| {
        b.iter_batched(
            || {
                counter += 1;
                let mut nonce = [0u8; 16];
                nonce[..8].copy_from_slice(&counter.to_be_bytes());
                nonce[8..].copy_from_slice(&now_ms().to_be_bytes());
                let timestamp_ms = now_ms();
                let message = session_message(&fixture.chain_id, &pharmacy.id, timestamp_ms, &nonce);
                StartSessionRequest {
                    participant_id: pharmacy.id.clone(),
                    timestamp_ms,
                    nonce: nonce.to_vec(),
                    signature: pharmacy.key.sign(SESSION_TAG, &message),
                }
            },
            |request| runtime.block_on(auth.start_session(&request)).expect("a session"),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = tls, auth
}
criterion_main!(benches);
