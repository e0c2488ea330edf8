//! The whole pipeline on a real tansu broker and a real redis-server: ERP → custody → Kafka → sequencer → blocks →
//! Redis → verifier.

use std::collections::HashSet;

use pedigree_core::custody_rpc::Rpc;
use pedigree_core::gs1::{GS, gtin_check_digit};
use pedigree_core::kind::EventKind;
use pedigree_core::pb::{EventState, PackStatus, RejectCode, Verdict, VerifyRequest};
use pedigree_e2e::{Stack, body};
use tonic::Code;

fn gtin(prefix13: &str) -> String {
    format!("{prefix13}{}", gtin_check_digit(prefix13).expect("13 digits"))
}

const MFR: &str = "acme-pharma";
const WHOLESALE: &str = "medline-wholesale";
const OTHER_WHOLESALE: &str = "north-wholesale";
const PHARMACY: &str = "city-pharmacy";
const OTHER_PHARMACY: &str = "harbour-pharmacy";

/// Commission → ship → receive → ship → receive → dispense, and the four scans of the demo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_scenario_end_to_end() {
    let stack = Stack::spawn().await;
    let g = gtin("0950600013435");
    stack.product(MFR, &g).await;
    let serials = ["PK0001", "PK0002", "PK0003"];
    let mut ids = Vec::new();
    let mut m = stack.manufacturer().await;
    let mut d = stack.distributor().await;
    let mut p = stack.pharmacy().await;
    let e = stack.sign(MFR, body::commission(&g, "LOT42A", "281231", &serials));
    ids.push(m.commission(e).await.unwrap().into_inner().event_id);
    ids.push(
        m.ship(stack.sign(MFR, body::ship(&g, &serials, WHOLESALE)))
            .await
            .unwrap()
            .into_inner()
            .event_id,
    );
    ids.push(
        d.receive(stack.sign(WHOLESALE, body::receive(&g, &serials, MFR)))
            .await
            .unwrap()
            .into_inner()
            .event_id,
    );
    ids.push(
        d.ship(stack.sign(WHOLESALE, body::ship(&g, &serials[..2], PHARMACY)))
            .await
            .unwrap()
            .into_inner()
            .event_id,
    );
    ids.push(
        p.receive(stack.sign(PHARMACY, body::receive(&g, &serials[..2], WHOLESALE)))
            .await
            .unwrap()
            .into_inner()
            .event_id,
    );
    ids.push(
        p.dispense(stack.sign(PHARMACY, body::dispense(&g, &serials[..1])))
            .await
            .unwrap()
            .into_inner()
            .event_id,
    );
    for id in &ids {
        let status = stack.outcome(id).await;
        assert_eq!(
            status.state(),
            EventState::Committed,
            "event rejected: {}",
            status.reason
        );
    }

    // In stock at the pharmacy, over HTTP, as a DataMatrix element string with the ]d2 prefix, asked by the
    // pharmacy itself (anonymous answers name no holder: tests/access.rs).
    let http = stack.http_client();
    let url = stack.http_url("/v1/verify");
    let code = format!("]d201{g}17281231{GS}10LOT42A{GS}21PK0002");
    let token = stack.sign_in(PHARMACY).await;
    let answer: serde_json::Value = http
        .get(&url)
        .bearer_auth(&token)
        .query(&[("code", code)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["verdict"], "VERIFIED");
    assert_eq!(answer["status"], "ACTIVE");
    assert_eq!(answer["holder"], PHARMACY);
    assert_eq!(answer["lot"], "LOT42A");
    assert!(answer["height"].as_u64().unwrap() >= 1);

    // The dispensed one, over gRPC, bracketed.
    let mut v = stack.verifier().await;
    let code = format!("(01){g}(17)281231(10)LOT42A(21)PK0001");
    let r = v
        .verify(VerifyRequest {
            code,
            include_proof: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.verdict(), Verdict::Dispensed);
    assert_eq!(r.status(), PackStatus::Dispensed);

    // Still at the wholesaler: genuine, held by the wholesaler (as the wholesaler sees it).
    let code = format!("01{g}21PK0003");
    let r = stack
        .verifier_as(WHOLESALE)
        .await
        .verify(VerifyRequest {
            code,
            include_proof: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((r.verdict(), r.holder.as_str()), (Verdict::Verified, WHOLESALE));

    // Unknown serial via the Digital Link path; wrong lot via the query string.
    let dl = stack.http_url(&format!("/01/{g}/21/NOPE99?17=281231"));
    let answer: serde_json::Value = http.get(&dl).send().await.unwrap().json().await.unwrap();
    assert_eq!(answer["verdict"], "UNKNOWN_SERIAL");
    let dl = stack.http_url(&format!("/01/{g}/21/PK0002?10=LOT999&17=281231"));
    let answer: serde_json::Value = http.get(&dl).send().await.unwrap().json().await.unwrap();
    assert_eq!(answer["verdict"], "LOT_MISMATCH");

    // Expiry mismatch and unknown product.
    let code = format!("01{g}17281130{GS}21PK0002");
    assert_eq!(
        v.verify(VerifyRequest {
            code,
            include_proof: false
        })
        .await
        .unwrap()
        .into_inner()
        .verdict(),
        Verdict::ExpiryMismatch
    );
    let code = format!("01{}21PK0002", gtin("0400000000001"));
    assert_eq!(
        v.verify(VerifyRequest {
            code,
            include_proof: false
        })
        .await
        .unwrap()
        .into_inner()
        .verdict(),
        Verdict::UnknownProduct
    );
    stack.shutdown().await;
}

/// Packs commissioned with a past expiry are genuine but expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_pack_is_reported() {
    let stack = Stack::spawn().await;
    let g = gtin("0950600099990");
    stack.product(MFR, &g).await;
    let e = stack.sign(MFR, body::commission(&g, "OLD1", "200100", &["X1"]));
    let id = stack
        .manufacturer()
        .await
        .commission(e)
        .await
        .unwrap()
        .into_inner()
        .event_id;
    assert_eq!(stack.outcome(&id).await.state(), EventState::Committed);
    let code = format!("01{g}21X1");
    let r = stack
        .verifier()
        .await
        .verify(VerifyRequest {
            code,
            include_proof: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.verdict(), Verdict::Expired);
    stack.shutdown().await;
}

/// Refusals decided at the gate get the right gRPC status, and nothing reaches the events topic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custody_refuses_bad_envelopes_and_writes_nothing() {
    let stack = Stack::spawn().await;
    let g = gtin("0950600013435");
    let mut m = stack.manufacturer().await;
    let mut p = stack.pharmacy().await;
    let ok = || body::commission(&g, "L1", "281231", &["S1"]);

    let mut forged = stack.sign(MFR, ok());
    forged.signature[10] ^= 1;
    let err = m.commission(forged).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{}", err.message());

    let mut stranger = stack.sign(MFR, ok());
    stranger.signer = "mallory".into();
    let err = m.commission(stranger).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(err.message().contains("unknown signer 'mallory'"), "{}", err.message());

    let err = m.commission(stack.sign(PHARMACY, ok())).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    assert!(err.message().contains("may not sign commission"), "{}", err.message());
    let err = p
        .dispense(stack.sign(WHOLESALE, body::dispense(&g, &["S1"])))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    let bad_gtin = format!("{}{}", &g[..13], (g.as_bytes()[13] - b'0' + 1) % 10);
    let err = m
        .commission(stack.sign(MFR, body::commission(&bad_gtin, "L1", "281231", &["S1"])))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().starts_with("gtin: check digit"), "{}", err.message());

    let err = m
        .commission(stack.sign(MFR, body::commission(&g, "L1", "281331", &["S1"])))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().starts_with("expiry: month 13"), "{}", err.message());

    let err = m
        .commission(stack.sign(MFR, body::commission(&g, "L1", "280431", &["S1"])))
        .await
        .unwrap_err();
    assert!(err.message().contains("day 31"), "{}", err.message());

    let err = m
        .commission(stack.sign(MFR, body::commission(&g, "L1", "281231", &["BAD#"])))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().starts_with("serials[0]: "), "{}", err.message());

    let err = m.ship(stack.sign(MFR, ok())).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("takes ship events"), "{}", err.message());

    assert_eq!(
        stack.events_in_topic().await,
        0,
        "a refused envelope reached the events topic"
    );
    stack.shutdown().await;
}

/// Every custody RPC takes the kind of event the shared table says (custody serves it from that table, clients
/// call it from it): a commission is taken by the commission RPC and refused by each of the others, naming its kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_custody_rpc_takes_the_kind_the_table_names() {
    let stack = Stack::spawn_bare(200).await;
    let g = gtin("0950600013435");
    for rpc in Rpc::ALL.iter().copied() {
        let commission = stack.sign(MFR, body::commission(&g, "L1", "281231", &["K1"]));
        let answer = rpc.call(stack.custody_channel().await, commission).await;
        if rpc.kind() == EventKind::Commission {
            answer.unwrap_or_else(|e| panic!("{rpc:?} refused a commission: {}", e.message()));
        } else {
            let err = answer.expect_err("a commission sent to another kind's rpc");
            assert_eq!(err.code(), Code::InvalidArgument, "{rpc:?}: {}", err.message());
            let expected = format!("takes {} events", rpc.kind().as_str());
            assert!(err.message().contains(&expected), "{rpc:?}: {}", err.message());
        }
    }
    stack.shutdown().await;
}

/// Custody rules the sequencer enforces: each refusal is recorded with its reason and moves no pack.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequencer_refuses_rule_breaking_events_without_changing_state() {
    let stack = Stack::spawn().await;
    let g = gtin("0950600013435");
    stack.product(MFR, &g).await;
    let mut m = stack.manufacturer().await;
    let mut d = stack.distributor().await;
    let mut p = stack.pharmacy().await;
    let s = &stack;
    let commit = |id: Vec<u8>| async move { s.outcome(&id).await };
    let e = stack.sign(MFR, body::commission(&g, "L7", "281231", &["A1", "A2", "A3"]));
    assert_eq!(
        commit(m.commission(e).await.unwrap().into_inner().event_id)
            .await
            .state(),
        EventState::Committed
    );
    let e = stack.sign(MFR, body::ship(&g, &["A1", "A2"], WHOLESALE));
    assert_eq!(
        commit(m.ship(e).await.unwrap().into_inner().event_id).await.state(),
        EventState::Committed
    );
    let before = snapshot(&stack, &g, &["A1", "A2", "A3"]).await;

    let cases = [
        // The other wholesaler ships packs it does not hold.
        (
            d.ship(stack.sign(OTHER_WHOLESALE, body::ship(&g, &["A3"], PHARMACY)))
                .await,
            RejectCode::NotHolder,
        ),
        // A party that is not the named receiver receives.
        (
            d.receive(stack.sign(OTHER_WHOLESALE, body::receive(&g, &["A1"], MFR)))
                .await,
            RejectCode::WrongReceiver,
        ),
        // A serial that exists is commissioned again (together with a new one: the whole event is refused).
        (
            m.commission(stack.sign(MFR, body::commission(&g, "L7", "281231", &["A9", "A3"])))
                .await,
            RejectCode::PackExists,
        ),
        // A pharmacy dispenses a pack it does not hold.
        (
            p.dispense(stack.sign(PHARMACY, body::dispense(&g, &["A1"]))).await,
            RejectCode::NotHolder,
        ),
    ];
    for (response, code) in cases {
        let status = stack.outcome(&response.unwrap().into_inner().event_id).await;
        assert_eq!(status.state(), EventState::Rejected);
        assert_eq!(status.reject_code(), code, "{}", status.reason);
        assert!(!status.reason.is_empty());
    }
    assert_eq!(snapshot(&stack, &g, &["A1", "A2", "A3"]).await, before);
    let code = format!("01{g}21A9");
    let r = stack
        .verifier()
        .await
        .verify(VerifyRequest {
            code,
            include_proof: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        r.verdict(),
        Verdict::UnknownSerial,
        "a refused commission created a pack"
    );

    // Double dispense: the second is refused and the pack stays dispensed by the first.
    let e = stack.sign(WHOLESALE, body::receive(&g, &["A1"], MFR));
    assert_eq!(
        commit(d.receive(e).await.unwrap().into_inner().event_id).await.state(),
        EventState::Committed
    );
    let e = stack.sign(WHOLESALE, body::ship(&g, &["A1"], PHARMACY));
    assert_eq!(
        commit(d.ship(e).await.unwrap().into_inner().event_id).await.state(),
        EventState::Committed
    );
    let e = stack.sign(PHARMACY, body::receive(&g, &["A1"], WHOLESALE));
    assert_eq!(
        commit(p.receive(e).await.unwrap().into_inner().event_id).await.state(),
        EventState::Committed
    );
    let e = stack.sign(PHARMACY, body::dispense(&g, &["A1"]));
    assert_eq!(
        commit(p.dispense(e).await.unwrap().into_inner().event_id).await.state(),
        EventState::Committed
    );
    let dispensed = snapshot(&stack, &g, &["A1"]).await;
    let again = stack.sign(PHARMACY, body::dispense(&g, &["A1"]));
    let status = commit(p.dispense(again).await.unwrap().into_inner().event_id).await;
    // The same pharmacy scanning and dispensing twice is told so, as EMVS does; anyone else gets a hard refusal.
    assert_eq!(status.reject_code(), RejectCode::AlreadyDispensedByYou);
    let e = stack.sign(OTHER_PHARMACY, body::dispense(&g, &["A1"]));
    assert_eq!(
        commit(p.dispense(e).await.unwrap().into_inner().event_id)
            .await
            .reject_code(),
        RejectCode::AlreadyDispensed
    );
    assert_eq!(snapshot(&stack, &g, &["A1"]).await, dispensed);
    stack.shutdown().await;
}

async fn snapshot(stack: &Stack, g: &str, serials: &[&str]) -> Vec<(i32, String, i32, u64)> {
    let mut v = stack.verifier().await;
    let mut out = Vec::new();
    for s in serials {
        let r = v
            .verify(VerifyRequest {
                code: format!("01{g}21{s}"),
                include_proof: false,
            })
            .await
            .unwrap()
            .into_inner();
        out.push((r.verdict, r.holder, r.status, r.height));
    }
    out
}

/// The same signed envelope sent twice is one event, sealed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_envelope_twice_is_one_event() {
    let stack = Stack::spawn().await;
    let g = gtin("0950600013435");
    stack.product(MFR, &g).await;
    let mut m = stack.manufacturer().await;
    let e = stack.sign(MFR, body::commission(&g, "L1", "281231", &["D1"]));
    let first = m.commission(e.clone()).await.unwrap().into_inner().event_id;
    let second = m.commission(e.clone()).await.unwrap().into_inner().event_id;
    assert_eq!(first, second);
    assert_eq!(stack.outcome(&first).await.state(), EventState::Committed);
    // Sent again after it was sealed: still one event, still committed.
    m.commission(e).await.unwrap();
    let marker = m
        .commission(stack.sign(MFR, body::commission(&g, "L1", "281231", &["D2"])))
        .await
        .unwrap();
    stack.outcome(&marker.into_inner().event_id).await;
    let ids = stack.sealed_ids().await;
    assert_eq!(ids.iter().filter(|id| **id == first).count(), 1);
    assert_eq!(stack.outcome(&first).await.state(), EventState::Committed);
    stack.shutdown().await;
}

/// Killing the sequencer in the middle of a stream loses no event and applies none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequencer_crash_and_restart_loses_nothing_and_duplicates_nothing() {
    let mut stack = Stack::spawn_with(25).await;
    let g = gtin("0950600013435");
    stack.product(MFR, &g).await;
    let mut m = stack.manufacturer().await;
    let mut acked = Vec::new();
    for round in 0..6 {
        for i in 0..40 {
            let serial = format!("R{round}N{i}");
            let e = stack.sign(MFR, body::commission(&g, "L1", "281231", &[serial]));
            acked.push(m.commission(e).await.unwrap().into_inner().event_id);
        }
        match round {
            1 | 3 => stack.kill_sequencer().await,
            2 | 4 => stack.start_sequencer().await,
            _ => {}
        }
    }
    for id in &acked {
        assert_eq!(stack.outcome(id).await.state(), EventState::Committed);
    }
    let ids = stack.sealed_ids().await;
    let unique: HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "an event was sealed twice");
    // The product's attestation and registration come first.
    assert_eq!(
        ids.len(),
        acked.len() + 2,
        "sealed events differ from acknowledged ones"
    );
    assert!(acked.iter().all(|id| unique.contains(id)));
    let auditor = stack.audit().await.expect("the chain audits clean");
    assert_eq!(auditor.progress().events, acked.len() as u64 + 2);
    stack.shutdown().await;
}

/// Redis flushed while the sequencer is down: it is rebuilt from the blocks topic, answers are identical.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_is_rebuilt_from_the_log() {
    let mut stack = Stack::spawn().await;
    let g = gtin("0950600013435");
    stack.product(MFR, &g).await;
    let mut m = stack.manufacturer().await;
    let e = stack.sign(MFR, body::commission(&g, "L1", "281231", &["F1", "F2"]));
    stack
        .outcome(&m.commission(e).await.unwrap().into_inner().event_id)
        .await;
    let e = stack.sign(MFR, body::ship(&g, &["F2"], WHOLESALE));
    stack.outcome(&m.ship(e).await.unwrap().into_inner().event_id).await;
    let before = snapshot(&stack, &g, &["F1", "F2", "F3"]).await;
    // First while the sequencer is down (rebuilt at start-up)...
    stack.stop_sequencer().await;
    let store = pedigree_store::Store::connect(&stack.redis.admin_config())
        .await
        .unwrap();
    store.flush_all_for_tests().await.unwrap();
    assert_eq!(store.head().await.unwrap(), 0);
    stack.start_sequencer().await;
    let e = stack.sign(MFR, body::commission(&g, "L1", "281231", &["F0"]));
    assert_eq!(
        stack
            .outcome(&m.commission(e).await.unwrap().into_inner().event_id)
            .await
            .state(),
        EventState::Committed
    );
    assert_eq!(snapshot(&stack, &g, &["F1", "F2", "F3"]).await, before);
    // ...then in the middle of a run (rebuilt before the next batch is applied).
    store.flush_all_for_tests().await.unwrap();
    let e = stack.sign(MFR, body::commission(&g, "L1", "281231", &["F3"]));
    let id = m.commission(e).await.unwrap().into_inner().event_id;
    assert_eq!(stack.outcome(&id).await.state(), EventState::Committed);
    let after = snapshot(&stack, &g, &["F1", "F2"]).await;
    assert_eq!(after[..], before[..2]);
    // The product's attestation and registration, and four commissions.
    assert_eq!(stack.sealed_ids().await.len(), 6);
    stack.shutdown().await;
}

/// With the broker down, a submission is not acknowledged: custody cannot know whether the broker got it before it
/// went away, so it says the outcome is unknown (DEADLINE_EXCEEDED) and names the event to query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_down_is_not_acknowledged() {
    let mut stack = Stack::spawn().await;
    stack.kill_sequencer().await;
    stack.broker.kill();
    let g = gtin("0950600013435");
    let e = stack.sign(MFR, body::commission(&g, "L1", "281231", &["U1"]));
    let id = pedigree_core::event::event_id(&e.payload);
    let err = stack.manufacturer().await.commission(e).await.unwrap_err();
    assert_eq!(err.code(), Code::DeadlineExceeded, "{}", err.message());
    assert!(
        err.message().starts_with("outcome unknown") && err.message().contains(&hex::encode(id)),
        "{}",
        err.message()
    );
}

/// Codes that do not parse are answered 400 / INVALID_ARGUMENT naming the wrong part.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unparsable_codes_are_bad_requests() {
    let stack = Stack::spawn().await;
    let http = stack.http_client();
    let url = stack.http_url("/v1/verify");
    for (code, field) in [
        ("0109506000134353", "gtin"),
        ("01095060001343521713130021X", "expiry"),
        ("hello", "code"),
        ("0109506000134352", "serial"),
    ] {
        let response = http.get(&url).query(&[("code", code)]).send().await.unwrap();
        assert_eq!(response.status(), 400, "{code}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["field"], field, "{code}: {body}");
    }
    let err = stack
        .verifier()
        .await
        .verify(VerifyRequest {
            code: "(01)123".into(),
            include_proof: false,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let bad = stack.http_url("/01/09506000134353/21/X");
    assert_eq!(http.get(&bad).send().await.unwrap().status(), 400);
    stack.shutdown().await;
}

/// Cross-chain replay: an envelope signed for another deployment whose participants share this one's keys (same
/// genesis but its name, so another chain id) is refused by custody with the reason, and by the sequencer when it
/// reaches the events topic anyway (REJECT_CODE_WRONG_CHAIN); the same body signed for this chain is sealed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_envelope_signed_for_another_chain_is_refused() {
    let stack = Stack::spawn().await;
    let g = gtin("0950600013435");
    stack.product(MFR, &g).await;
    let mut other = stack.fixture.genesis.clone();
    other.chain_name = "another-deployment".into();
    let other_chain = other.chain_id().unwrap();
    let replayed = pedigree_core::envelope::sign_payload(
        &stack.fixture.party(MFR).key,
        &pedigree_core::envelope::new_payload(&other_chain, MFR, body::commission(&g, "L1", "281231", &["X1"])),
    );
    let err = stack
        .manufacturer()
        .await
        .commission(replayed.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().starts_with("chain_id: the event is for chain "),
        "{}",
        err.message()
    );

    stack.append_unchecked(&replayed).await;
    let status = stack.outcome(&pedigree_core::event::event_id(&replayed.payload)).await;
    assert_eq!(
        (status.state(), status.reject_code()),
        (EventState::Rejected, RejectCode::WrongChain)
    );
    let mine = stack.sign(MFR, body::commission(&g, "L1", "281231", &["X1"]));
    let id = stack
        .manufacturer()
        .await
        .commission(mine)
        .await
        .unwrap()
        .into_inner()
        .event_id;
    assert_eq!(stack.outcome(&id).await.state(), EventState::Committed);
    stack.audit().await.expect("the chain audits");
    stack.shutdown().await;
}
