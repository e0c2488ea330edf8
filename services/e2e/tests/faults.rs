//! Faults a real deployment meets, on real servers: Redis killed and restarted empty, the broker killed and
//! restarted, the broker paused past custody's delivery timeout, forged copies of genuine envelopes on the events
//! topic, blocks that would exceed Kafka's record limit, and a blocks topic that would lose blocks. Nothing
//! acknowledged is lost or sealed twice, no scan is answered from missing state, and the services stay up.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use pedigree_core::gs1::gtin_check_digit;
use pedigree_core::pb::{EventState, RejectCode, SignedEnvelope, Verdict, VerifyRequest};
use pedigree_devstack::signal;
use pedigree_e2e::{BLOCKS_TOPIC, Stack, body};
use pedigree_kafka::{TopicSpec, ensure_topics};
use prost::Message;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const MFR: &str = "acme-pharma";

fn gtin(prefix13: &str) -> String {
    format!("{prefix13}{}", gtin_check_digit(prefix13).expect("13 digits"))
}

/// `n` serials of 20 characters (the longest AI 21 allows), so that sizes are predictable.
fn serials(prefix: &str, n: usize) -> Vec<String> {
    let width = 20 - prefix.len();
    (0..n).map(|i| format!("{prefix}{i:0>width$}")).collect()
}

/// An anonymous scan over gRPC: a verdict, or the status it failed with.
async fn scan(stack: &Stack, g: &str, serial: &str) -> Result<Verdict, tonic::Status> {
    let mut verifier = stack.verifier().await;
    let request = VerifyRequest {
        code: format!("01{g}21{serial}"),
        include_proof: false,
    };
    let answer = verifier.verify(request).await?.into_inner();
    Ok(answer.verdict())
}

/// Submits `envelope` until custody acknowledges it: the same envelope again after UNAVAILABLE or an unknown outcome,
/// as a client should (it is the same event).
async fn submit_until_acknowledged(stack: &Stack, envelope: &SignedEnvelope) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match stack.submit(envelope.clone()).await {
            Ok(response) => return response.event_id,
            Err(s) if matches!(s.code(), Code::Unavailable | Code::DeadlineExceeded | Code::Unknown) => {
                assert!(Instant::now() < deadline, "custody never acknowledged: {s:?}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(s) => panic!("refused: {s:?}"),
        }
    }
}

/// How many times each event id was sealed (accepted) in the chain.
async fn sealed_counts(stack: &Stack) -> HashMap<Vec<u8>, usize> {
    let mut counts = HashMap::new();
    for id in stack.sealed_ids().await {
        *counts.entry(id).or_default() += 1;
    }
    counts
}

/// Every block of the blocks topic, as bytes.
async fn blocks_in_topic(stack: &Stack) -> Vec<Vec<u8>> {
    let kafka = stack.kafka();
    tokio::task::spawn_blocking(move || {
        let mut blocks = Vec::new();
        pedigree_kafka::read_range(&kafka, BLOCKS_TOPIC, 0, 0, |_, payload| {
            blocks.push(payload.to_vec());
            Ok(())
        })
        .expect("reading the blocks topic");
        blocks
    })
    .await
    .expect("reader")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_is_survived_and_no_scan_is_answered_from_an_empty_redis() {
    let mut stack = Stack::spawn().await;
    let g = gtin("0950600013435");
    stack.product(MFR, &g).await;
    let packs = serials("RR", 3);
    let id = stack
        .submit_as(MFR, body::commission(&g, "L1", "281231", &packs))
        .await
        .unwrap()
        .event_id;
    assert_eq!(stack.outcome(&id).await.state(), EventState::Committed);
    assert_eq!(scan(&stack, &g, &packs[0]).await.unwrap(), Verdict::Verified);
    let http = stack.http_client();
    let ready = |http: reqwest::Client, url: String| async move {
        http.get(url).send().await.map(|r| r.status().as_u16()).unwrap_or(0)
    };
    assert_eq!(ready(http.clone(), stack.http_url("/readyz")).await, 200);

    // Killed: scans fail (UNAVAILABLE), never "unknown".
    stack.redis.kill();
    let down = scan(&stack, &g, &packs[0]).await.expect_err("no answer without redis");
    assert_eq!(down.code(), Code::Unavailable, "{down:?}");

    // Back, empty: every answer is UNAVAILABLE until the sequencer has replayed the chain, then VERIFIED.
    stack.redis.start_again().unwrap();
    let (mut unavailable, mut not_ready) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if ready(http.clone(), stack.http_url("/readyz")).await == 503 {
            not_ready += 1;
        }
        match scan(&stack, &g, &packs[1]).await {
            Ok(Verdict::Verified) => break,
            Ok(other) => panic!("a genuine pack answered {other:?} while redis was rebuilt"),
            Err(s) => {
                assert_eq!(s.code(), Code::Unavailable, "{s:?}");
                unavailable += 1;
            }
        }
        assert!(
            Instant::now() < deadline,
            "never verified again ({unavailable} unavailable answers)"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("while redis was rebuilt: {unavailable} scans answered UNAVAILABLE, readyz 503 {not_ready} times");
    assert_eq!(ready(http.clone(), stack.http_url("/readyz")).await, 200);
    assert!(!stack.sequencer_stopped(), "the sequencer exited on a redis restart");

    // The ledger goes on: a new event is sealed, the old packs are known, the chain audits clean.
    let more = serials("RS", 2);
    let id = submit_until_acknowledged(&stack, &stack.sign(MFR, body::commission(&g, "L1", "281231", &more))).await;
    assert_eq!(stack.outcome(&id).await.state(), EventState::Committed);
    for serial in packs.iter().chain(&more) {
        assert_eq!(scan(&stack, &g, serial).await.unwrap(), Verdict::Verified, "{serial}");
    }
    assert!(sealed_counts(&stack).await.values().all(|&n| n == 1));
    stack.audit().await.expect("the chain audits clean");
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restart_is_survived_without_losing_or_repeating_events() {
    let mut stack = Stack::spawn_bare_on(200, true).await;
    stack.start_sequencer().await;
    let g = gtin("0950600013442");
    stack.product(MFR, &g).await;
    let mut ids = Vec::new();
    for i in 0..30 {
        if i == 10 {
            stack.broker.restart().expect("restarting the broker");
        }
        let envelope = stack.sign(MFR, body::commission(&g, "L1", "281231", &[format!("BR{i:05}")]));
        ids.push(submit_until_acknowledged(&stack, &envelope).await);
    }
    for id in &ids {
        assert_eq!(stack.outcome(id).await.state(), EventState::Committed);
    }
    let counts = sealed_counts(&stack).await;
    for id in &ids {
        assert_eq!(counts.get(id), Some(&1), "every acknowledged event sealed exactly once");
    }
    assert!(!stack.sequencer_stopped(), "the sequencer exited on a broker restart");
    stack.audit().await.expect("the chain audits clean");
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custody_tells_an_unknown_outcome_and_the_same_envelope_is_safe_to_send_again() {
    let stack = Stack::spawn().await;
    let g = gtin("0950600013459");
    stack.product(MFR, &g).await;
    let envelope = stack.sign(MFR, body::commission(&g, "L1", "281231", &["UO0001"]));
    // The broker hangs past custody's delivery timeout (3 s in the test stack).
    signal(stack.broker.pid(), "STOP").unwrap();
    let answer = stack.submit(envelope.clone()).await;
    signal(stack.broker.pid(), "CONT").unwrap();
    let status = answer.expect_err("no acknowledgement from a paused broker");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    let id = pedigree_core::event::event_id(&envelope.payload);
    assert!(
        status.message().starts_with("outcome unknown") && status.message().contains(&hex::encode(id)),
        "{}",
        status.message()
    );
    // Sent again (and again): one event, sealed once.
    let again = submit_until_acknowledged(&stack, &envelope).await;
    assert_eq!(again, id.to_vec());
    let twice = submit_until_acknowledged(&stack, &envelope).await;
    assert_eq!(twice, id.to_vec());
    assert_eq!(stack.outcome(&id).await.state(), EventState::Committed);
    // A later event seals after the repeats, so they were all read.
    let later = stack
        .submit_as(MFR, body::commission(&g, "L1", "281231", &["UO0002"]))
        .await
        .unwrap();
    assert_eq!(stack.outcome(&later.event_id).await.state(), EventState::Committed);
    assert_eq!(sealed_counts(&stack).await.get(id.as_slice()), Some(&1));
    stack.audit().await.expect("the chain audits clean");
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_copies_on_the_topic_never_decide_the_genuine_event() {
    let stack = Stack::spawn().await;
    let g = gtin("0950600013466");
    stack.product(MFR, &g).await;
    let genuine = stack.sign(MFR, body::commission(&g, "L1", "281231", &["FC0001"]));
    let id = pedigree_core::event::event_id(&genuine.payload);
    // Someone with write access to the events topic wraps the genuine payload before it arrives: a garbage
    // signature, an unknown signer, another participant as signer.
    let mut bad_signature = genuine.clone();
    bad_signature.signature = vec![7; genuine.signature.len()];
    let mut unknown_signer = genuine.clone();
    unknown_signer.signer = "nobody-at-all".into();
    let mut other_signer = genuine.clone();
    other_signer.signer = "medline-wholesale".into();
    for forged in [&bad_signature, &unknown_signer, &other_signer] {
        stack.append_unchecked(forged).await;
    }
    // A marker event sealed after them shows they were judged.
    let marker = stack
        .submit_as(MFR, body::commission(&g, "L1", "281231", &["FC0002"]))
        .await
        .unwrap();
    assert_eq!(stack.outcome(&marker.event_id).await.state(), EventState::Committed);
    let mut ledger = stack.ledger().await;
    let before = ledger
        .get_event_status(pedigree_core::pb::GetEventStatusRequest { event_id: id.to_vec() })
        .await;
    assert_eq!(before.expect_err("not decided").code(), Code::NotFound);
    // The genuine envelope then arrives and is sealed.
    let answer = stack.submit(genuine.clone()).await.unwrap();
    assert_eq!(answer.event_id, id.to_vec());
    assert_eq!(stack.outcome(&id).await.state(), EventState::Committed);
    // The three forgeries were rejected, each under the hash of its own envelope.
    let mut rejected = Vec::new();
    for bytes in blocks_in_topic(&stack).await {
        let block = pedigree_core::pb::Block::decode(bytes.as_slice()).unwrap();
        rejected.extend(block.rejected);
    }
    for (forged, code) in [
        (&bad_signature, RejectCode::BadSignature),
        (&unknown_signer, RejectCode::UnknownSigner),
        (&other_signer, RejectCode::BadSignature),
    ] {
        let expected = pedigree_core::keys::sha256(&forged.encode_to_vec());
        let found = rejected
            .iter()
            .find(|r| r.event_id == expected)
            .unwrap_or_else(|| panic!("no rejection under the forged envelope's hash ({code:?})"));
        assert_eq!(found.code(), code);
    }
    assert!(
        rejected.iter().all(|r| r.event_id != id.to_vec()),
        "a forgery decided the genuine id"
    );
    stack.audit().await.expect("the chain audits clean");
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_stay_under_the_size_limit_and_what_cannot_fit_is_refused() {
    const LIMIT: usize = 200_000;
    let stack = Stack::spawn_bare(2000).await;
    let g = gtin("0950600013473");
    stack.product_in_topic(MFR, &g).await;
    // Custody with a smaller limit refuses an envelope that cannot fit in a block, naming the limit.
    let mut small = stack.custody_config();
    small.block_max_bytes = 100_000;
    let custody = pedigree_custody::App::build(small).await.unwrap();
    let addr = custody.addr();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(custody.run_until(async move {
        let _ = rx.await;
    }));
    let huge = stack.sign(MFR, body::commission(&g, "L1", "281231", &serials("HUGE", 9000)));
    assert!(huge.encoded_len() > 100_000);
    let mut client =
        pedigree_core::pb::manufacturer_service_client::ManufacturerServiceClient::new(stack.channel(addr).await);
    let refused = client
        .commission(huge.clone())
        .await
        .expect_err("too large for a block");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("cannot fit in a block"),
        "{}",
        refused.message()
    );
    let _ = tx.send(());
    running.await.unwrap().unwrap();

    // Five commissions of 3,000 packs (about 70 kB each) wait in the topic, with one envelope appended past custody
    // (9,000 packs, about 200 kB); a sequencer with a 200,000-byte limit seals them as several blocks, each under it.
    let mut ids = Vec::new();
    for i in 0..5 {
        let body = body::commission(&g, "L1", "281231", &serials(&format!("B{i}"), 3000));
        ids.push(stack.submit_as(MFR, body).await.unwrap().event_id);
    }
    let oversized = stack.sign(MFR, body::commission(&g, "L1", "281231", &serials("OVER", 9000)));
    assert!(oversized.encoded_len() > pedigree_core::block_size::max_envelope_bytes(LIMIT));
    stack.append_unchecked(&oversized).await;
    let mut config = stack.sequencer_config();
    config.block_max_bytes = LIMIT as u64;
    let sequencer = stack.sequencer_with(config).await;
    for id in &ids {
        assert_eq!(stack.outcome(id).await.state(), EventState::Committed);
    }
    let marker = stack
        .submit_as(MFR, body::commission(&g, "L1", "281231", &["MARK"]))
        .await
        .unwrap();
    assert_eq!(stack.outcome(&marker.event_id).await.state(), EventState::Committed);
    let blocks = blocks_in_topic(&stack).await;
    let sizes: Vec<usize> = blocks.iter().map(Vec::len).collect();
    println!("block sizes: {sizes:?}");
    assert!(sizes.iter().all(|&s| s <= LIMIT), "a block above the limit: {sizes:?}");
    let holding: usize = blocks
        .iter()
        .filter(|b| {
            !pedigree_core::pb::Block::decode(b.as_slice())
                .unwrap()
                .events
                .is_empty()
        })
        .count();
    assert!(
        holding >= 3,
        "the 5 commissions fit in {holding} blocks of at most {LIMIT} bytes?"
    );
    // The oversized envelope was refused without its bytes entering a block.
    let oversized_id = pedigree_core::keys::sha256(&oversized.encode_to_vec());
    let rejection = blocks
        .iter()
        .flat_map(|b| pedigree_core::pb::Block::decode(b.as_slice()).unwrap().rejected)
        .find(|r| r.event_id == oversized_id)
        .expect("the oversized envelope is rejected");
    assert_eq!(rejection.code(), RejectCode::Malformed);
    assert!(
        rejection.reason.contains("cannot fit in a block"),
        "{}",
        rejection.reason
    );
    stack.audit().await.expect("the chain audits clean");
    sequencer.stop().await.unwrap();
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sequencer_refuses_a_blocks_topic_that_would_lose_blocks() {
    for (configs, expected) in [
        (vec![("retention.ms", "604800000")], "retention.ms is 604800000"),
        (
            vec![
                ("retention.ms", "-1"),
                ("retention.bytes", "-1"),
                ("cleanup.policy", "compact"),
            ],
            "never be compacted",
        ),
        (vec![("retention.ms", "-1")], "retention.bytes is the broker's default"),
    ] {
        let stack = Stack::spawn_bare(200).await;
        let spec = TopicSpec {
            name: BLOCKS_TOPIC.into(),
            partitions: 1,
            replication: 1,
            configs: configs.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        };
        ensure_topics(&stack.kafka(), &[spec]).await.unwrap();
        let refused = pedigree_sequencer::App::build(stack.sequencer_config())
            .await
            .err()
            .expect("a blocks topic that loses blocks is refused");
        let message = format!("{refused:#}");
        assert!(message.contains(expected), "{message}");
        stack.shutdown().await;
    }
    // Created by the sequencer itself, the topic passes the same check.
    let mut stack = Stack::spawn().await;
    stack.stop_sequencer().await;
    stack.start_sequencer().await;
    stack.shutdown().await;
}

/// The sequencer's health as its liveness probe asks it (the service name, over TLS).
async fn sequencer_health(stack: &Stack, addr: std::net::SocketAddr) -> Option<ServingStatus> {
    let channel = stack.client_tls().endpoint(&format!("https://{addr}")).ok()?;
    let channel = channel.timeout(Duration::from_secs(2)).connect().await.ok()?;
    let request = HealthCheckRequest {
        service: "pedigree.v1.Sequencer".into(),
    };
    Some(
        HealthClient::new(channel)
            .check(request)
            .await
            .ok()?
            .into_inner()
            .status(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wedged_sealing_loop_turns_the_sequencer_not_serving_until_it_moves_again() {
    let stack = Stack::spawn_bare(200).await;
    let mut config = stack.sequencer_config();
    config.stall_secs = 2;
    let sequencer = stack.sequencer_with(config).await;
    let g = gtin("0950600013480");
    stack.product(MFR, &g).await;
    let first = stack
        .submit_as(MFR, body::commission(&g, "L1", "281231", &["WS0001"]))
        .await
        .unwrap();
    assert_eq!(stack.outcome(&first.event_id).await.state(), EventState::Committed);
    assert_eq!(
        sequencer_health(&stack, sequencer.health).await,
        Some(ServingStatus::Serving)
    );
    // Idle for longer than the stall limit is not a stall.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        sequencer_health(&stack, sequencer.health).await,
        Some(ServingStatus::Serving)
    );

    // Redis hangs while an event waits: the loop is busy and cannot move.
    signal(stack.redis.pid(), "STOP").unwrap();
    let waiting = stack.sign(MFR, body::commission(&g, "L1", "281231", &["WS0002"]));
    stack.append_unchecked(&waiting).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = None;
    while Instant::now() < deadline {
        seen = sequencer_health(&stack, sequencer.health).await;
        if seen == Some(ServingStatus::NotServing) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    signal(stack.redis.pid(), "CONT").unwrap();
    assert_eq!(
        seen,
        Some(ServingStatus::NotServing),
        "a wedged loop still reported SERVING"
    );

    // Redis answers again: the event is sealed and health comes back, without a restart.
    let id = pedigree_core::event::event_id(&waiting.payload);
    assert_eq!(stack.outcome(&id).await.state(), EventState::Committed);
    let deadline = Instant::now() + Duration::from_secs(20);
    while sequencer_health(&stack, sequencer.health).await != Some(ServingStatus::Serving) {
        assert!(Instant::now() < deadline, "health never came back");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(!sequencer.is_finished(), "the sequencer exited");
    sequencer.stop().await.unwrap();
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_leader_resumes_from_redis_and_distrusts_a_checkpoint_that_does_not_check_out() {
    let mut stack = Stack::spawn_with(1).await;
    let g = gtin("0950600013497");
    stack.product(MFR, &g).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let body = body::commission(&g, "L1", "281231", &[format!("CP{i:04}")]);
        ids.push(stack.submit_as(MFR, body).await.unwrap().event_id);
        assert_eq!(stack.outcome(ids.last().unwrap()).await.state(), EventState::Committed);
    }
    // Killed and started again: it resumes from Redis' head block and goes on sealing on the same chain.
    stack.kill_sequencer().await;
    stack.start_sequencer().await;
    let next = stack
        .submit_as(MFR, body::commission(&g, "L1", "281231", &["CP9000"]))
        .await
        .unwrap();
    assert_eq!(stack.outcome(&next.event_id).await.state(), EventState::Committed);
    stack.audit().await.expect("the chain audits clean");

    // Redis names the wrong offset for its head block (as a bad restore, or someone with write access, could):
    // the block there is not Redis' head, so the checkpoint is refused and the topic is folded from the start.
    stack.stop_sequencer().await;
    let client = stack.redis.admin_config().client().unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("SET").arg("o").arg(0).query_async(&mut con).await.unwrap();
    stack.start_sequencer().await;
    let last = stack
        .submit_as(MFR, body::commission(&g, "L1", "281231", &["CP9001"]))
        .await
        .unwrap();
    assert_eq!(stack.outcome(&last.event_id).await.state(), EventState::Committed);
    let counts = sealed_counts(&stack).await;
    // The product's attestation and registration, and the commissions.
    assert_eq!(counts.len(), 10);
    assert!(counts.values().all(|&n| n == 1));
    stack.audit().await.expect("the chain audits clean");
    stack.shutdown().await;
}

/// Under load, with blocks so small that many batches end on a message left for the next block: every acknowledged
/// event is sealed, exactly once. (A batch topped up after it had left a message once took later messages and
/// dropped the one it left: acknowledged events never sealed, and the packs after them refused.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_left_for_the_next_block_is_never_skipped() {
    let stack = std::sync::Arc::new(Stack::spawn_bare(2000).await);
    let mut config = stack.sequencer_config();
    config.block_max_bytes = 65_536;
    let _sequencer = stack.sequencer_with(config).await;
    let g = gtin("0950600013480");
    stack.product(MFR, &g).await;
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..16 {
        let (stack, g) = (stack.clone(), g.clone());
        tasks.spawn(async move {
            let mut ids = Vec::new();
            for i in 0..20 {
                // About 3.5 kB each: some 17 fit in a block.
                let body = body::commission(&g, "L1", "281231", &serials(&format!("K{t}X{i}Y"), 150));
                ids.push(submit_until_acknowledged(&stack, &stack.sign(MFR, body)).await);
            }
            ids
        });
    }
    let mut ids = Vec::new();
    while let Some(done) = tasks.join_next().await {
        ids.extend(done.expect("submitter"));
    }
    for id in &ids {
        assert_eq!(stack.outcome(id).await.state(), EventState::Committed);
    }
    let counts = sealed_counts(&stack).await;
    assert!(
        ids.iter().all(|id| counts.get(id) == Some(&1)),
        "every event sealed exactly once"
    );
    let blocks = blocks_in_topic(&stack).await;
    assert!(
        blocks.len() >= 320 / 17,
        "{} blocks for 320 events of 3.5 kB",
        blocks.len()
    );
}
