//! Suspect product through the real pipeline: a pharmacy quarantines a pack, which then can be neither shipped nor
//! dispensed and scans as SUSPECT; an authority declares it illegitimate on its own service; it can then only be
//! destroyed, and scans as ILLEGITIMATE for good.

use pedigree_core::gs1::gtin_check_digit;
use pedigree_core::pb::event_payload::Body;
use pedigree_core::pb::{DecommissionReason, EventState, RejectCode, Verdict, VerifyRequest};
use pedigree_e2e::{AUTHORITY, Stack, body};
use tonic::Code;

const MFR: &str = "acme-pharma";
const PHARMACY: &str = "city-pharmacy";

async fn outcome(stack: &Stack, who: &str, body: Body) -> (EventState, RejectCode) {
    let id = stack.submit_as(who, body).await.expect("custody takes it").event_id;
    let status = stack.outcome(&id).await;
    (status.state(), status.reject_code())
}

async fn committed(stack: &Stack, who: &str, body: Body) {
    assert_eq!(
        outcome(stack, who, body).await,
        (EventState::Committed, RejectCode::Unspecified)
    );
}

async fn scan(stack: &Stack, g: &str, serial: &str) -> Verdict {
    let request = VerifyRequest {
        code: format!("01{g}21{serial}"),
        include_proof: false,
    };
    stack
        .verifier()
        .await
        .verify(request)
        .await
        .unwrap()
        .into_inner()
        .verdict()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarantined_pack_cannot_be_shipped_and_an_illegitimate_one_only_destroyed() {
    let stack = Stack::spawn().await;
    let g = format!("0950600013435{}", gtin_check_digit("0950600013435").unwrap());
    stack.product(MFR, &g).await;
    let packs = ["Q1", "Q2"];
    committed(&stack, MFR, body::commission(&g, "L1", "291231", &packs)).await;
    committed(&stack, MFR, body::ship(&g, &packs, PHARMACY)).await;
    committed(&stack, PHARMACY, body::receive(&g, &packs, MFR)).await;

    committed(&stack, PHARMACY, body::quarantine(&g, &["Q1"], "seal broken")).await;
    assert_eq!(scan(&stack, &g, "Q1").await, Verdict::Suspect);
    assert_eq!(
        outcome(&stack, PHARMACY, body::return_to(&g, &["Q1"], MFR)).await,
        (EventState::Rejected, RejectCode::Suspect)
    );
    assert_eq!(
        outcome(&stack, PHARMACY, body::dispense(&g, &["Q1"])).await,
        (EventState::Rejected, RejectCode::Suspect)
    );
    // A pharmacy does not close investigations: refused at the gate.
    let refused = stack
        .submit_as(PHARMACY, body::clear_suspect(&g, &["Q1"], "looks fine"))
        .await
        .expect_err("not a pharmacy's event");
    assert_eq!(refused.code(), Code::PermissionDenied);

    // The authority concludes: illegitimate. Only its destruction is still sealed.
    committed(
        &stack,
        AUTHORITY,
        body::declare_illegitimate(&g, &["Q1"], "counterfeit"),
    )
    .await;
    assert_eq!(scan(&stack, &g, "Q1").await, Verdict::Illegitimate);
    assert_eq!(
        outcome(&stack, MFR, body::clear_suspect(&g, &["Q1"], "genuine after all")).await,
        (EventState::Rejected, RejectCode::Illegitimate)
    );
    assert_eq!(
        outcome(
            &stack,
            PHARMACY,
            body::decommission(&g, &["Q1"], DecommissionReason::Sample)
        )
        .await,
        (EventState::Rejected, RejectCode::Illegitimate)
    );
    committed(
        &stack,
        PHARMACY,
        body::decommission(&g, &["Q1"], DecommissionReason::Destroyed),
    )
    .await;
    assert_eq!(scan(&stack, &g, "Q1").await, Verdict::Illegitimate);

    // A manufacturer's quarantined stock is not shipped either.
    committed(&stack, MFR, body::commission(&g, "L2", "291231", &["Q3"])).await;
    committed(&stack, MFR, body::quarantine(&g, &["Q3"], "temperature excursion")).await;
    assert_eq!(
        outcome(&stack, MFR, body::ship(&g, &["Q3"], PHARMACY)).await,
        (EventState::Rejected, RejectCode::Suspect)
    );
    committed(
        &stack,
        MFR,
        body::clear_suspect(&g, &["Q3"], "within the stability budget"),
    )
    .await;
    committed(&stack, MFR, body::ship(&g, &["Q3"], PHARMACY)).await;

    // The other pack was never in question.
    assert_eq!(scan(&stack, &g, "Q2").await, Verdict::Verified);
    committed(&stack, PHARMACY, body::dispense(&g, &["Q2"])).await;
    stack.audit().await.expect("the chain audits clean");
    stack.shutdown().await;
}
