//! The full pack lifecycle through the real pipeline: decommission and undo, saleable return, lot recall and
//! product withdrawal, and the verdicts a pharmacist then sees.

use pedigree_core::gs1::gtin_check_digit;
use pedigree_core::pb::{
    DecommissionReason, EventState, PackStatus, RejectCode, Verdict, VerifyRequest, VerifyResponse,
};
use pedigree_e2e::{Stack, body};
use tonic::Code;

const MFR: &str = "acme-pharma";
const WHOLESALE: &str = "medline-wholesale";
const OTHER_WHOLESALE: &str = "north-wholesale";
const PHARMACY: &str = "city-pharmacy";
const OTHER_PHARMACY: &str = "harbour-pharmacy";

async fn scan(stack: &Stack, g: &str, serial: &str) -> VerifyResponse {
    let code = format!("01{g}21{serial}");
    // The authority sees every pack in full (anonymous answers name no holder: tests/access.rs).
    stack
        .verifier_as(pedigree_e2e::AUTHORITY)
        .await
        .verify(VerifyRequest {
            code,
            include_proof: false,
        })
        .await
        .unwrap()
        .into_inner()
}

/// Submits as the signer's ERP would (to its role's service) and waits for the outcome.
macro_rules! submit {
    ($stack:expr, $who:expr, $body:expr) => {{
        let id = $stack.submit_as($who, $body).await.unwrap().event_id;
        $stack.outcome(&id).await
    }};
}

macro_rules! committed {
    ($($t:tt)*) => {{
        let status = submit!($($t)*);
        assert_eq!(status.state(), EventState::Committed, "{}", status.reason);
    }};
}

macro_rules! refused {
    ($code:expr, $($t:tt)*) => {{
        let status = submit!($($t)*);
        assert_eq!((status.state(), status.reject_code()), (EventState::Rejected, $code), "{}", status.reason);
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decommission_undo_return_recall_withdraw() {
    let stack = Stack::spawn().await;
    let g = format!("0950600013435{}", gtin_check_digit("0950600013435").unwrap());
    stack.product(MFR, &g).await;
    let all = ["P1", "P2", "P3", "P4", "P5"];
    committed!(stack, MFR, body::commission(&g, "L1", "291231", &all));
    committed!(stack, MFR, body::commission(&g, "L2", "291231", &["Q1"]));
    committed!(stack, MFR, body::ship(&g, &all, WHOLESALE));
    committed!(stack, WHOLESALE, body::receive(&g, &all, MFR));
    committed!(stack, WHOLESALE, body::ship(&g, &all, PHARMACY));
    committed!(stack, PHARMACY, body::receive(&g, &all, WHOLESALE));

    // Decommissioned as destroyed: final, no undo.
    committed!(
        stack,
        PHARMACY,
        body::decommission(&g, &["P2"], DecommissionReason::Destroyed)
    );
    let r = scan(&stack, &g, "P2").await;
    assert_eq!(
        (r.verdict(), r.decommission_reason()),
        (Verdict::Decommissioned, DecommissionReason::Destroyed)
    );
    refused!(RejectCode::UndoNotAllowed, stack, PHARMACY, body::undo(&g, &["P2"]));
    refused!(RejectCode::Decommissioned, stack, PHARMACY, body::dispense(&g, &["P2"]));

    // Decommissioned as a sample: only the same party may undo it.
    committed!(
        stack,
        PHARMACY,
        body::decommission(&g, &["P3"], DecommissionReason::Sample)
    );
    refused!(
        RejectCode::UndoNotAllowed,
        stack,
        OTHER_PHARMACY,
        body::undo(&g, &["P3"])
    );
    committed!(stack, PHARMACY, body::undo(&g, &["P3"]));
    assert_eq!(scan(&stack, &g, "P3").await.verdict(), Verdict::Verified);

    // Dispensed, then undone, then dispensed again.
    committed!(stack, PHARMACY, body::dispense(&g, &["P1"]));
    assert_eq!(scan(&stack, &g, "P1").await.verdict(), Verdict::Dispensed);
    committed!(stack, PHARMACY, body::undo(&g, &["P1"]));
    assert_eq!(scan(&stack, &g, "P1").await.verdict(), Verdict::Verified);
    committed!(stack, PHARMACY, body::dispense(&g, &["P1"]));

    // A saleable return goes back to the wholesaler the pack came from; in transit it is still genuine.
    refused!(
        RejectCode::WrongReturnReceiver,
        stack,
        PHARMACY,
        body::return_to(&g, &["P4"], OTHER_WHOLESALE)
    );
    committed!(stack, PHARMACY, body::return_to(&g, &["P4"], WHOLESALE));
    let r = scan(&stack, &g, "P4").await;
    assert_eq!((r.verdict(), r.status()), (Verdict::Verified, PackStatus::InTransit));
    committed!(stack, WHOLESALE, body::receive(&g, &["P4"], PHARMACY));
    assert_eq!(scan(&stack, &g, "P4").await.holder, WHOLESALE);

    // Only the manufacturer role may recall (refused at the gate), and the recall is per lot.
    let err = stack
        .manufacturer()
        .await
        .recall(stack.sign(WHOLESALE, body::recall(&g, "L1")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    committed!(stack, MFR, body::recall(&g, "L1"));
    assert_eq!(scan(&stack, &g, "P5").await.verdict(), Verdict::Recalled);
    assert_eq!(scan(&stack, &g, "Q1").await.verdict(), Verdict::Verified);
    refused!(RejectCode::Recalled, stack, PHARMACY, body::dispense(&g, &["P5"]));
    refused!(
        RejectCode::Recalled,
        stack,
        MFR,
        body::commission(&g, "L1", "291231", &["P9"])
    );

    // Withdrawal takes the whole product off the market.
    committed!(stack, MFR, body::withdraw(&g));
    assert_eq!(scan(&stack, &g, "Q1").await.verdict(), Verdict::Withdrawn);
    refused!(
        RejectCode::Withdrawn,
        stack,
        MFR,
        body::commission(&g, "L3", "291231", &["R1"])
    );

    // The chain, replayed from genesis, reaches the same decisions.
    let auditor = stack.audit().await.expect("the chain audits clean");
    assert_eq!(auditor.pack(&format!("{g}P4")).unwrap().holder, WHOLESALE);
    stack.shutdown().await;
}
