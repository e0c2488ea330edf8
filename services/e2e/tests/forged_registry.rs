//! Redis is not trusted for identities: a participant minted by writing the registry hash in Redis directly (as
//! anyone who can write Redis could) is unknown to the sequencer, which judges events only against the registry it
//! folded from the chain. Its events and events naming it are refused, nothing of them is sealed, and the audit of
//! the blocks topic stays clean. Custody and the verifier still read the registry from Redis, so custody may let
//! such an event through its gate: the sequencer is the line that holds, so the forged events are appended to the
//! events topic directly here.

use pedigree_core::envelope::{new_payload, sign_payload};
use pedigree_core::event::event_id;
use pedigree_core::gs1::gtin_check_digit;
use pedigree_core::keys::KeyPair;
use pedigree_core::participant::{ParticipantRecord, Role};
use pedigree_core::pb::{EventState, RejectCode, SignedEnvelope, Verdict, VerifyRequest};
use pedigree_e2e::{Stack, body};

const MFR: &str = "acme-pharma";
const WHOLESALE: &str = "medline-wholesale";
const ROGUE_MFR: &str = "rogue-pharma";
const ROGUE_PHARMACY: &str = "rogue-pharmacy";

fn gtin(prefix13: &str) -> String {
    format!("{prefix13}{}", gtin_check_digit(prefix13).expect("13 digits"))
}

/// Writes a participant record into the registry hash `r` and bumps the registry version `rv`, as the sequencer's
/// block write would, but with no governance event behind it.
async fn mint(stack: &Stack, id: &str, role: Role, index: u32, key: &KeyPair) {
    let record = ParticipantRecord {
        index,
        id: id.into(),
        role,
        name: "Minted In Redis".into(),
        gln: None,
        public_key: key.public().to_hex(),
        key_since: 0,
        retired_keys: vec![],
        revoked_at: None,
        revoke_reason: None,
        prefixes: vec![],
    };
    // Only the sequencer's user may write the registry: the forger here is an administrator of Redis.
    let client = stack.redis.admin_config().client().expect("redis settings");
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("connecting to redis");
    redis::pipe()
        .atomic()
        .hset("r", id, serde_json::to_vec(&record).expect("json"))
        .incr("rv", 1)
        .query_async::<()>(&mut con)
        .await
        .expect("writing the registry hash");
}

async fn rejected_with(stack: &Stack, envelope: &SignedEnvelope, code: RejectCode) {
    let status = stack.outcome(&event_id(&envelope.payload)).await;
    assert_eq!(
        (status.state(), status.reject_code()),
        (EventState::Rejected, code),
        "{}",
        status.reason
    );
}

async fn committed(stack: &Stack, envelope: &SignedEnvelope) {
    stack.append_unchecked(envelope).await;
    let status = stack.outcome(&event_id(&envelope.payload)).await;
    assert_eq!(status.state(), EventState::Committed, "{}", status.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_minted_in_redis_is_refused_by_the_sequencer() {
    let mut stack = Stack::spawn().await;
    let (g, rogue_g) = (gtin("0950600013435"), gtin("0950600099991"));
    // The first blocks write the genesis participants to Redis.
    stack.product(MFR, &g).await;
    committed(
        &stack,
        &stack.sign(MFR, body::commission(&g, "L1", "281231", &["F1", "F2"])),
    )
    .await;

    let (rogue_key, rogue_pharmacy_key) = (KeyPair::generate(), KeyPair::generate());
    mint(&stack, ROGUE_MFR, Role::Manufacturer, 5, &rogue_key).await;
    mint(&stack, ROGUE_PHARMACY, Role::Pharmacy, 6, &rogue_pharmacy_key).await;

    // Signed by the minted participant: unknown signer. Naming it as the receiver: unknown participant.
    let by_rogue = sign_payload(
        &rogue_key,
        &new_payload(
            &stack.fixture.chain_id,
            ROGUE_MFR,
            body::commission(&rogue_g, "R1", "281231", &["X1"]),
        ),
    );
    let to_rogue = stack.sign(MFR, body::ship(&g, &["F1"], ROGUE_PHARMACY));
    stack.append_unchecked(&by_rogue).await;
    stack.append_unchecked(&to_rogue).await;
    rejected_with(&stack, &by_rogue, RejectCode::UnknownSigner).await;
    rejected_with(&stack, &to_rogue, RejectCode::UnknownParticipant).await;
    // The sequencer goes on sealing genuine events.
    committed(&stack, &stack.sign(MFR, body::ship(&g, &["F2"], WHOLESALE))).await;

    // A sequencer that starts afresh folds its registry from the blocks topic again: still unknown.
    stack.stop_sequencer().await;
    let after_restart = sign_payload(
        &rogue_key,
        &new_payload(
            &stack.fixture.chain_id,
            ROGUE_MFR,
            body::commission(&rogue_g, "R1", "281231", &["X2"]),
        ),
    );
    stack.append_unchecked(&after_restart).await;
    stack.start_sequencer().await;
    rejected_with(&stack, &after_restart, RejectCode::UnknownSigner).await;

    // Nothing of the forged events is sealed or visible.
    let mut verifier = stack.verifier_as(pedigree_e2e::AUTHORITY).await;
    let scan = |code: String| VerifyRequest {
        code,
        include_proof: false,
    };
    for serial in ["X1", "X2"] {
        let answer = verifier
            .verify(scan(format!("01{rogue_g}21{serial}")))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(answer.verdict(), Verdict::UnknownProduct);
    }
    let f1 = verifier.verify(scan(format!("01{g}21F1"))).await.unwrap().into_inner();
    assert_eq!((f1.verdict(), f1.holder.as_str()), (Verdict::Verified, MFR));
    let sealed = stack.sealed_ids().await;
    // The product's attestation and registration, and the two genuine events.
    assert_eq!(sealed.len(), 4);
    for forged in [&by_rogue, &to_rogue, &after_restart] {
        assert!(!sealed.contains(&event_id(&forged.payload).to_vec()));
    }
    let auditor = stack.audit().await.expect("the chain audits clean");
    assert!(auditor.registry().get(ROGUE_MFR).is_none());
    assert!(auditor.registry().get(ROGUE_PHARMACY).is_none());
    stack.shutdown().await;
}
