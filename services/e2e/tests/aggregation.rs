//! Aggregation through the real pipeline (custody, broker, sequencer, Redis, verifier): a pallet of 48 cases of 100
//! packs built, shipped and received whole in one event each, what a scan of a pack inside it answers (and to whom),
//! a pack that cannot move alone, unpacking down to the pack, and the audit replaying the hierarchy from the log.

use pedigree_core::container::ContainerKey;
use pedigree_core::gs1::gtin_check_digit;
use pedigree_core::participant::Registry;
use pedigree_core::pb::{EventState, PackStatus, RejectCode, Verdict, VerifyRequest, VerifyResponse};
use pedigree_core::proof::check_bundle;
use pedigree_e2e::{Stack, body, sscc};

const MFR: &str = "acme-pharma";
const WHOLESALE: &str = "medline-wholesale";
const PHARMACY: &str = "city-pharmacy";
const CASES: usize = 48;
const PER_CASE: usize = 100;

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
        status.reason
    }};
}

fn serial(n: usize) -> String {
    format!("PK{n:05}")
}

async fn scan(stack: &Stack, who: Option<&str>, code: String, proof: bool) -> VerifyResponse {
    let request = VerifyRequest {
        code,
        include_proof: proof,
    };
    match who {
        Some(id) => stack.verifier_as(id).await.verify(request).await,
        None => stack.verifier().await.verify(request).await,
    }
    .unwrap()
    .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pallet_moves_whole_and_its_packs_follow() {
    let stack = Stack::spawn().await;
    let g = format!("0950600013435{}", gtin_check_digit("0950600013435").unwrap());
    stack.product(MFR, &g).await;
    let serials: Vec<String> = (0..CASES * PER_CASE).map(serial).collect();
    committed!(stack, MFR, body::commission(&g, "L1", "291231", &serials));

    // 48 cases, submitted together, then the pallet of all 48.
    let cases: Vec<ContainerKey> = (0..CASES).map(|c| sscc(1000 + c)).collect();
    let mut ids = Vec::new();
    for (c, case) in cases.iter().enumerate() {
        let line = &serials[c * PER_CASE..(c + 1) * PER_CASE];
        let body = body::pack(case, &[(g.as_str(), line)], &[]);
        ids.push(stack.submit_as(MFR, body).await.unwrap().event_id);
    }
    for id in ids {
        let status = stack.outcome(&id).await;
        assert_eq!(status.state(), EventState::Committed, "{}", status.reason);
    }
    let pallet = sscc(1);
    committed!(stack, MFR, body::pack(&pallet, &[], &cases));

    // Sent to the wrong party first: the sender voids it before it is received.
    committed!(
        stack,
        MFR,
        body::ship_containers(std::slice::from_ref(&pallet), PHARMACY)
    );
    let none: [&str; 0] = [];
    committed!(
        stack,
        MFR,
        body::void_shipment("", &none, std::slice::from_ref(&pallet), PHARMACY)
    );
    refused!(
        RejectCode::NotInTransit,
        stack,
        PHARMACY,
        body::receive_containers(std::slice::from_ref(&pallet), MFR)
    );

    // One event ships, one receives the whole pallet.
    committed!(
        stack,
        MFR,
        body::ship_containers(std::slice::from_ref(&pallet), WHOLESALE)
    );
    let r = scan(&stack, Some(WHOLESALE), format!("01{g}21{}", serial(2345)), false).await;
    assert_eq!((r.verdict(), r.status()), (Verdict::Verified, PackStatus::InTransit));
    committed!(
        stack,
        WHOLESALE,
        body::receive_containers(std::slice::from_ref(&pallet), MFR)
    );

    // A pack deep inside: custody of the pallet, and its case, shown to the holder.
    let code = format!("01{g}21{}", serial(2345));
    let r = scan(&stack, Some(WHOLESALE), code.clone(), true).await;
    assert_eq!(
        (r.verdict(), r.status(), r.holder.as_str(), r.container.as_str()),
        (
            Verdict::Verified,
            PackStatus::Active,
            WHOLESALE,
            cases[23].to_string().as_str()
        )
    );
    // Its proof bundle proves the pack's own last event: being packed into the case, and nothing of its neighbours.
    let registry = Registry::from_genesis(&stack.fixture.genesis).unwrap();
    let bundle = r.proof.expect("a bundle was asked for");
    let checked =
        check_bundle(&bundle, &registry.sequencer_key(), Some(&registry.chain_id)).expect("bundle checks out");
    assert_eq!(
        (
            checked.core.kind.as_str(),
            checked.core.pack_count,
            checked.pack.serial.as_str()
        ),
        ("pack", PER_CASE as u32 + 1, serial(2345).as_str())
    );
    // Anonymous: the status, neither the holder nor the container.
    let r = scan(&stack, None, code, false).await;
    assert_eq!(
        (r.verdict(), r.holder.as_str(), r.container.as_str()),
        (Verdict::Verified, "", "")
    );

    // Nothing inside moves alone.
    let reason = refused!(
        RejectCode::InContainer,
        stack,
        WHOLESALE,
        body::ship(&g, &[serial(2345)], PHARMACY)
    );
    assert!(reason.contains(&cases[23].to_string()), "{reason}");
    refused!(
        RejectCode::InContainer,
        stack,
        WHOLESALE,
        body::ship_containers(&cases[..1], PHARMACY)
    );
    refused!(RejectCode::NotHolder, stack, MFR, body::unpack(&pallet, &[], &[]));

    // Unpack the pallet, then one case, then that case's packs move one by one.
    committed!(stack, WHOLESALE, body::unpack(&pallet, &[], &[]));
    committed!(stack, WHOLESALE, body::unpack(&cases[23], &[], &[]));
    refused!(
        RejectCode::ContainerClosed,
        stack,
        WHOLESALE,
        body::ship_containers(std::slice::from_ref(&pallet), PHARMACY)
    );
    committed!(stack, WHOLESALE, body::ship(&g, &[serial(2345)], PHARMACY));
    committed!(stack, PHARMACY, body::receive(&g, &[serial(2345)], WHOLESALE));
    committed!(stack, PHARMACY, body::dispense(&g, &[serial(2345)]));
    let r = scan(&stack, None, format!("01{g}21{}", serial(2345)), false).await;
    assert_eq!(r.verdict(), Verdict::Dispensed);
    // A pack of another case is still in its case, on nothing, held by the wholesaler.
    let r = scan(&stack, Some(WHOLESALE), format!("01{g}21{}", serial(0)), false).await;
    assert_eq!(
        (r.status(), r.holder.as_str(), r.container.as_str()),
        (PackStatus::Active, WHOLESALE, cases[0].to_string().as_str())
    );

    // The audit replays the hierarchy from the log alone, and agrees with what the verifier answered.
    let auditor = stack.audit().await.expect("the chain audits clean");
    let pallet_record = auditor
        .container(&pallet.element())
        .expect("the pallet is in the replayed state");
    assert!(pallet_record.closed);
    let case0 = auditor.container(&cases[0].element()).expect("case 0");
    assert_eq!((case0.holder.as_str(), case0.packs.len()), (WHOLESALE, PER_CASE));
    stack.shutdown().await;
}
