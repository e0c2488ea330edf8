//! Product master data through the real pipeline: a manufacturer cannot squat another's GTIN, the holder of the GS1
//! company prefix registers its product and every scan then names it, and the product changes owner only with the
//! new owner's signed consent.

use std::time::Duration;

use pedigree_core::envelope::{new_payload, sign_payload};
use pedigree_core::keys::KeyPair;
use pedigree_core::pb::event_payload::Body;
use pedigree_core::pb::{EventState, EventStatus, ParticipantRole, RejectCode, SignedEnvelope, VerifyRequest};
use pedigree_e2e::{PREFIX, Stack, body};
use tonic::Code;

const MFR: &str = "acme-pharma";
const RIVAL: &str = "rival-labs";
/// Under GS1's example prefix 9506000, which governance attests to acme.
const GTIN: &str = "09506000134352";

fn signed(stack: &Stack, key: &KeyPair, id: &str, body: Body) -> SignedEnvelope {
    sign_payload(key, &new_payload(&stack.fixture.chain_id, id, body))
}

/// The sealed outcome, or custody's refusal.
async fn submit(stack: &Stack, envelope: SignedEnvelope) -> Result<EventStatus, tonic::Status> {
    let answer = stack.submit(envelope).await?;
    Ok(stack.outcome(&answer.event_id).await)
}

async fn committed(stack: &Stack, envelope: SignedEnvelope) {
    let status = submit(stack, envelope).await.expect("accepted by custody");
    assert_eq!(status.state(), EventState::Committed, "{}", status.reason);
}

async fn rejected(stack: &Stack, envelope: SignedEnvelope) -> RejectCode {
    let status = submit(stack, envelope).await.expect("accepted by custody");
    assert_eq!(status.state(), EventState::Rejected, "{status:?}");
    status.reject_code()
}

/// Custody follows the sealed registry: retries until custody takes the envelope (at most 5 s).
async fn once_custody_takes<F: Fn() -> SignedEnvelope>(stack: &Stack, make: F) -> EventStatus {
    for _ in 0..100 {
        match submit(stack, make()).await {
            Err(s) if s.code() == Code::Unauthenticated || s.message().contains("prefix") => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(s) => panic!("custody refused: {s:?}"),
            Ok(status) => return status,
        }
    }
    panic!("custody still refuses after 5 s");
}

async fn scan(stack: &Stack, code: String) -> pedigree_core::pb::VerifyResponse {
    stack
        .verifier()
        .await
        .verify(VerifyRequest {
            code,
            ..Default::default()
        })
        .await
        .expect("verify")
        .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gtin_cannot_be_squatted_and_its_owner_hands_it_over_with_consent() {
    let stack = Stack::spawn().await;
    // A second manufacturer joins; governance attests acme's prefix to acme.
    let rival = KeyPair::generate();
    let join = body::register_participant(RIVAL, ParticipantRole::Manufacturer, "Rival Labs", "", &rival.public());
    committed(&stack, stack.sign_governance(join)).await;
    committed(&stack, stack.sign_governance(body::attest_prefixes(MFR, &[PREFIX]))).await;
    // The prefix is acme's: the rival cannot take it too.
    assert_eq!(
        rejected(
            &stack,
            stack.sign_governance(body::attest_prefixes(RIVAL, &["95060001"]))
        )
        .await,
        RejectCode::PrefixTaken
    );

    // The rival tries to squat acme's GTIN: registering is refused at the gate, commissioning first by the ledger.
    let squat = || {
        signed(
            &stack,
            &rival,
            RIVAL,
            body::register_product(GTIN, "Fake", "", "tablet", 20),
        )
    };
    let status = once_custody_takes(&stack, || {
        signed(&stack, &rival, RIVAL, body::commission(GTIN, "L1", "281231", &["R1"]))
    })
    .await;
    assert_eq!(
        status.reject_code(),
        RejectCode::ProductNotRegistered,
        "{}",
        status.reason
    );
    let refused = stack.submit(squat()).await.expect_err("not the rival's prefix");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(refused.message().contains("prefix"), "{}", refused.message());
    let before = scan(&stack, format!("01{GTIN}21R1")).await;
    assert_eq!(before.verdict(), pedigree_core::pb::Verdict::UnknownProduct);
    assert!(before.product.is_none());

    // Acme registers its product; the rival's commission is then refused as not the owner's.
    let Body::RegisterProduct(mut master) =
        body::register_product(GTIN, "Paracetamol Acme 500 mg", "500 mg", "film-coated tablet", 20)
    else {
        unreachable!()
    };
    master.national_codes.push(pedigree_core::pb::NationalCode {
        system: "PZN".into(),
        code: "01234567".into(),
    });
    master.markets = vec!["DE".into()];
    let register = Body::RegisterProduct(master);
    let status = once_custody_takes(&stack, || stack.sign(MFR, register.clone())).await;
    assert_eq!(status.state(), EventState::Committed, "{}", status.reason);
    assert_eq!(
        rejected(
            &stack,
            signed(&stack, &rival, RIVAL, body::commission(GTIN, "L1", "281231", &["R2"]))
        )
        .await,
        RejectCode::NotProductOwner
    );
    committed(&stack, stack.sign(MFR, body::commission(GTIN, "L1", "281231", &["A1"]))).await;

    // Anyone scanning sees the product's name and form and who answers for it.
    let answer = scan(&stack, format!("01{GTIN}21A1")).await;
    assert_eq!(answer.verdict(), pedigree_core::pb::Verdict::Verified);
    let product = answer.product.expect("product master data");
    assert_eq!(
        (
            product.name.as_str(),
            product.strength.as_str(),
            product.dosage_form.as_str(),
            product.pack_size
        ),
        ("Paracetamol Acme 500 mg", "500 mg", "film-coated tablet", 20)
    );
    assert_eq!(product.owner, MFR);
    assert_eq!(product.national_codes[0].code, "01234567");
    assert!(answer.holder.is_empty(), "an anonymous scan names no holder");
    let json: serde_json::Value = stack
        .http_client()
        .get(stack.http_url(&format!("/01/{GTIN}/21/A1")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["product"]["name"], "Paracetamol Acme 500 mg", "{json}");
    assert_eq!(json["product"]["national_codes"]["PZN"], "01234567", "{json}");

    // A change of marketing-authorisation holder: without the rival's consent nothing moves; with it, the product
    // is the rival's, and acme commissions no more.
    let forged = body::transfer_consent(
        &stack.fixture.party(MFR).key,
        &stack.fixture.chain_id,
        GTIN,
        MFR,
        RIVAL,
        0,
    );
    let refused = stack
        .submit(stack.sign(MFR, body::transfer_product(GTIN, RIVAL, 0, forged)))
        .await
        .expect_err("not the rival's signature");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let consent = body::transfer_consent(&rival, &stack.fixture.chain_id, GTIN, MFR, RIVAL, 0);
    committed(
        &stack,
        stack.sign(MFR, body::transfer_product(GTIN, RIVAL, 0, consent.clone())),
    )
    .await;
    assert_eq!(
        rejected(&stack, stack.sign(MFR, body::commission(GTIN, "L1", "281231", &["A2"]))).await,
        RejectCode::NotProductOwner
    );
    committed(
        &stack,
        signed(&stack, &rival, RIVAL, body::commission(GTIN, "L2", "281231", &["R3"])),
    )
    .await;
    assert_eq!(
        scan(&stack, format!("01{GTIN}21A1")).await.product.unwrap().owner,
        RIVAL
    );
    // The spent consent does not move it again.
    let back = body::transfer_consent(
        &stack.fixture.party(MFR).key,
        &stack.fixture.chain_id,
        GTIN,
        RIVAL,
        MFR,
        1,
    );
    committed(
        &stack,
        signed(&stack, &rival, RIVAL, body::transfer_product(GTIN, MFR, 1, back)),
    )
    .await;
    assert_eq!(
        rejected(&stack, stack.sign(MFR, body::transfer_product(GTIN, RIVAL, 0, consent))).await,
        RejectCode::TransferConsent
    );
    stack.audit().await.expect("the chain audits clean");
    stack.shutdown().await;
}
