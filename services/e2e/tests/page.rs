//! The pharmacist's scan page and the pharmacy console, in real headless Chromium (Debian's, driven by
//! playwright-core: services/e2e/browser/page.test.mjs) against a real stack and a real `pedigree console` process.
//!
//! This test builds the ledger state behind every verdict of docs/verdicts.md, starts the console as city-pharmacy,
//! and hands the browser script a scenario (addresses, codes, what each must show). The script types wedge scans as
//! keystrokes (GS as Ctrl+], as ASCII 29 and as a substitute), scans a rendered GS1 DataMatrix through Chromium's
//! fake camera, checks every verdict's card by its text and by the colour its screenshot shows, runs axe-core,
//! checks the phone-sized layout and the security headers, and drives the console: receive a pack and a shipment
//! (SSCC), dispense and see "dispensed by you", undo, decommission, batch receive and dispense, a refusal shown.
//! Then this test reads the ledger to check that what the page said happened did happen.

use pedigree_core::gs1::gtin_check_digit;
use pedigree_core::pb::{PackStatus, Verdict, VerifyRequest};
use pedigree_e2e::{Killed, Stack, body, sscc};
use serde_json::json;

const MFR: &str = "acme-pharma";
const PHARMACY: &str = "city-pharmacy";
const OTHER_PHARMACY: &str = "harbour-pharmacy";
const TOKEN: &str = "console-token-0123456789abcdef";

fn gtin(first13: &str) -> String {
    format!("{first13}{}", gtin_check_digit(first13).unwrap())
}

/// `pedigree console --as who` against `stack` on a free loopback port: the child and its address (with the token).
fn console(stack: &Stack, who: &str) -> (Killed, String) {
    let (child, line) = pedigree_e2e::serve_as(stack, "console", who, &[("PEDIGREE_CONSOLE_TOKEN", TOKEN)]);
    let url = line
        .trim()
        .rsplit(' ')
        .next()
        .expect("… on https://addr/#token=…")
        .to_string();
    assert!(url.starts_with("https://127.0.0.1:") && url.ends_with(TOKEN), "{line}");
    (child, url)
}

async fn verdict_as(stack: &Stack, who: &str, code: String) -> (Verdict, PackStatus, String) {
    let r = stack
        .verifier_as(who)
        .await
        .verify(VerifyRequest {
            code,
            include_proof: false,
        })
        .await
        .expect("a verdict")
        .into_inner();
    (r.verdict(), r.status(), r.holder)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pharmacist_scans_and_acts_in_a_real_browser() {
    let browser_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").exists(),
        "the browser tools are not installed: run scripts/browser-setup.sh (make test does)"
    );
    let stack = Stack::spawn().await;
    let g = gtin("0950600013451");
    let withdrawn = gtin("0950600013452");
    let unknown = gtin("0950600013453");
    stack.product(MFR, &g).await;
    stack.product(MFR, &withdrawn).await;

    let active = [
        "V1", "D1", "DC1", "S1", "I1", "C1", "C2", "B1", "B2", "B3", "K1", "K2", "R1",
    ];
    stack
        .committed(MFR, body::commission(&g, "L1", "291231", &active[..12]))
        .await;
    stack
        .committed(MFR, body::commission(&g, "LR", "291231", &["R1"]))
        .await;
    stack
        .committed(MFR, body::commission(&g, "OLD1", "200100", &["EX1"]))
        .await;
    stack.committed(MFR, body::recall(&g, "LR")).await;
    stack
        .committed(
            MFR,
            body::decommission(&g, &["DC1"], pedigree_core::pb::DecommissionReason::Destroyed),
        )
        .await;
    stack.committed(MFR, body::quarantine(&g, &["S1"], "seal broken")).await;
    stack
        .committed(MFR, body::declare_illegitimate(&g, &["I1"], "counterfeit"))
        .await;
    // Dispensed by another pharmacy: DISPENSED for anyone else.
    stack.committed(MFR, body::ship(&g, &["D1"], OTHER_PHARMACY)).await;
    stack.committed(OTHER_PHARMACY, body::receive(&g, &["D1"], MFR)).await;
    stack.committed(OTHER_PHARMACY, body::dispense(&g, &["D1"])).await;
    // In transit to city-pharmacy: packs for the console, and a shipment (SSCC) of two packs.
    stack
        .committed(MFR, body::ship(&g, &["C1", "C2", "B1", "B2", "B3"], PHARMACY))
        .await;
    let label = sscc(451);
    let packed = ["K1".to_string(), "K2".to_string()];
    stack
        .committed(MFR, body::pack(&label, &[(g.as_str(), &packed[..])], &[]))
        .await;
    stack
        .committed(MFR, body::ship_containers(std::slice::from_ref(&label), PHARMACY))
        .await;
    stack
        .committed(MFR, body::commission(&withdrawn, "W", "291231", &["W1"]))
        .await;
    stack.committed(MFR, body::withdraw(&withdrawn)).await;

    let (_console, console_url) = console(&stack, PHARMACY);
    let pack = |serial: &str| format!("(01){g}(17)291231(10)L1(21){serial}");
    let screenshots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/browser");
    std::fs::create_dir_all(&screenshots).expect("a screenshot folder");
    let scenario = json!({
        "verifier": stack.http_url(""),
        "console": console_url,
        "serverCert": stack.server_cert.cert_path,
        "screenshots": screenshots,
        "gtin": g,
        // Each verdict row of docs/verdicts.md (and the unreadable code), as the anonymous page shows it.
        "verdicts": [
            { "verdict": "VERIFIED", "code": pack("V1"), "tone": "ok", "text": "Genuine: you may supply" },
            { "verdict": "EXPIRED", "code": format!("(01){g}(17)200100(10)OLD1(21)EX1"), "tone": "stop",
              "text": "Expired: do not supply" },
            { "verdict": "DISPENSED", "code": pack("D1"), "tone": "stop", "text": "Already dispensed" },
            { "verdict": "DECOMMISSIONED", "code": pack("DC1"), "tone": "stop", "text": "Decommissioned",
              "detail": "destroyed" },
            { "verdict": "SUSPECT", "code": pack("S1"), "tone": "stop", "text": "Suspect: do not supply" },
            { "verdict": "RECALLED", "code": format!("(01){g}(17)291231(10)LR(21)R1"), "tone": "stop",
              "text": "Recalled: do not supply" },
            { "verdict": "WITHDRAWN", "code": format!("(01){withdrawn}(17)291231(10)W(21)W1"), "tone": "stop",
              "text": "Withdrawn: do not supply" },
            { "verdict": "LOT_MISMATCH", "code": format!("(01){g}(17)291231(10)L9(21)V1"), "tone": "alert",
              "text": "Lot does not match" },
            { "verdict": "EXPIRY_MISMATCH", "code": format!("(01){g}(17)291130(10)L1(21)V1"), "tone": "alert",
              "text": "Expiry does not match" },
            { "verdict": "UNKNOWN_SERIAL", "code": pack("NOPE"), "tone": "alert", "text": "Unknown pack" },
            { "verdict": "UNKNOWN_PRODUCT", "code": format!("(01){unknown}(21)X1"), "tone": "alert",
              "text": "Unknown product" },
            { "verdict": "ILLEGITIMATE", "code": pack("I1"), "tone": "alert", "text": "Illegitimate: do not supply" },
            { "verdict": "UNREADABLE", "code": "(01)09506000134353(21)X", "tone": "stop",
              "text": "the code could not be read", "detail": "gtin" },
        ],
        // What a wedge types for V1, each form ending with Enter: (keys, text) steps for the script.
        "wedge": {
            "gtin": g, "serial": "V1", "lot": "L1", "expiry": "291231",
        },
        "camera": { "element": pack("V1"), "verdict": "VERIFIED" },
        "console_flow": {
            "me": PHARMACY,
            "sender": MFR,
            "receive_then_dispense": pack("C1"),
            "decommission": pack("C2"),
            "batch": [pack("B1"), pack("B2"), pack("B3")],
            "sscc": label.to_string(),
            "not_held": pack("V1"),
        },
    });
    let scenario_path = tempfile::NamedTempFile::new().expect("a scenario file");
    std::fs::write(scenario_path.path(), scenario.to_string()).expect("writing the scenario");

    let run = tokio::process::Command::new("node")
        .arg(browser_dir.join("page.test.mjs"))
        .arg(scenario_path.path())
        .current_dir(&browser_dir)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(300), run)
        .await
        .expect("the browser run ends within 5 minutes")
        .expect("running node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "the browser checks failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("browser checks passed"), "{stdout}");

    // What the page said it did is on the ledger.
    let code = |serial: &str| format!("(01){g}(21){serial}");
    let (v, _, holder) = verdict_as(&stack, PHARMACY, code("C1")).await;
    assert_eq!(
        (v, holder.as_str()),
        (Verdict::Verified, PHARMACY),
        "C1 received, dispensed, undone"
    );
    let (_, status, _) = verdict_as(&stack, PHARMACY, code("C2")).await;
    assert_eq!(status, PackStatus::Decommissioned, "C2 decommissioned");
    for serial in ["B1", "B2", "B3"] {
        let (v, _, _) = verdict_as(&stack, PHARMACY, code(serial)).await;
        assert_eq!(v, Verdict::AlreadyDispensedByYou, "{serial} dispensed in a batch");
    }
    let (v, status, holder) = verdict_as(&stack, PHARMACY, code("K1")).await;
    assert_eq!(
        (v, status, holder.as_str()),
        (Verdict::Verified, PackStatus::Active, PHARMACY),
        "the shipment received by its SSCC"
    );
    let (_, status, holder) = verdict_as(&stack, MFR, code("V1")).await;
    assert_eq!(
        (status, holder.as_str()),
        (PackStatus::Active, MFR),
        "the refused dispense changed nothing"
    );
    stack.shutdown().await;
}
