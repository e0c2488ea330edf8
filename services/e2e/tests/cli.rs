//! The `pedigree` binary as the README uses it, against a running stack: sign and submit with `--wait`, verify with
//! a proof bundle, check the bundle offline with only the sequencer key, audit the chain, and a refusal's exit code.

use std::path::PathBuf;
use std::process::{Command, Output};

use pedigree_e2e::Stack;

fn pedigree() -> PathBuf {
    pedigree_e2e::binary("pedigree")
}

fn run(stack: &Stack, args: &[&str]) -> Output {
    Command::new(pedigree())
        .args(args)
        .env("PEDIGREE_DIR", &stack.fixture.dir)
        .env("PEDIGREE_CA", &stack.ca_path)
        .env("PEDIGREE_CUSTODY", format!("https://{}", stack.custody_addr))
        .env("PEDIGREE_LEDGER", format!("https://{}", stack.verifier_grpc))
        .env("PEDIGREE_VERIFIER", format!("https://{}", stack.verifier_grpc))
        .output()
        .expect("running pedigree")
}

fn ok(stack: &Stack, args: &[&str]) -> String {
    let out = run(stack, args);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "pedigree {args:?} failed: {stdout}{stderr}");
    stdout.into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_commands_work_against_a_running_stack() {
    let stack = Stack::spawn().await;
    let g = "09506000134352";
    // Master data first: governance attests acme's GS1 company prefix, acme registers the product (custody takes the
    // registration once it has read the block that sealed the attestation).
    let out = ok(
        &stack,
        &[
            "attest-prefixes",
            "--id",
            "acme-pharma",
            "--prefix",
            "9506000",
            "--wait",
        ],
    );
    assert!(out.contains("committed"), "{out}");
    let register = [
        "register-product",
        "--as",
        "acme-pharma",
        "--gtin",
        g,
        "--name",
        "Paracetamol Acme 500 mg",
        "--strength",
        "500 mg",
        "--form",
        "film-coated tablet",
        "--pack-size",
        "20",
        "--national-code",
        "PZN=01234567",
        "--market",
        "DE",
        "--wait",
    ];
    assert!(once_attested(&stack, &register).contains("committed"));
    let out = ok(
        &stack,
        &[
            "commission",
            "--as",
            "acme-pharma",
            "--gtin",
            g,
            "--lot",
            "B7",
            "--expiry",
            "290600",
            "--serial",
            "X1",
            "--serial",
            "X2",
            "--wait",
        ],
    );
    assert!(out.contains("committed at height"), "{out}");
    let out = ok(
        &stack,
        &[
            "ship",
            "--as",
            "acme-pharma",
            "--gtin",
            g,
            "--serial",
            "X1",
            "--to",
            "medline-wholesale",
            "--wait",
        ],
    );
    assert!(out.contains("committed"), "{out}");

    // A rule the sequencer enforces: reported as rejected with its code.
    let out = ok(
        &stack,
        &[
            "ship",
            "--as",
            "acme-pharma",
            "--gtin",
            g,
            "--serial",
            "X1",
            "--to",
            "north-wholesale",
            "--wait",
        ],
    );
    assert!(
        out.contains("rejected") && out.contains("REJECT_CODE_NOT_HOLDER"),
        "{out}"
    );
    // A refusal at the gate: non-zero exit and the server's reason.
    let out = run(
        &stack,
        &[
            "commission",
            "--as",
            "city-pharmacy",
            "--gtin",
            g,
            "--lot",
            "B7",
            "--expiry",
            "290600",
            "--serial",
            "Z",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("may not sign commission"));

    let bundle = stack.fixture.dir.join("bundle.json");
    // A proof bundle is for those who hold or held the pack: refused anonymously, given to the product's owner.
    let code = format!("(01){g}(17)290600(10)B7(21)X2");
    let out = run(&stack, &["verify", &code, "--proof-out", bundle.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("PermissionDenied"),
        "{out:?}"
    );
    let out = ok(
        &stack,
        &[
            "verify",
            &code,
            "--as",
            "acme-pharma",
            "--proof-out",
            bundle.to_str().unwrap(),
        ],
    );
    assert!(out.contains("\"verdict\": \"VERIFIED\""), "{out}");
    assert!(
        out.contains("\"name\": \"Paracetamol Acme 500 mg\"") && out.contains("\"PZN\": \"01234567\""),
        "{out}"
    );
    // A participant's scan with the wrong lot raises an alert; its owner lists it and closes it.
    let wrong_lot = format!("(01){g}(17)290600(10)B8(21)X2");
    let out = ok(&stack, &["verify", &wrong_lot, "--as", "city-pharmacy"]);
    assert!(out.contains("\"verdict\": \"LOT_MISMATCH\""), "{out}");
    let answer: serde_json::Value = serde_json::from_str(&out).unwrap();
    let id = answer["alert_id"].as_str().expect("an alert id").to_string();
    let out = ok(&stack, &["alerts", "list", "--open", "--as", "acme-pharma"]);
    let listed: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (
            listed["id"].as_str(),
            listed["code"].as_str(),
            listed["scanned_lot"].as_str()
        ),
        (Some(id.as_str()), Some("lot_mismatch"), Some("B8")),
        "{out}"
    );
    let out = ok(
        &stack,
        &[
            "alerts",
            "close",
            &id,
            "--root-cause",
            "scanning-error",
            "--note",
            "typed B8",
            "--as",
            "acme-pharma",
        ],
    );
    assert!(
        out.contains("\"state\": \"closed\"") && out.contains("\"root_cause\": \"scanning_error\""),
        "{out}"
    );
    let out = run(&stack, &["alerts", "show", &id, "--as", "harbour-pharmacy"]);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("NotFound"),
        "{out:?}"
    );
    let out = ok(&stack, &["alerts", "show", &id, "--as", "city-pharmacy"]);
    assert!(out.contains("\"closed_by\": \"acme-pharma\""), "{out}");

    let key = stack.fixture.dir.join("sequencer.pub");
    let out = ok(
        &stack,
        &[
            "verify",
            "--offline",
            bundle.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    );
    assert!(
        out.starts_with("OK: pack 0") && out.contains("signed by acme-pharma"),
        "{out}"
    );

    // The forgery format v1 let through: the sealed payload re-signed with a fresh key, that key in the bundle.
    let json = std::fs::read_to_string(&bundle).unwrap();
    let mut forged = serde_json::from_str::<pedigree_core::proof::BundleJson>(&json)
        .unwrap()
        .to_bundle()
        .unwrap();
    let fresh = pedigree_core::keys::KeyPair::generate();
    let core = pedigree_core::disclosure::EventCore::parse(&forged.event_core).unwrap();
    forged.event_signature = fresh.sign_digest(&core.id());
    forged.signer_public_key = fresh.public().to_sec1();
    let forged_path = stack.fixture.dir.join("forged.json");
    let forged = pedigree_core::proof::BundleJson::from_bundle(&forged).unwrap();
    std::fs::write(&forged_path, serde_json::to_string(&forged).unwrap()).unwrap();
    let out = run(
        &stack,
        &[
            "verify",
            "--offline",
            forged_path.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("was not 'acme-pharma''s registered key"), "{stderr}");

    // A bundle checked against another key fails.
    let stranger = stack.fixture.dir.join("stranger.pub");
    std::fs::write(&stranger, pedigree_core::keys::KeyPair::generate().public().to_hex()).unwrap();
    let out = run(
        &stack,
        &[
            "verify",
            "--offline",
            bundle.to_str().unwrap(),
            "--key",
            stranger.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());

    let genesis = stack.fixture.genesis_path.to_str().unwrap().to_string();
    let out = ok(
        &stack,
        &["audit", "--brokers", &stack.broker.brokers(), "--genesis", &genesis],
    );
    assert!(out.starts_with("OK: 5 blocks"), "{out}");
    // The same audit through the verifier's API, signed in as the auditor.
    let api = format!("https://{}", stack.verifier_grpc);
    let out = ok(&stack, &["audit", "--api", &api, "--genesis", &genesis]);
    assert!(out.starts_with("OK: 5 blocks"), "{out}");
    // A pharmacy may not read blocks.
    let out = run(
        &stack,
        &["audit", "--api", &api, "--genesis", &genesis, "--as", "city-pharmacy"],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("PermissionDenied"),
        "{out:?}"
    );
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packs_go_into_a_pallet_that_ships_whole_from_the_command_line() {
    let stack = Stack::spawn().await;
    let g = "09506000134352";
    stack.product("acme-pharma", g).await;
    let pallet = "(00)106141411234567897";
    let wait = |mut args: Vec<&'static str>| {
        args.push("--wait");
        args
    };
    let steps: [Vec<&str>; 4] = [
        wait(vec![
            "commission",
            "--as",
            "acme-pharma",
            "--gtin",
            g,
            "--lot",
            "B7",
            "--expiry",
            "290600",
            "--serial",
            "Y1",
            "--serial",
            "Y2",
        ]),
        wait(vec![
            "pack",
            "--as",
            "acme-pharma",
            "--parent",
            pallet,
            "--gtin",
            g,
            "--serial",
            "Y1",
            "--serial",
            "Y2",
        ]),
        wait(vec![
            "ship",
            "--as",
            "acme-pharma",
            "--container",
            pallet,
            "--to",
            "medline-wholesale",
            "--purchase-order",
            "PO-1",
            "--ship-date",
            "2026-11-30",
        ]),
        wait(vec![
            "receive",
            "--as",
            "medline-wholesale",
            "--container",
            "106141411234567897",
            "--from",
            "acme-pharma",
        ]),
    ];
    for args in &steps {
        let out = ok(&stack, args);
        assert!(out.contains("committed at height"), "{args:?}: {out}");
    }
    // Y1 cannot leave the pallet alone; the holder unpacks everything, then it can.
    let alone = wait(vec![
        "ship",
        "--as",
        "medline-wholesale",
        "--gtin",
        g,
        "--serial",
        "Y1",
        "--to",
        "city-pharmacy",
    ]);
    let out = ok(&stack, &alone);
    assert!(out.contains("REJECT_CODE_IN_CONTAINER"), "{out}");
    let out = ok(
        &stack,
        &wait(vec!["unpack", "--as", "medline-wholesale", "--parent", pallet]),
    );
    assert!(out.contains("committed at height"), "{out}");
    let out = ok(&stack, &alone);
    assert!(out.contains("committed at height"), "{out}");
    // Y1's history, as its last sender reads it: its own events and the pallet's, each proof checked offline.
    let proofs = stack.fixture.dir.join("history-y1");
    let out = ok(
        &stack,
        &[
            "history",
            "--as",
            "medline-wholesale",
            "--gtin",
            g,
            "--serial",
            "Y1",
            "--proofs-out",
            proofs.to_str().unwrap(),
        ],
    );
    let history: serde_json::Value = serde_json::from_str(&out).expect("history is JSON");
    assert_eq!(history["complete"], true, "{out}");
    let kinds: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["commission", "pack", "ship", "receive", "unpack", "ship"],
        "{out}"
    );
    assert_eq!(history["events"][2]["container"], pallet, "{out}");
    assert_eq!(history["events"][5]["counterparty"], "city-pharmacy", "{out}");
    let files = std::fs::read_dir(&proofs).unwrap().count();
    assert_eq!(files, kinds.len());
    // The pallet's own history, by its SSCC.
    let out = ok(&stack, &["history", "--as", "medline-wholesale", "--sscc", pallet]);
    let container: serde_json::Value = serde_json::from_str(&out).expect("history is JSON");
    let kinds_of_pallet: Vec<&str> = container["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds_of_pallet, ["pack", "ship", "receive", "unpack"], "{out}");
    let first = &history["events"][0];
    let bundle = proofs.join(format!("{}-{}.json", first["height"], first["index"]));
    let key = stack.fixture.dir.join("sequencer.pub");
    let out = ok(
        &stack,
        &[
            "verify",
            "--offline",
            bundle.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    );
    assert!(out.starts_with("OK:") && out.contains("signed by acme-pharma"), "{out}");
    // A participant that never held it is refused.
    let out = run(
        &stack,
        &["history", "--as", "harbour-pharmacy", "--gtin", g, "--serial", "Y1"],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("PermissionDenied"),
        "{out:?}"
    );
    // A pack or container is needed.
    let out = run(&stack, &["ship", "--as", "medline-wholesale", "--to", "city-pharmacy"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("name packs"), "{out:?}");
    stack.shutdown().await;
}

/// Runs a `register-product` until custody has seen its prefix attested (it follows the sealed registry
/// asynchronously): the output.
fn once_attested(stack: &Stack, args: &[&str]) -> String {
    for _ in 0..100 {
        let out = run(stack, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            return String::from_utf8_lossy(&out.stdout).into_owned();
        }
        assert!(stderr.contains("prefix"), "pedigree {args:?} failed: {stderr}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("custody does not know the prefix of {args:?} after 5 s");
}

/// Runs `args` until custody knows every party it names (it follows the sealed registry asynchronously): the output.
fn once_known(stack: &Stack, args: &[&str]) -> String {
    for _ in 0..100 {
        let out = run(stack, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            return String::from_utf8_lossy(&out.stdout).into_owned();
        }
        assert!(stderr.contains("unknown"), "pedigree {args:?} failed: {stderr}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("custody does not know the parties of {args:?} after 5 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_3pl_and_a_repackager_from_the_command_line() {
    let stack = Stack::spawn().await;
    let (g, unit) = ("09506000134352", "04012345678901");
    for (id, role) in [("harbour-3pl", "3pl"), ("unit-repack", "repackager")] {
        let pem = stack.fixture.dir.join(format!("{id}.pem"));
        ok(&stack, &["keygen", "--out", pem.to_str().unwrap()]);
        let out = ok(
            &stack,
            &[
                "register",
                "--id",
                id,
                "--role",
                role,
                "--name",
                id,
                "--public-key-of",
                pem.to_str().unwrap(),
                "--wait",
            ],
        );
        assert!(out.contains("committed"), "{out}");
    }
    // Acme's product, and the repackager's own under its own prefix (as the README does it).
    stack.product("acme-pharma", g).await;
    let out = ok(
        &stack,
        &[
            "attest-prefixes",
            "--id",
            "unit-repack",
            "--prefix",
            "4012345",
            "--wait",
        ],
    );
    assert!(out.contains("committed"), "{out}");
    let register = [
        "register-product",
        "--as",
        "unit-repack",
        "--gtin",
        unit,
        "--name",
        "Paracetamol 500 mg (unit dose)",
        "--form",
        "tablet",
        "--pack-size",
        "10",
        "--wait",
    ];
    assert!(once_attested(&stack, &register).contains("committed"));
    let commission = [
        "commission",
        "--as",
        "acme-pharma",
        "--gtin",
        g,
        "--lot",
        "B7",
        "--expiry",
        "290600",
        "--serial",
        "W1",
        "--serial",
        "W2",
        "--wait",
    ];
    assert!(ok(&stack, &commission).contains("committed"));
    let to_3pl = [
        "ship",
        "--as",
        "acme-pharma",
        "--gtin",
        g,
        "--serial",
        "W1",
        "--to",
        "harbour-3pl",
        "--wait",
    ];
    assert!(once_known(&stack, &to_3pl).contains("committed"));
    let steps: [&[&str]; 3] = [
        &[
            "receive",
            "--as",
            "harbour-3pl",
            "--gtin",
            g,
            "--serial",
            "W1",
            "--from",
            "acme-pharma",
            "--wait",
        ],
        &[
            "ship",
            "--as",
            "harbour-3pl",
            "--gtin",
            g,
            "--serial",
            "W1",
            "--to",
            "medline-wholesale",
            "--owner",
            "acme-pharma",
            "--wait",
        ],
        &[
            "receive",
            "--as",
            "medline-wholesale",
            "--gtin",
            g,
            "--serial",
            "W1",
            "--over-serial",
            "W9",
            "--from",
            "harbour-3pl",
            "--wait",
        ],
    ];
    for args in steps {
        let out = once_known(&stack, args);
        assert!(out.contains("committed at height"), "{args:?}: {out}");
    }
    let to_repack = [
        "ship",
        "--as",
        "acme-pharma",
        "--gtin",
        g,
        "--serial",
        "W2",
        "--to",
        "unit-repack",
        "--wait",
    ];
    assert!(once_known(&stack, &to_repack).contains("committed"));
    let steps: [&[&str]; 2] = [
        &[
            "receive",
            "--as",
            "unit-repack",
            "--gtin",
            g,
            "--serial",
            "W2",
            "--from",
            "acme-pharma",
            "--wait",
        ],
        &[
            "commission",
            "--as",
            "unit-repack",
            "--gtin",
            unit,
            "--lot",
            "U1",
            "--expiry",
            "290600",
            "--serial",
            "V1",
            "--serial",
            "V2",
            "--source-gtin",
            g,
            "--source-serial",
            "W2",
            "--wait",
        ],
    ];
    for args in steps {
        let out = once_known(&stack, args);
        assert!(out.contains("committed at height"), "{args:?}: {out}");
    }
    let out = ok(&stack, &["verify", &format!("(01){g}(21)W2"), "--as", "acme-pharma"]);
    assert!(out.contains(r#""decommission_reason": "repackaged""#), "{out}");
    let out = ok(&stack, &["verify", &format!("(01){unit}(21)V1"), "--as", "unit-repack"]);
    assert!(out.contains(r#""repackaged_by""#) && out.contains("ACTIVE"), "{out}");
    stack.shutdown().await;
}

/// A minimal HTTP/1.1 receiver on `listener`: checks each POST's `x-pedigree-signature` against `secret`, keeps the
/// bodies it accepts, answers 200.
async fn receive_webhooks(
    listener: tokio::net::TcpListener,
    secret: &'static [u8],
    bodies: std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        let bodies = bodies.clone();
        tokio::spawn(async move {
            let mut buffer = Vec::new();
            loop {
                // One request: headers, then content-length bytes of body.
                let end = loop {
                    if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                        break end + 4;
                    }
                    let mut chunk = [0u8; 4096];
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                    }
                };
                let head = String::from_utf8_lossy(&buffer[..end]).to_lowercase();
                let header = |name: &str| {
                    head.lines()
                        .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_string))
                        .unwrap_or_default()
                };
                let length: usize = header("content-length").parse().unwrap_or(0);
                while buffer.len() < end + length {
                    let mut chunk = [0u8; 4096];
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                    }
                }
                let body: Vec<u8> = buffer.drain(..end + length).skip(end).collect();
                let expected = {
                    use hmac::{KeyInit, Mac};
                    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
                    mac.update(&body);
                    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
                };
                let status = if header("x-pedigree-signature") == expected {
                    bodies.lock().unwrap().push(serde_json::from_slice(&body).unwrap());
                    "200 OK"
                } else {
                    "401 Unauthorized"
                };
                let answer = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n");
                if socket.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_receiver_that_was_down_receives_what_it_missed() {
    let stack = Stack::spawn().await;
    let g = "09506000134352";
    stack.product("acme-pharma", g).await;
    let sealed = |who: &'static str, b| {
        let stack = &stack;
        async move {
            let id = stack.submit_as(who, b).await.expect("taken").event_id;
            stack.outcome(&id).await
        }
    };
    use pedigree_e2e::body;
    sealed("acme-pharma", body::commission(g, "L1", "291231", &["W1", "W2"])).await;
    sealed("acme-pharma", body::ship(g, &["W1", "W2"], "city-pharmacy")).await;

    // The receiver's port, with nothing listening on it yet: the relay retries.
    let port = pedigree_devstack::free_port();
    let cursor = stack.fixture.dir.join("webhook.cursor");
    let relay = |max: &str| {
        Command::new(pedigree())
            .args([
                "--insecure-plaintext",
                "webhook",
                "--as",
                "city-pharmacy",
                "--url",
                &format!("http://127.0.0.1:{port}/hooks/pedigree"),
                "--cursor-file",
                cursor.to_str().unwrap(),
                "--from-genesis",
                "--max",
                max,
            ])
            .env("PEDIGREE_DIR", &stack.fixture.dir)
            .env("PEDIGREE_CA", &stack.ca_path)
            .env("PEDIGREE_LEDGER", format!("https://{}", stack.verifier_grpc))
            .env("PEDIGREE_WEBHOOK_SECRET", "s3cret")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("starting pedigree webhook")
    };
    let first = relay("2");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    sealed("city-pharmacy", body::receive(g, &["W1", "W2"], "acme-pharma")).await;

    // The receiver comes up: it gets the shipment and the receipt, in order, signed.
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let receiver = tokio::spawn(receive_webhooks(listener, b"s3cret", bodies.clone()));
    let out = tokio::task::spawn_blocking(move || first.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("unreachable"),
        "the receiver was down at first: {stderr}"
    );
    let kinds = |bodies: &[serde_json::Value]| -> Vec<String> {
        bodies.iter().map(|b| b["kind"].as_str().unwrap().to_string()).collect()
    };
    let got = bodies.lock().unwrap().clone();
    assert_eq!(kinds(&got), ["SHIPMENT", "EVENT_COMMITTED"], "{got:?}");
    assert_eq!(got[0]["items"][0], format!("01{g}21W1"));

    // Restarted later, the relay resumes after the last delivered: only what is new.
    sealed("city-pharmacy", body::dispense(g, &["W1"])).await;
    let second = relay("1");
    let out = tokio::task::spawn_blocking(move || second.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got = bodies.lock().unwrap().clone();
    assert_eq!(
        kinds(&got),
        ["SHIPMENT", "EVENT_COMMITTED", "EVENT_COMMITTED"],
        "{got:?}"
    );
    assert_ne!(got[1]["event_id"], got[2]["event_id"], "nothing delivered twice");
    receiver.abort();
    stack.shutdown().await;
}
