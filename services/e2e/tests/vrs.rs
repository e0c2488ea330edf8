//! The VRS responder (GS1 Lightweight Messaging) through the real stack: a wholesaler verifying a saleable return
//! gets the LMS answer for each outcome, a connectivity check answers, and anonymous or impersonating requesters,
//! unknown products and malformed requests are refused with the right HTTP status.

use pedigree_core::gs1::gtin_check_digit;
use pedigree_devstack::demo_gln;
use pedigree_e2e::{Stack, body};
use serde_json::Value;

const MFR: &str = "acme-pharma";
const WHOLESALER: &str = "medline-wholesale";
const UUID: &str = "0b5ddc5c-b1d8-4c6b-a3a5-6e2b6c37a2a1";

/// The demo participants' GLNs by position in the fixture (acme-pharma first, medline-wholesale second).
fn gln_of(id: &str) -> String {
    let i = pedigree_devstack::DEMO_PARTIES
        .iter()
        .position(|(p, _, _)| *p == id)
        .expect("a demo participant");
    demo_gln(i)
}

async fn ask(stack: &Stack, token: Option<&str>, path: &str) -> (u16, Value) {
    let mut request = stack.http_client().get(stack.http_url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer = request.send().await.expect("an answer");
    let status = answer.status().as_u16();
    (status, answer.json().await.expect("JSON"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wholesaler_verifies_a_saleable_return_over_vrs() {
    let stack = Stack::spawn().await;
    let g = format!("0950600013437{}", gtin_check_digit("0950600013437").unwrap());
    stack.product(MFR, &g).await;
    stack
        .committed(MFR, body::commission(&g, "L1", "291231", &["R1"]))
        .await;
    let token = stack.sign_in(WHOLESALER).await;
    let me = gln_of(WHOLESALER);
    let vrs = |lot: &str, serial: &str, expiry: &str, gln: &str| {
        format!(
            "/01/{g}/10/{lot}/21/{serial}?17={expiry}&linkType=verificationService&context=dscsaSaleableReturn\
             &reqGLN={gln}&corrUUID={UUID}"
        )
    };

    let (status, answer) = ask(&stack, Some(&token), &vrs("L1", "R1", "291231", &me)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"], serde_json::json!({ "verified": true }));
    assert_eq!(answer["corrUUID"], UUID);
    assert_eq!(answer["responderGLN"], gln_of(MFR), "the product's owner answers");
    let stamp = answer["verificationTimestamp"].as_str().unwrap();
    assert!(stamp.len() == 24 && stamp.ends_with('Z'), "{stamp}");

    for (lot, serial, expiry, reason) in [
        ("L2", "R1", "291231", "No_match_GTIN_Serial_Lot"),
        ("L1", "R1", "291130", "No_match_GTIN_Serial_Expiry"),
        ("L1", "R9", "291231", "No_match_GTIN_Serial"),
    ] {
        let (status, answer) = ask(&stack, Some(&token), &vrs(lot, serial, expiry, &me)).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer["data"],
            serde_json::json!({ "verified": false, "verificationFailureReason": reason })
        );
    }

    // A recall is news for the returning wholesaler: verified, with additional information.
    stack.committed(MFR, body::recall(&g, "L1")).await;
    let (_, answer) = ask(&stack, Some(&token), &vrs("L1", "R1", "291231", &me)).await;
    assert_eq!(
        answer["data"],
        serde_json::json!({ "verified": true, "additionalInfo": "Recalled" })
    );

    // A connectivity check verifies nothing and names no product.
    let check = format!(
        "/01/{g}/10/L1/21/R1?17=291231&linkType=checkConnectivity&context=dscsaSaleableReturn&reqGLN={me}&corrUUID={UUID}"
    );
    let (status, answer) = ask(&stack, Some(&token), &check).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer.get("data"), None);
    assert_eq!(answer["corrUUID"], UUID);

    // Refusals: anonymous (401), another party's GLN (403), an unknown product (404), a malformed request (400).
    let (status, _) = ask(&stack, None, &vrs("L1", "R1", "291231", &me)).await;
    assert_eq!(status, 401);
    let (status, answer) = ask(&stack, Some(&token), &vrs("L1", "R1", "291231", &gln_of(MFR))).await;
    assert_eq!((status, answer["field"].as_str()), (403, Some("reqGLN")), "{answer}");
    let other = format!("0950600099999{}", gtin_check_digit("0950600099999").unwrap());
    let unknown = format!(
        "/01/{other}/10/L1/21/R1?17=291231&linkType=verificationService&context=dscsaSaleableReturn\
         &reqGLN={me}&corrUUID={UUID}"
    );
    let (status, _) = ask(&stack, Some(&token), &unknown).await;
    assert_eq!(status, 404);
    let no_context = format!("/01/{g}/10/L1/21/R1?17=291231&linkType=verificationService&reqGLN={me}&corrUUID={UUID}");
    let (status, answer) = ask(&stack, Some(&token), &no_context).await;
    assert_eq!((status, answer["field"].as_str()), (400, Some("context")), "{answer}");
    let no_expiry = format!(
        "/01/{g}/10/L1/21/R1?linkType=verificationService&context=dscsaSaleableReturn&reqGLN={me}&corrUUID={UUID}"
    );
    let (status, answer) = ask(&stack, Some(&token), &no_expiry).await;
    assert_eq!((status, answer["field"].as_str()), (400, Some("17")), "{answer}");
    stack.shutdown().await;
}
