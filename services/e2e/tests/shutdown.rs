//! Graceful shutdown of the real binaries (custody, verifier, sequencer) on SIGTERM, against a devstack broker and
//! Redis: health turns NOT_SERVING (or the port closes), an in-flight request completes, new requests are refused,
//! and the process exits 0 within its grace period.
//!
//! The binaries are found next to this test's executable (target/<profile>/): `cargo build --bins` must run before
//! `cargo test` (`cargo test --workspace` builds them too, since their packages have integration tests).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use pedigree_core::gs1::gtin_check_digit;
use pedigree_core::pb::manufacturer_service_client::ManufacturerServiceClient;
use pedigree_core::pb::verifier_service_client::VerifierServiceClient;
use pedigree_core::pb::{Verdict, VerifyRequest};
use pedigree_devstack::{Broker, Fixture, LocalCa, Redis, ServerCert, Storage, free_port, wait_for_port};
use pedigree_e2e::{BLOCKS_TOPIC, EVENTS_TOPIC, binary, body};
use pedigree_kafka::{ClientSettings, Producer, ProducerSettings, TopicSpec, ensure_topics};
use pedigree_runtime::tls::ClientTls;
use pedigree_store::RedisUser;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const GRACE_SECS: &str = "3";
const MFR: &str = "acme-pharma";

fn gtin(prefix13: &str) -> String {
    format!("{prefix13}{}", gtin_check_digit(prefix13).expect("13 digits"))
}

/// The certificate every server of these tests presents, and what their clients trust.
struct Tls {
    _dir: tempfile::TempDir,
    cert: ServerCert,
    client: ClientTls,
}

static TLS: std::sync::LazyLock<Tls> = std::sync::LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = LocalCa::create(dir.path()).expect("local CA");
    let cert = ca.issue_loopback("server").expect("server certificate");
    let client = ClientTls::with_ca_file(ca.ca_path()).expect("reading the CA");
    Tls {
        _dir: dir,
        cert,
        client,
    }
});

/// A service binary running as a child process, its output in a temp file (shown if the test fails).
struct Service {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Service {
    fn start(name: &str, env: &[(&str, String)], port: u16) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let mut child = Command::new(binary(name))
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("PEDIGREE_TLS_CERT", &TLS.cert.cert_path)
            .env("PEDIGREE_TLS_KEY", &TLS.cert.key_path)
            .env("PEDIGREE_SHUTDOWN_GRACE_SECS", GRACE_SECS)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        wait_for_port(port, &mut child, Duration::from_secs(60)).unwrap_or_else(|e| panic!("{name}: {e}"));
        Self { child, log, _dir: dir }
    }

    fn signal(&self, signal: &str) {
        signal_pid(self.child.id(), signal);
    }

    /// Waits for the exit (at most 30 s: a hang guard, not a timing assertion).
    async fn exit(&mut self) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("waiting for the child") {
                return status;
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                panic!("did not exit within 30 s of SIGTERM\n{}", self.output());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal_pid(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .expect("running kill");
    assert!(status.success(), "kill -{signal} {pid} failed");
}

/// The pid of the devstack child whose command line names `program` and `port` (devstack keeps its `Child` private).
fn pid_of(program: &str, port: u16) -> u32 {
    let port = port.to_string();
    for entry in std::fs::read_dir("/proc").expect("/proc") {
        let entry = entry.expect("/proc entry");
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|&b| b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let names_program = args.first().is_some_and(|a| a.contains(program));
        if names_program && args.iter().any(|a| a.contains(&port)) {
            return pid;
        }
    }
    panic!("no {program} process on port {port}");
}

async fn channel(addr: SocketAddr) -> Result<Channel, tonic::transport::Error> {
    TLS.client
        .endpoint(&format!("https://{addr}"))
        .expect("uri")
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(2))
        .connect()
        .await
}

/// Overall health on a fresh connection; an error when nothing answers.
async fn health(addr: SocketAddr) -> Result<ServingStatus, String> {
    let channel = channel(addr).await.map_err(|e| e.to_string())?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest { service: String::new() })
        .await
        .map_err(|e| e.to_string())?;
    Ok(response.into_inner().status())
}

/// Polls until health is no longer SERVING; returns what it saw (hang guard 10 s).
async fn wait_not_serving(addr: SocketAddr) -> String {
    let started = Instant::now();
    loop {
        match health(addr).await {
            Ok(ServingStatus::Serving) => {}
            Ok(other) => return format!("{other:?} after {:?}", started.elapsed()),
            Err(e) => return format!("no answer ({e}) after {:?}", started.elapsed()),
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still SERVING 10 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

async fn broker_with_topics() -> Broker {
    let broker = Broker::start(Storage::Memory).expect("starting tansu");
    let spec = TopicSpec::events(EVENTS_TOPIC, 1, &Default::default());
    ensure_topics(&ClientSettings::new(broker.brokers()), &[spec])
        .await
        .expect("events topic");
    broker
}

/// custody: a submission waiting for the broker's acknowledgement when SIGTERM arrives still gets its answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custody_drains_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Fixture::create(dir.path()).unwrap();
    let broker = broker_with_topics().await;
    // Custody reads the registry from Redis and marks events pending there: its own Redis, never the machine's.
    let redis = Redis::start().expect("starting redis");
    let port = free_port();
    let mut env = vec![
        ("PEDIGREE_CUSTODY_GRPC_ADDR", loopback(port).to_string()),
        ("PEDIGREE_KAFKA_BROKERS", broker.brokers()),
        ("PEDIGREE_EVENTS_TOPIC", EVENTS_TOPIC.into()),
        ("PEDIGREE_GENESIS", fixture.genesis_path.display().to_string()),
        ("PEDIGREE_DELIVERY_TIMEOUT_MS", "15000".into()),
    ];
    env.extend(redis.config_for(RedisUser::Custody).to_env());
    let mut custody = Service::start("pedigree-custody", &env, port);
    let addr = loopback(port);
    assert_eq!(health(addr).await, Ok(ServingStatus::Serving));
    let g = gtin("0950600013435");
    let sign = |serial: &str| {
        pedigree_core::envelope::sign_payload(
            &fixture.party(MFR).key,
            &pedigree_core::envelope::new_payload(
                &fixture.chain_id,
                MFR,
                body::commission(&g, "L1", "281231", &[serial]),
            ),
        )
    };
    let mut m = ManufacturerServiceClient::new(channel(addr).await.unwrap());
    m.commission(sign("WARM")).await.expect("custody works");

    // The broker stops answering: the next submission is in flight, waiting for its acknowledgement.
    let tansu = pid_of("tansu", broker.port);
    signal_pid(tansu, "STOP");
    let envelope = sign("INFLIGHT");
    let mut in_flight_client = m.clone();
    let in_flight = tokio::spawn(async move {
        let mut request = tonic::Request::new(envelope);
        request.set_timeout(Duration::from_secs(20));
        in_flight_client.commission(request).await
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    custody.signal("TERM");
    let seen = wait_not_serving(addr).await;
    eprintln!("custody health after SIGTERM: {seen}");
    let refused = match channel(addr).await {
        Ok(ch) => ManufacturerServiceClient::new(ch)
            .commission(sign("TOO-LATE"))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    assert!(refused.is_err(), "a new request was served after SIGTERM");
    eprintln!("new request after SIGTERM: {}", refused.unwrap_err());
    signal_pid(tansu, "CONT");
    let answer = in_flight.await.unwrap();
    assert!(
        answer.is_ok(),
        "the in-flight submission failed: {answer:?}\n{}",
        custody.output()
    );
    let status = custody.exit().await;
    assert!(status.success(), "custody exited with {status}\n{}", custody.output());
}

/// verifier: a scan waiting on Redis when SIGTERM arrives completes; afterwards nothing is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifier_drains_on_sigterm() {
    let redis = Redis::start().expect("starting redis");
    // The state before block 1, as a sequencer that read an empty blocks topic leaves it (without it the verifier
    // answers UNAVAILABLE: Redis holds no ledger state).
    pedigree_store::Store::connect(&redis.config_for(RedisUser::Sequencer))
        .await
        .expect("connecting as the sequencer")
        .init_head()
        .await
        .expect("head 0");
    let dir = tempfile::tempdir().unwrap();
    let fixture = Fixture::create(dir.path()).unwrap();
    let (grpc, http) = (free_port(), free_port());
    let mut env = vec![
        ("PEDIGREE_GENESIS", fixture.genesis_path.display().to_string()),
        ("PEDIGREE_VERIFIER_GRPC_ADDR", loopback(grpc).to_string()),
        ("PEDIGREE_VERIFIER_HTTP_ADDR", loopback(http).to_string()),
    ];
    env.extend(redis.config_for(RedisUser::Verifier).to_env());
    let mut verifier = Service::start("pedigree-verifier", &env, grpc);
    let addr = loopback(grpc);
    assert_eq!(health(addr).await, Ok(ServingStatus::Serving));
    let mut v = VerifierServiceClient::new(channel(addr).await.unwrap());
    let code = format!("01{}21PK0001", gtin("0950600013435"));
    let request = || VerifyRequest {
        code: code.clone(),
        ..Default::default()
    };
    assert_eq!(
        v.verify(request()).await.unwrap().into_inner().verdict(),
        Verdict::UnknownProduct
    );

    // Redis pauses (shorter than the client's 500 ms response timeout): the next scan is in flight.
    let redis_pid = pid_of("redis-server", redis.port);
    signal_pid(redis_pid, "STOP");
    let mut in_flight_client = v.clone();
    let in_flight_request = request();
    let in_flight = tokio::spawn(async move { in_flight_client.verify(in_flight_request).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    verifier.signal("TERM");
    tokio::time::sleep(Duration::from_millis(100)).await;
    signal_pid(redis_pid, "CONT");
    let answer = in_flight.await.unwrap();
    assert_eq!(
        answer.expect("the in-flight scan completes").into_inner().verdict(),
        Verdict::UnknownProduct
    );
    let seen = wait_not_serving(addr).await;
    eprintln!("verifier health after SIGTERM: {seen}");
    let refused = match channel(addr).await {
        Ok(ch) => VerifierServiceClient::new(ch)
            .verify(request())
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    assert!(refused.is_err(), "a new scan was served after SIGTERM");
    let status = verifier.exit().await;
    assert!(status.success(), "verifier exited with {status}\n{}", verifier.output());
}

/// sequencer: SIGTERM while events stream in → health NOT_SERVING, exit 0; a restarted sequencer seals every event
/// (nothing lost, nothing twice), and stops cleanly again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequencer_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Fixture::create(dir.path()).unwrap();
    let broker = broker_with_topics().await;
    let redis = Redis::start().expect("starting redis");
    let start = || {
        let port = free_port();
        let mut env = vec![
            ("PEDIGREE_KAFKA_BROKERS", broker.brokers()),
            ("PEDIGREE_EVENTS_TOPIC", EVENTS_TOPIC.into()),
            ("PEDIGREE_BLOCKS_TOPIC", BLOCKS_TOPIC.into()),
            ("PEDIGREE_GENESIS", fixture.genesis_path.display().to_string()),
            (
                "PEDIGREE_SEQUENCER_KEY",
                fixture.sequencer_key_path.display().to_string(),
            ),
            ("PEDIGREE_SEQUENCER_HEALTH_ADDR", loopback(port).to_string()),
            ("PEDIGREE_BATCH_MAX_EVENTS", "10".into()),
        ];
        env.extend(redis.config_for(RedisUser::Sequencer).to_env());
        let service = Service::start("pedigree-sequencer", &env, port);
        (service, loopback(port))
    };
    let producer =
        Producer::new(&ClientSettings::new(broker.brokers()), &ProducerSettings::default()).expect("producer");
    let g = gtin("0950600013435");
    let mut ids = Vec::new();
    // The product first: governance attests the manufacturer's prefix, the manufacturer registers the product.
    let attest = pedigree_core::envelope::sign_payload(
        &fixture.governance,
        &pedigree_core::envelope::new_payload(
            &fixture.chain_id,
            pedigree_core::participant::GOVERNANCE_ID,
            body::attest_prefixes(MFR, &[pedigree_e2e::PREFIX]),
        ),
    );
    let register = pedigree_core::envelope::sign_payload(
        &fixture.party(MFR).key,
        &pedigree_core::envelope::new_payload(
            &fixture.chain_id,
            MFR,
            body::register_product(&g, "Paracetamol 500 mg", "500 mg", "tablet", 20),
        ),
    );
    for envelope in [attest, register] {
        ids.push(pedigree_core::event::event_id(&envelope.payload));
        let bytes = prost::Message::encode_to_vec(&envelope);
        producer
            .send(EVENTS_TOPIC, b"k", &bytes)
            .await
            .expect("producing an event");
    }
    let mut produce = async |from: usize, to: usize| {
        for i in from..to {
            let envelope = pedigree_core::envelope::sign_payload(
                &fixture.party(MFR).key,
                &pedigree_core::envelope::new_payload(
                    &fixture.chain_id,
                    MFR,
                    body::commission(&g, "L1", "281231", &[format!("Q{i:04}")]),
                ),
            );
            ids.push(pedigree_core::event::event_id(&envelope.payload));
            let bytes = prost::Message::encode_to_vec(&envelope);
            producer
                .send(EVENTS_TOPIC, b"k", &bytes)
                .await
                .expect("producing an event");
        }
    };

    let (mut first, addr) = start();
    assert_eq!(health(addr).await, Ok(ServingStatus::Serving));
    produce(0, 60).await;
    first.signal("TERM");
    let seen = wait_not_serving(addr).await;
    eprintln!("sequencer health after SIGTERM: {seen}");
    let status = first.exit().await;
    assert!(status.success(), "sequencer exited with {status}\n{}", first.output());

    let (mut second, addr) = start();
    produce(60, 80).await;
    let store = pedigree_store::Store::connect(&redis.config_for(RedisUser::Sequencer))
        .await
        .unwrap();
    let started = Instant::now();
    for id in &ids {
        while store.event_outcome(id).await.unwrap().is_none() {
            assert!(started.elapsed() < Duration::from_secs(60), "an event was never sealed");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let mut sealed = 0;
    for h in 1..=store.head().await.unwrap() {
        sealed += store.block(h).await.unwrap().expect("block in redis").events.len();
    }
    assert_eq!(sealed, ids.len(), "every event sealed exactly once");
    second.signal("TERM");
    wait_not_serving(addr).await;
    let status = second.exit().await;
    assert!(status.success(), "sequencer exited with {status}\n{}", second.output());
}
