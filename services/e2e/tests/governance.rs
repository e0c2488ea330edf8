//! Participants on the ledger, through the real pipeline: governance registers a pharmacy, rotates its key and
//! revokes it; custody follows the sealed registry, the sequencer judges every event against the registry at the
//! event's position, proofs carry the key that signed, and a Redis rebuild and the audit reach the same registry.

use std::time::Duration;

use pedigree_core::custody_rpc::Rpc;
use pedigree_core::envelope::{new_payload, sign_payload};
use pedigree_core::gs1::gtin_check_digit;
use pedigree_core::keys::KeyPair;
use pedigree_core::pb::event_payload::Body;
use pedigree_core::pb::{EventState, ParticipantRole, RejectCode, SignedEnvelope, VerifyRequest};
use pedigree_core::proof::check_bundle;
use pedigree_e2e::{Stack, body};
use tonic::Code;

const MFR: &str = "acme-pharma";
const WHOLESALE: &str = "medline-wholesale";
const NORTH: &str = "north-wholesale";
const BAY: &str = "bay-pharmacy";

fn gtin() -> String {
    format!("0950600013435{}", gtin_check_digit("0950600013435").unwrap())
}

fn signed(stack: &Stack, key: &KeyPair, id: &str, body: Body) -> SignedEnvelope {
    sign_payload(key, &new_payload(&stack.fixture.chain_id, id, body))
}

/// Submits through the RPC that takes the envelope's kind; the gRPC refusal, or the sealed outcome.
async fn submit(stack: &Stack, envelope: SignedEnvelope) -> Result<pedigree_core::pb::EventStatus, tonic::Status> {
    let answer = stack.submit(envelope).await?;
    Ok(stack.outcome(&answer.event_id).await)
}

async fn committed(stack: &Stack, envelope: SignedEnvelope) {
    let status = submit(stack, envelope).await.expect("accepted by custody");
    assert_eq!(status.state(), EventState::Committed, "{}", status.reason);
}

/// Custody follows the registry asynchronously: retries `make()` until custody's answer is no longer `while_code`.
async fn once_custody_sees<F>(
    stack: &Stack,
    while_code: Code,
    make: F,
) -> Result<pedigree_core::pb::EventStatus, tonic::Status>
where
    F: Fn() -> SignedEnvelope,
{
    for _ in 0..100 {
        match submit(stack, make()).await {
            Err(s) if s.code() == while_code => tokio::time::sleep(Duration::from_millis(50)).await,
            other => return other,
        }
    }
    panic!("custody still answers {while_code:?} after 5 s");
}

/// Retries `make()` until custody refuses it at the gate (custody follows the registry asynchronously); whatever
/// custody let through meanwhile must have been refused by the sequencer with `code`.
async fn refused_at_gate<F>(stack: &Stack, code: RejectCode, make: F) -> tonic::Status
where
    F: Fn() -> SignedEnvelope,
{
    for _ in 0..100 {
        match submit(stack, make()).await {
            Err(s) => return s,
            Ok(status) => {
                assert_eq!(
                    (status.state(), status.reject_code()),
                    (EventState::Rejected, code),
                    "{}",
                    status.reason
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    panic!("custody still accepts after 5 s");
}

async fn proof_key(stack: &Stack, g: &str, serial: &str) -> Vec<u8> {
    let answer = stack
        .verifier_as(pedigree_e2e::AUTHORITY)
        .await
        .verify(VerifyRequest {
            code: format!("01{g}21{serial}"),
            include_proof: true,
        })
        .await
        .unwrap()
        .into_inner();
    let bundle = answer.proof.expect("a bundle");
    check_bundle(
        &bundle,
        &stack.fixture.sequencer.public(),
        Some(&stack.fixture.chain_id),
    )
    .expect("the bundle checks out offline");
    bundle.signer_public_key
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn governance_registers_rotates_and_revokes_participants() {
    let mut stack = Stack::spawn().await;
    let g = gtin();
    stack.product(MFR, &g).await;
    let (k1, k2) = (KeyPair::generate(), KeyPair::generate());
    let serials = ["G1", "G2", "G3", "G4"];

    // Not in the genesis: unknown to custody.
    let early = signed(&stack, &k1, BAY, body::dispense(&g, &["G1"]));
    assert_eq!(submit(&stack, early).await.unwrap_err().code(), Code::Unauthenticated);
    // Only the governance key registers.
    let forged = signed(
        &stack,
        &k1,
        BAY,
        body::register_participant(BAY, ParticipantRole::Pharmacy, "Bay", "", &k1.public()),
    );
    assert!(submit(&stack, forged).await.is_err());

    let register = body::register_participant(
        BAY,
        ParticipantRole::Pharmacy,
        "Bay Pharmacy",
        "0614141000005",
        &k1.public(),
    );
    committed(&stack, stack.sign_governance(register.clone())).await;
    let again = submit(&stack, stack.sign_governance(register)).await.unwrap();
    assert_eq!(
        (again.state(), again.reject_code()),
        (EventState::Rejected, RejectCode::ParticipantExists)
    );

    committed(&stack, stack.sign(MFR, body::commission(&g, "L1", "281231", &serials))).await;
    committed(&stack, stack.sign(MFR, body::ship(&g, &serials, WHOLESALE))).await;
    committed(&stack, stack.sign(WHOLESALE, body::receive(&g, &serials, MFR))).await;
    let shipped = once_custody_sees(&stack, Code::InvalidArgument, || {
        stack.sign(WHOLESALE, body::ship(&g, &serials, BAY))
    })
    .await
    .expect("custody knows the newcomer");
    assert_eq!(shipped.state(), EventState::Committed, "{}", shipped.reason);
    committed(&stack, signed(&stack, &k1, BAY, body::receive(&g, &serials, WHOLESALE))).await;
    assert_eq!(proof_key(&stack, &g, "G2").await, k1.public().to_sec1());

    // Rotation: the old key is refused at the gate once custody sees it, and by the sequencer regardless.
    committed(&stack, stack.sign_governance(body::rotate_key(BAY, &k2.public()))).await;
    let refused = refused_at_gate(&stack, RejectCode::RetiredKey, || {
        signed(&stack, &k1, BAY, body::dispense(&g, &["G1"]))
    })
    .await;
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert!(refused.message().contains("retired at height"), "{}", refused.message());
    let unchecked = signed(&stack, &k1, BAY, body::dispense(&g, &["G1"]));
    stack.append_unchecked(&unchecked).await;
    let status = stack.outcome(&pedigree_core::event::event_id(&unchecked.payload)).await;
    assert_eq!(
        (status.state(), status.reject_code()),
        (EventState::Rejected, RejectCode::RetiredKey)
    );
    committed(&stack, signed(&stack, &k2, BAY, body::dispense(&g, &["G1"]))).await;
    // Proofs carry the key that signed: the new one for G1, the retired one for G2 (last moved before).
    assert_eq!(proof_key(&stack, &g, "G1").await, k2.public().to_sec1());
    assert_eq!(proof_key(&stack, &g, "G2").await, k1.public().to_sec1());

    // A revocation and the revoked party's event in one batch: the event is judged after the revocation.
    stack.stop_sequencer().await;
    let revoke_north = stack.sign_governance(body::revoke_participant(NORTH, "licence suspended"));
    let by_north = stack.sign(NORTH, body::commission(&g, "L1", "281231", &["N1"]));
    stack.append_unchecked(&revoke_north).await;
    stack.append_unchecked(&by_north).await;
    stack.start_sequencer().await;
    let status = stack
        .outcome(&pedigree_core::event::event_id(&revoke_north.payload))
        .await;
    assert_eq!(status.state(), EventState::Committed, "{}", status.reason);
    let status = stack.outcome(&pedigree_core::event::event_id(&by_north.payload)).await;
    assert_eq!(
        (status.state(), status.reject_code()),
        (EventState::Rejected, RejectCode::ParticipantRevoked)
    );

    // Revocation of the newcomer: nothing may be sent to it, and it signs nothing more.
    committed(&stack, stack.sign_governance(body::revoke_participant(BAY, "closed"))).await;
    let to_bay = refused_at_gate(&stack, RejectCode::ParticipantRevoked, || {
        stack.sign(WHOLESALE, body::ship(&g, &["G4"], BAY))
    })
    .await;
    assert_eq!(to_bay.code(), Code::FailedPrecondition, "{}", to_bay.message());
    let by_bay = refused_at_gate(&stack, RejectCode::ParticipantRevoked, || {
        signed(&stack, &k2, BAY, body::dispense(&g, &["G3"]))
    })
    .await;
    assert_eq!(by_bay.code(), Code::Unauthenticated, "{}", by_bay.message());

    // Redis rebuilt from the log holds the same registry; the audit folds to it too.
    let store = pedigree_store::Store::connect(&stack.redis.admin_config())
        .await
        .unwrap();
    let (_, before) = store.participants().await.unwrap();
    stack.stop_sequencer().await;
    store.flush_all_for_tests().await.unwrap();
    stack.start_sequencer().await;
    let status = submit(&stack, stack.sign(MFR, body::commission(&g, "L2", "281231", &["R1"]))).await;
    assert_eq!(status.unwrap().state(), EventState::Committed);
    let (_, mut after) = store.participants().await.unwrap();
    let mut before = before;
    before.sort_by(|a, b| a.id.cmp(&b.id));
    after.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(after, before);
    // The seven demo participants (auditor and authority included) and the one registered here.
    assert_eq!(before.len(), 8);
    let auditor = stack.audit().await.expect("the chain audits clean");
    assert_eq!(auditor.registry().records(), after);
    let bay = after.iter().find(|r| r.id == BAY).unwrap();
    assert_eq!(
        (bay.retired_keys.len(), bay.revoke_reason.as_deref()),
        (1, Some("closed"))
    );
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_hospital_receives_and_dispenses_like_a_pharmacy() {
    let stack = Stack::spawn().await;
    let g = gtin();
    stack.product(MFR, &g).await;
    let key = KeyPair::generate();
    const HOSPITAL: &str = "st-mary-hospital";
    let register = body::register_participant(HOSPITAL, ParticipantRole::Hospital, "St Mary's", "", &key.public());
    committed(&stack, stack.sign_governance(register)).await;
    committed(&stack, stack.sign(MFR, body::commission(&g, "L1", "281231", &["H1"]))).await;
    committed(&stack, stack.sign(MFR, body::ship(&g, &["H1"], WHOLESALE))).await;
    committed(&stack, stack.sign(WHOLESALE, body::receive(&g, &["H1"], MFR))).await;
    let shipped = once_custody_sees(&stack, Code::InvalidArgument, || {
        stack.sign(WHOLESALE, body::ship(&g, &["H1"], HOSPITAL))
    })
    .await
    .expect("custody knows the hospital");
    assert_eq!(shipped.state(), EventState::Committed, "{}", shipped.reason);
    // Through the hospital's own service, as its ERP would.
    for (rpc, body) in [
        (Rpc::HospitalReceive, body::receive(&g, &["H1"], WHOLESALE)),
        (Rpc::HospitalDispense, body::dispense(&g, &["H1"])),
    ] {
        let envelope = signed(&stack, &key, HOSPITAL, body);
        let id = rpc
            .call(stack.custody_channel().await, envelope)
            .await
            .unwrap()
            .into_inner()
            .event_id;
        let status = stack.outcome(&id).await;
        assert_eq!(status.state(), EventState::Committed, "{rpc:?}: {}", status.reason);
    }
    // What a hospital may not sign is refused at the gate.
    let commission = signed(&stack, &key, HOSPITAL, body::commission(&g, "L1", "281231", &["H2"]));
    let refused = submit(&stack, commission).await.unwrap_err();
    assert!(
        refused.message().contains("role hospital may not sign commission"),
        "{}",
        refused.message()
    );
    stack.shutdown().await;
}
