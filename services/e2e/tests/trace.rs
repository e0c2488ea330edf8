//! `TraceService.TraceLot` through the real stack: where a lot's packs are now, by holder and status, with packs in a
//! pallet counted where the pallet is, suspect packs counted; for the product's owner and authorities only.

use pedigree_core::gs1::gtin_check_digit;
use pedigree_core::pb::trace_service_client::TraceServiceClient;
use pedigree_core::pb::{LotPlace, PackStatus, TraceLotRequest};
use pedigree_e2e::{AUTHORITY, Stack, body};
use tonic::Code;

const MFR: &str = "acme-pharma";
const WHOLESALER: &str = "medline-wholesale";
const PHARMACY: &str = "city-pharmacy";

fn place(holder: &str, status: PackStatus, packs: u64, suspect: u64) -> LotPlace {
    LotPlace {
        holder: holder.into(),
        status: status as i32,
        packs,
        suspect,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lot_is_traced_to_where_its_packs_are_now() {
    let stack = Stack::spawn().await;
    let g = format!("0950600013439{}", gtin_check_digit("0950600013439").unwrap());
    stack.product(MFR, &g).await;
    let lot: Vec<String> = (1..=6).map(|i| format!("T{i}")).collect();
    stack.committed(MFR, body::commission(&g, "L1", "291231", &lot)).await;
    stack
        .committed(MFR, body::commission(&g, "L2", "291231", &["U1"]))
        .await;
    // T1, T2 to the pharmacy (T1 received and dispensed, T2 still in transit); T3, T4 on a pallet shipped to the
    // wholesaler and received; T5 quarantined at the manufacturer; T6 at the manufacturer.
    stack.committed(MFR, body::ship(&g, &["T1", "T2"], PHARMACY)).await;
    stack.committed(PHARMACY, body::receive(&g, &["T1"], MFR)).await;
    stack.committed(PHARMACY, body::dispense(&g, &["T1"])).await;
    let line = vec!["T3".to_string(), "T4".to_string()];
    stack.pallet_delivered(7, &g, &line, MFR, WHOLESALER).await;
    stack.committed(MFR, body::quarantine(&g, &["T5"], "seal broken")).await;

    let request = TraceLotRequest {
        gtin: g.clone(),
        lot: "L1".into(),
    };
    let trace = |who: &'static str| {
        let request = request.clone();
        let stack = &stack;
        async move {
            TraceServiceClient::new(stack.authed(who).await)
                .trace_lot(request)
                .await
        }
    };
    let traced = trace(MFR).await.expect("the owner traces its lot").into_inner();
    assert_eq!((traced.packs, traced.lot.as_str()), (6, "L1"));
    assert!(traced.height > 0);
    assert_eq!(
        traced.places,
        vec![
            place(MFR, PackStatus::Active, 2, 1),
            place(MFR, PackStatus::InTransit, 1, 0),
            place(PHARMACY, PackStatus::Dispensed, 1, 0),
            place(WHOLESALER, PackStatus::Active, 2, 0),
        ]
    );
    let authority = trace(AUTHORITY)
        .await
        .expect("an authority traces any lot")
        .into_inner();
    assert_eq!(authority, traced);

    // Nobody else; and a malformed request names its field.
    let refused = trace(PHARMACY).await.expect_err("not its product");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let bad = TraceServiceClient::new(stack.authed(MFR).await)
        .trace_lot(TraceLotRequest {
            gtin: "123".into(),
            lot: "L1".into(),
        })
        .await
        .expect_err("not a GTIN");
    assert_eq!(bad.code(), Code::InvalidArgument);
    stack.shutdown().await;
}
