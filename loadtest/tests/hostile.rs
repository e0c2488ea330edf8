//! A short hostile run, as `make test` runs it: the system as real processes with its default limits, legitimate
//! pharmacies scanning while slowloris connections, slow headers, oversized requests and an abusive address attack
//! the verifier. No legitimate scan is refused, the verifier never restarts, each attacker gets its documented
//! answer. (`make hostile` runs the full one, whose latency and memory are compared with their targets.)

use pedigree_loadtest::hostile::{self, HostileArgs};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legitimate_scans_are_served_while_the_verifier_is_attacked() {
    let out = tempfile::tempdir().expect("tempdir");
    let args = HostileArgs {
        duration: 8,
        warmup: 3,
        slowloris: 300,
        slow_headers: 30,
        floods: 2,
        flood_bytes: 1024 * 1024,
        abusive: 4,
        pharmacies: 4,
        scan_rate: 5,
        attack_nice: 19,
        attack_exe: Some(env!("CARGO_BIN_EXE_pedigree-loadtest").into()),
        bin_dir: None,
        out: out.path().to_path_buf(),
    };
    let outcome = hostile::run(args).await.expect("the hostile run ran");
    println!("{}", outcome.summary);
    let r = &outcome.report;
    assert!(r.legit_scans >= 4 * 5 * 7, "{} legitimate scans", r.legit_scans);
    assert!(
        r.legit_errors.is_empty(),
        "legitimate scans refused: {:?}",
        r.legit_errors
    );
    assert_eq!(r.verifier_restarts, 0);
    // The abusive address is told to slow down; the oversized requests are refused, not served.
    assert!(r.abusive.get("429").copied().unwrap_or(0) > 0, "{:?}", r.abusive);
    assert!(
        !r.floods.contains_key("http 200") && !r.floods.contains_key("grpc ok"),
        "{:?}",
        r.floods
    );
    assert!(
        r.floods.get("grpc OutOfRange").copied().unwrap_or(0) > 0,
        "{:?}",
        r.floods
    );
    // Slow headers are cut off by the header-read timeout (5 s) within the run.
    assert!(
        r.slow_headers.get("cut off").copied().unwrap_or(0) > 0,
        "{:?}",
        r.slow_headers
    );
    assert!(!r.slow_headers.contains_key("outlasted"), "{:?}", r.slow_headers);
}
