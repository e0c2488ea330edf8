//! Hostile clients against the real servers (docs/operations.md, "Limits"): oversized requests at every door,
//! malformed paths, slow and idle connections, thousands of connections and streams, an overload, a client over
//! its rate, forged and misused signatures. Each gets its documented status, no server crashes, nothing is
//! written, and legitimate clients keep being served.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use pedigree_core::envelope::{new_payload, sign_payload};
use pedigree_core::gs1::gtin_check_digit;
use pedigree_core::keys::{HEADER_TAG, KeyPair};
use pedigree_core::pb::{ParticipantRole, SignedEnvelope, VerifyRequest};
use pedigree_e2e::{Stack, body};
use prost::Message;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::Code;

const MFR: &str = "acme-pharma";
const WHOLESALE: &str = "medline-wholesale";
const PHARMACY: &str = "city-pharmacy";

fn gtin() -> String {
    format!("0950600013435{}", gtin_check_digit("0950600013435").unwrap())
}

/// A scan of a commissioned pack answers 200 with its verdict.
async fn legit_scan(stack: &Stack, base: &str, code: &str) {
    let response = stack
        .http_client()
        .get(format!("{base}/v1/verify"))
        .query(&[("code", code)])
        .send()
        .await
        .expect("the verifier answers");
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap_or_default());
}

/// Starts another verifier on the stack's Redis with `limits` changed; its HTTP base URL and gRPC address.
async fn verifier_with(
    stack: &Stack,
    change: impl FnOnce(&mut pedigree_verifier::Config),
) -> (String, SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let mut config = stack.verifier_config();
    change(&mut config);
    let app = pedigree_verifier::App::build(config)
        .await
        .expect("building a verifier");
    let (http, grpc) = (app.http_addr(), app.grpc_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    (format!("https://localhost:{}", http.port()), grpc, stop)
}

/// An HTTPS client trusting the stack's CA whose connections come from `ip` (a loopback address of its own).
fn client_from(stack: &Stack, ip: Ipv4Addr) -> reqwest::Client {
    let ca = std::fs::read(&stack.ca_path).unwrap();
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .local_address(IpAddr::V4(ip))
        .build()
        .unwrap()
}

/// A raw TLS connection (HTTP/1.1 by ALPN) to `addr`, trusting the stack's CA.
async fn raw_tls(stack: &Stack, addr: SocketAddr) -> tokio_rustls::client::TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(&stack.ca_path).unwrap();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = TcpStream::connect(addr).await.unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("tls handshake")
}

/// Reads until the server closes the connection (EOF or reset), at most `limit`; whether it closed.
async fn closed_within<S: tokio::io::AsyncRead + Unpin>(stream: &mut S, limit: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(limit, read).await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_requests_are_refused_at_every_door() {
    let stack = Stack::spawn().await;
    let g = gtin();
    stack.product(MFR, &g).await;
    let code = format!("01{g}21OK1");
    stack
        .submit_as(MFR, body::commission(&g, "L1", "281231", &["OK1"]))
        .await
        .unwrap();
    let base = format!("https://localhost:{}", stack.verifier_http.port());

    // gRPC verifier: a request over 4 KiB is refused before it is decoded.
    let err = stack
        .verifier()
        .await
        .verify(VerifyRequest {
            code: "9".repeat(64 * 1024),
            include_proof: false,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::OutOfRange, "{err:?}");
    // Under 4 KiB but longer than any code: INVALID_ARGUMENT naming the limit, quoting nothing.
    let err = stack
        .verifier()
        .await
        .verify(VerifyRequest {
            code: "9".repeat(2000),
            include_proof: false,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message()
            .contains("longer than any gs1 code (2000 bytes, at most 1024)"),
        "{}",
        err.message()
    );

    // Custody and governance: an envelope far over the payload limit is refused before it is decoded.
    let mut huge = stack.sign(MFR, body::commission(&g, "L2", "281231", &["BIG1"]));
    huge.payload = vec![0x0a; 2 * 1024 * 1024];
    let err = stack.manufacturer().await.commission(huge.clone()).await.unwrap_err();
    assert_eq!(err.code(), Code::OutOfRange, "{err:?}");
    let err = stack.governance().await.register_participant(huge).await.unwrap_err();
    assert_eq!(err.code(), Code::OutOfRange, "{err:?}");

    // HTTP: a sign-in body over 16 KiB, a code longer than any code, a 500 KB path.
    let http = stack.http_client();
    let response = http
        .post(format!("{base}/v1/session"))
        .header("content-type", "application/json")
        .body(format!("{{\"participant_id\":\"{}\"}}", "x".repeat(64 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let response = http
        .get(format!("{base}/v1/verify"))
        .query(&[("code", "9".repeat(3000))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let text = response.text().await.unwrap();
    assert!(text.len() < 300 && text.contains("longer than any gs1 code"), "{text}");
    // A 500 KB path: hyper refuses a head larger than its buffer (431) or closes the connection.
    let mut raw = raw_tls(&stack, stack.verifier_http).await;
    let head = format!("GET /01/{} HTTP/1.1\r\nHost: localhost\r\n\r\n", "9".repeat(500 * 1024));
    let _ = raw.write_all(head.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), raw.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431") || answer.starts_with("HTTP/1.1 414"),
        "{}",
        &answer[..answer.len().min(200)]
    );

    // The product's attestation and registration, and the one commission.
    assert_eq!(
        stack.events_in_topic().await,
        3,
        "a refused request reached the events topic"
    );
    legit_scan(&stack, &base, &code).await;
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_paths_and_queries_get_400_naming_the_problem() {
    let stack = Stack::spawn().await;
    let base = format!("https://localhost:{}", stack.verifier_http.port());
    let http = stack.http_client();
    let g = gtin();
    stack.product(MFR, &g).await;
    for (path, says) in [
        (format!("/01/{g}/21/%ZZ"), "percent-encoding"),
        (format!("/01/{g}/21/%FF%FE"), "utf-8"),
        (format!("/01/{g}/21/A%00B"), "serial"),
        ("/v1/verify?code=%00".to_string(), "code"),
        ("/v1/verify?code=%FF%FE".to_string(), ""),
        (format!("/01/{g}/{}/X", "7".repeat(900)), "… (900 characters)"),
    ] {
        let response = http.get(format!("{base}{path}")).send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 400, "{path}: {text}");
        assert!(text.contains(says), "{path}: {text}");
        assert!(text.len() < 400, "{path}: {} bytes of error", text.len());
    }
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_http_connections_are_closed() {
    let stack = Stack::spawn().await;
    let (_base, _, stop) = verifier_with(&stack, |c| {
        c.limits.header_read_timeout_ms = 1_000;
        c.limits.idle_timeout_secs = 2;
    })
    .await;
    let http_addr: SocketAddr = format!("127.0.0.1:{}", _base.rsplit(':').next().unwrap())
        .parse()
        .unwrap();

    // Slowloris: a header line every 300 ms, never the end of the head. The server cuts it off long before the
    // 40 lines (12 s) are sent.
    let mut slow = raw_tls(&stack, http_addr).await;
    slow.write_all(b"GET /v1/verify?code=x HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    let mut cut_off = false;
    for i in 0..40 {
        if slow.write_all(format!("X-Slow-{i}: y\r\n").as_bytes()).await.is_err() {
            cut_off = true;
            break;
        }
        if closed_within(&mut slow, Duration::from_millis(300)).await {
            cut_off = true;
            break;
        }
    }
    assert!(cut_off, "a connection that never finished its headers stayed open");

    // A connection that sends nothing at all, after its handshake.
    let mut idle = raw_tls(&stack, http_addr).await;
    assert!(
        closed_within(&mut idle, Duration::from_secs(10)).await,
        "an idle connection stayed open"
    );

    // A keep-alive connection that served a request and then goes quiet.
    let mut quiet = raw_tls(&stack, http_addr).await;
    quiet
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0u8; 12];
    quiet.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    assert!(
        closed_within(&mut quiet, Duration::from_secs(10)).await,
        "a quiet keep-alive connection stayed open"
    );
    let _ = stop.send(());
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_connections_and_streams_leave_scans_served() {
    let stack = Stack::spawn_unthrottled(200).await;
    let g = gtin();
    stack.product(MFR, &g).await;
    let code = format!("01{g}21MANY1");
    stack
        .submit_as(MFR, body::commission(&g, "L1", "281231", &["MANY1"]))
        .await
        .unwrap();
    let base = format!("https://localhost:{}", stack.verifier_http.port());

    // 5,000 connections that never start their TLS handshake.
    let mut idle = Vec::new();
    for _ in 0..5_000 {
        idle.push(TcpStream::connect(stack.verifier_http).await.expect("connecting"));
    }
    legit_scan(&stack, &base, &code).await;
    drop(idle);

    // 3,000 calls at once on one HTTP/2 connection (the server allows 128 streams at a time; the rest wait or
    // are refused as RESOURCE_EXHAUSTED, never answered wrong).
    let client = stack.verifier().await;
    let calls = (0..3_000).map(|_| {
        let mut client = client.clone();
        let code = code.clone();
        tokio::spawn(async move {
            client
                .verify(VerifyRequest {
                    code,
                    include_proof: false,
                })
                .await
        })
    });
    let mut answered = 0;
    for call in futures::future::join_all(calls).await {
        match call.unwrap() {
            Ok(response) => {
                assert_eq!(response.into_inner().serial, "MANY1");
                answered += 1;
            }
            Err(status) => assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}"),
        }
    }
    assert!(answered > 0);
    legit_scan(&stack, &base, &code).await;
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overloaded_verifier_sheds_at_once_instead_of_queueing() {
    let stack = Stack::spawn().await;
    let (base, _, stop) = verifier_with(&stack, |c| {
        c.limits.max_in_flight = 3;
        c.limits.request_timeout_ms = 60_000;
        c.anonymous_per_sec = 0;
    })
    .await;
    let http = stack.http_client();
    let code = format!("01{}21SHED1", gtin());
    // Redis stops answering: scans in progress wait for it (until the store's response timeout), holding the
    // three places; more keep coming so that three are always waiting.
    pedigree_devstack::signal(stack.redis.pid(), "STOP").unwrap();
    let mut waiting = Vec::new();
    let refused = loop {
        for _ in 0..3 {
            let request = http.get(format!("{base}/v1/verify")).query(&[("code", &code)]).send();
            waiting.push(tokio::spawn(request));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let response = http
            .get(format!("{base}/v1/verify"))
            .query(&[("code", &code)])
            .send()
            .await
            .unwrap();
        if response.status() == 503 && response.headers().contains_key("retry-after") {
            break response;
        }
        assert!(waiting.len() < 600, "no request was shed with three places held");
    };
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().starts_with("server busy"), "{body}");
    pedigree_devstack::signal(stack.redis.pid(), "CONT").unwrap();
    for request in waiting {
        let status = request.await.unwrap().unwrap().status();
        assert!(status == 200 || status == 503, "{status}");
    }
    let _ = stop.send(());
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grpc_call_past_the_servers_time_limit_gets_deadline_exceeded() {
    let stack = Stack::spawn().await;
    let (_, grpc, stop) = verifier_with(&stack, |c| {
        c.limits.request_timeout_ms = 700;
        c.anonymous_per_sec = 0;
    })
    .await;
    let mut client = pedigree_core::pb::verifier_service_client::VerifierServiceClient::new(stack.channel(grpc).await);
    let request = VerifyRequest {
        code: format!("01{}21SLOW1", gtin()),
        include_proof: false,
    };
    // Redis stops answering: the scan waits, and the server ends it at its limit, saying so (not a bare CANCELLED
    // that a client reads as its own cancellation).
    pedigree_devstack::signal(stack.redis.pid(), "STOP").unwrap();
    let answer = client.verify(request.clone()).await;
    pedigree_devstack::signal(stack.redis.pid(), "CONT").unwrap();
    let status = answer.expect_err("a scan while Redis is stopped cannot succeed");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(status.message().contains("700 ms limit"), "{}", status.message());
    // Served again once Redis is back.
    let mut served = false;
    for _ in 0..50 {
        if client.verify(request.clone()).await.is_ok() {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served, "the verifier did not recover after Redis came back");
    let _ = stop.send(());
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_its_rate_is_told_when_to_retry_and_others_are_not() {
    let stack = Stack::spawn().await;
    let (base, _, stop) = verifier_with(&stack, |c| {
        c.anonymous_per_sec = 5;
    })
    .await;
    let code = format!("01{}21RATE1", gtin());
    // A new stack answers 503 until the sequencer has loaded the ledger state into Redis: wait for it, from an
    // address of its own, so that the addresses below start with their whole allowance.
    let warm = client_from(&stack, Ipv4Addr::new(127, 0, 0, 4));
    for _ in 0..300 {
        let answer = warm
            .get(format!("{base}/v1/verify"))
            .query(&[("code", &code)])
            .send()
            .await;
        if answer.is_ok_and(|a| a.status() != 503) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let abusive = client_from(&stack, Ipv4Addr::new(127, 0, 0, 2));
    let other = client_from(&stack, Ipv4Addr::new(127, 0, 0, 3));
    let mut limited = None;
    for _ in 0..50 {
        let response = abusive
            .get(format!("{base}/v1/verify"))
            .query(&[("code", &code)])
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            limited = Some(response);
            break;
        }
        let status = response.status();
        assert_eq!(status, 200, "{}", response.text().await.unwrap_or_default());
    }
    let limited = limited.expect("50 scans at once from one address were all served at 5 a second");
    assert!(
        limited.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    let body: serde_json::Value = limited.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("rate limit: too many requests from this address"),
        "{body}"
    );
    // Another address is served.
    let response = other
        .get(format!("{base}/v1/verify"))
        .query(&[("code", &code)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let _ = stop.send(());

    // Custody: one participant over its submission rate; another participant is not affected.
    let mut config = stack.custody_config();
    config.submissions_per_sec = 2;
    let custody = pedigree_custody::App::build(config).await.unwrap();
    let addr = custody.addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(custody.run_until(async move {
        let _ = stopped.await;
    }));
    let mut manufacturer =
        pedigree_core::pb::manufacturer_service_client::ManufacturerServiceClient::new(stack.channel(addr).await);
    let g = gtin();
    stack.product(MFR, &g).await;
    let mut refused = None;
    for i in 0..20 {
        let envelope = stack.sign(MFR, body::commission(&g, "R1", "281231", &[format!("R{i}")]));
        match manufacturer.commission(envelope).await {
            Ok(_) => {}
            Err(status) => {
                refused = Some(status);
                break;
            }
        }
    }
    let refused = refused.expect("20 submissions at once were all taken at 2 a second");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(
        refused
            .message()
            .starts_with("rate limit: too many requests from this participant")
    );
    assert!(refused.metadata().get("retry-after").is_some());
    let mut distributor =
        pedigree_core::pb::distributor_service_client::DistributorServiceClient::new(stack.channel(addr).await);
    let ship = stack.sign(WHOLESALE, body::ship(&g, &["R0"], PHARMACY));
    match distributor.ship(ship).await {
        Ok(_) => {}
        // Judged on its merits (the wholesaler does not hold R0), not refused for another's rate.
        Err(status) => assert_ne!(status.code(), Code::ResourceExhausted, "{status:?}"),
    }
    let _ = stop.send(());
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_clients_are_limited_apart_and_cannot_pick_their_address() {
    let stack = Stack::spawn().await;
    let (base, _, stop) = verifier_with(&stack, |c| {
        c.anonymous_per_sec = 2;
        c.trusted_proxies = pedigree_verifier::client_ip::TrustedProxies::parse("127.0.0.2").unwrap();
    })
    .await;
    let code = format!("01{}21XFF1", gtin());
    let scan = |client: &reqwest::Client, forwarded: String| {
        client
            .get(format!("{base}/v1/verify"))
            .query(&[("code", &code)])
            .header("x-forwarded-for", forwarded)
            .send()
    };
    // Through the trusted proxy (127.0.0.2): one client uses up its budget, another is still served.
    let proxy = client_from(&stack, Ipv4Addr::new(127, 0, 0, 2));
    let mut limited = false;
    for _ in 0..20 {
        if scan(&proxy, "198.51.100.1".into()).await.unwrap().status() == 429 {
            limited = true;
            break;
        }
    }
    assert!(
        limited,
        "20 scans at once of one forwarded client were all served at 2 a second"
    );
    assert_eq!(scan(&proxy, "198.51.100.2".into()).await.unwrap().status(), 200);
    // A client that is not a trusted proxy (127.0.0.3) cannot escape its budget by naming a new address each time.
    let liar = client_from(&stack, Ipv4Addr::new(127, 0, 0, 3));
    let mut limited = false;
    for i in 0..20 {
        if scan(&liar, format!("203.0.113.{i}")).await.unwrap().status() == 429 {
            limited = true;
            break;
        }
    }
    assert!(
        limited,
        "a client picking its own X-Forwarded-For escaped its rate limit"
    );
    let _ = stop.send(());
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_misused_signatures_are_refused_and_change_nothing() {
    let stack = Stack::spawn().await;
    let g = gtin();
    let mut m = stack.manufacturer().await;
    let ok = || body::commission(&g, "L1", "281231", &["SIG1"]);

    // The same signature with s replaced by n - s (high S): valid ECDSA, refused by the low-S rule.
    let mut high_s = stack.sign(MFR, ok());
    let signature = k256::ecdsa::Signature::from_slice(&high_s.signature).unwrap();
    let (r, s) = signature.split_scalars();
    high_s.signature = k256::ecdsa::Signature::from_scalars(r, -*s)
        .unwrap()
        .to_bytes()
        .to_vec();
    let err = m.commission(high_s).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    assert!(err.message().contains("high s"), "{}", err.message());

    // 65 bytes (a recovery id appended).
    let mut long = stack.sign(MFR, ok());
    long.signature.push(0);
    let err = m.commission(long).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");

    // Signed under the block-header tag: a signature for something else.
    let payload = new_payload(&stack.fixture.chain_id, MFR, ok());
    let mut header_tagged = sign_payload(&stack.fixture.party(MFR).key, &payload);
    header_tagged.signature = stack.fixture.party(MFR).key.sign(HEADER_TAG, &payload.encode_to_vec());
    let err = m.commission(header_tagged).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");

    // A governance event signed by a participant with its own key, and a participant registering itself.
    let mut governance = stack.governance().await;
    let revoke = stack.sign(MFR, body::revoke_participant(PHARMACY, "forged"));
    let err = governance.revoke_participant(revoke).await.unwrap_err();
    assert!(
        matches!(err.code(), Code::PermissionDenied | Code::Unauthenticated),
        "{err:?}"
    );
    let newcomer = KeyPair::generate();
    let register = sign_payload(
        &newcomer,
        &new_payload(
            &stack.fixture.chain_id,
            "newcomer",
            body::register_participant("newcomer", ParticipantRole::Pharmacy, "New", "", &newcomer.public()),
        ),
    );
    let err = governance.register_participant(register).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    let register = stack.sign(
        PHARMACY,
        body::register_participant("newcomer", ParticipantRole::Pharmacy, "New", "", &newcomer.public()),
    );
    let err = governance.register_participant(register).await.unwrap_err();
    assert!(
        matches!(err.code(), Code::PermissionDenied | Code::Unauthenticated),
        "{err:?}"
    );

    assert_eq!(
        stack.events_in_topic().await,
        0,
        "a refused envelope reached the events topic"
    );
    let _: SignedEnvelope = stack.sign(MFR, ok());
    stack.shutdown().await;
}
