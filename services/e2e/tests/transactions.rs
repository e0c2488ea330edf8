//! Shipments as ERPs send them, through the real pipeline: several GTINs and lots in one shipment with its trade
//! documents, a receipt short by one pack and refusing another, and the DSCSA transaction information and statement
//! (TI/TS) read back as JSON by the two parties and the authority, and by nobody else.

use pedigree_core::gs1::gtin_check_digit;
use pedigree_core::pb::{EventState, PackStatus, TradeDocuments, VerifyRequest};
use pedigree_e2e::{AUTHORITY, Stack, body};
use serde_json::Value;

const MFR: &str = "acme-pharma";
const WHOLESALE: &str = "medline-wholesale";
const OTHER_WHOLESALE: &str = "north-wholesale";

fn gtin(body: &str) -> String {
    format!("{body}{}", gtin_check_digit(body).unwrap())
}

async fn ti(stack: &Stack, who: Option<&str>, id: &str) -> (u16, Value) {
    let mut request = stack
        .http_client()
        .get(stack.http_url(&format!("/v1/transactions/{id}")));
    if let Some(who) = who {
        request = request.bearer_auth(stack.sign_in(who).await);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_product_shipment_has_its_transaction_information() {
    let stack = Stack::spawn().await;
    let (a, b) = (gtin("0950600013435"), gtin("0401234567890"));
    stack.product(MFR, &a).await;
    stack.product(MFR, &b).await;
    let s = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    for (g, lot, serials) in [
        (&a, "LA1", s(&["A1", "A2"])),
        (&a, "LA2", s(&["A3"])),
        (&b, "LB1", s(&["B1", "B2"])),
    ] {
        let id = stack
            .submit_as(MFR, body::commission(g, lot, "291231", &serials))
            .await
            .unwrap()
            .event_id;
        assert_eq!(stack.outcome(&id).await.state(), EventState::Committed);
    }
    let documents = TradeDocuments {
        purchase_order: "PO-4471".into(),
        invoice: "INV-2026-0042".into(),
        despatch_advice: "DESADV-9".into(),
        ship_date: "2026-11-30".into(),
    };
    let (all_a, all_b) = (s(&["A1", "A2", "A3"]), s(&["B1", "B2"]));
    let ship = body::ship_lines(&[(&a, &all_a), (&b, &all_b)], WHOLESALE, Some(documents));
    let shipment = stack.submit_as(MFR, ship).await.unwrap().event_id;
    assert_eq!(stack.outcome(&shipment).await.state(), EventState::Committed);

    // Received short (A3 not there), B2 refused.
    let receive = body::receive_lines(&[(&a, &all_a[..2]), (&b, &all_b[..1])], &[(&b, &all_b[1..])], MFR);
    let id = stack.submit_as(WHOLESALE, receive).await.unwrap().event_id;
    let status = stack.outcome(&id).await;
    assert_eq!(status.state(), EventState::Committed, "{}", status.reason);
    let mut v = stack.verifier_as(AUTHORITY).await;
    for (g, serial, status, holder) in [
        (&a, "A1", PackStatus::Active, WHOLESALE),
        (&a, "A3", PackStatus::InTransit, MFR),
        (&b, "B2", PackStatus::Active, MFR),
    ] {
        let request = VerifyRequest {
            code: format!("01{g}21{serial}"),
            include_proof: false,
        };
        let r = v.verify(request).await.unwrap().into_inner();
        assert_eq!((r.status(), r.holder.as_str()), (status, holder), "{serial}");
    }

    // The TI/TS, for the seller, the buyer and the authority alike.
    let id = hex::encode(&shipment);
    let (code, seller_view) = ti(&stack, Some(MFR), &id).await;
    assert_eq!(code, 200, "{seller_view}");
    for who in [WHOLESALE, AUTHORITY] {
        assert_eq!(ti(&stack, Some(who), &id).await, (200, seller_view.clone()), "{who}");
    }
    let t = &seller_view;
    assert_eq!(t["seller"]["id"], MFR);
    assert_eq!(t["buyer"]["id"], WHOLESALE);
    assert_eq!(t["documents"]["purchase_order"], "PO-4471");
    assert_eq!(t["documents"]["ship_date"], "2026-11-30");
    let lines: Vec<(String, String, u64)> = t["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["gtin"].as_str().unwrap().into(),
                l["lot"].as_str().unwrap().into(),
                l["quantity"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            (a.clone(), "LA1".into(), 2),
            (a.clone(), "LA2".into(), 1),
            (b.clone(), "LB1".into(), 2)
        ]
    );
    // Each line names its product from the master data its owner registered (DSCSA TI: name, strength, form).
    for line in t["lines"].as_array().unwrap() {
        assert_eq!(line["product"]["name"], "Paracetamol 500 mg", "{line}");
        assert_eq!(
            (&line["product"]["strength"], &line["product"]["dosage_form"]),
            (&serde_json::json!("500 mg"), &serde_json::json!("tablet")),
            "{line}"
        );
    }
    assert!(t["transaction_statement"]["text"].as_str().unwrap().contains("581(27)"));
    assert_eq!(t["transaction_statement"]["signature"].as_str().unwrap().len(), 128);

    // Nobody else learns anything, not even that the shipment exists.
    let (code, other) = ti(&stack, Some(OTHER_WHOLESALE), &id).await;
    assert_eq!(code, 404, "{other}");
    let (code, _) = ti(&stack, None, &id).await;
    assert_eq!(code, 404);
    let (code, unknown) = ti(&stack, Some(MFR), &"ab".repeat(32)).await;
    assert_eq!((code, &unknown), (404, &other));
    let (code, bad) = ti(&stack, Some(MFR), "xyz").await;
    assert_eq!((code, bad["field"].as_str()), (400, Some("event_id")));
    stack.shutdown().await;
}
