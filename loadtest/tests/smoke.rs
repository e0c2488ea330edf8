//! Each scenario at a tiny size and with short windows (a half-second warm-up, two-second windows) against a spawned
//! stack (real tansu broker and redis-server): the exactly-once check passes, nothing failed, and each phase reports
//! the window it was measured over. No timing is asserted.

use clap::Parser;
use pedigree_loadtest::{Cli, run};

async fn smoke(args: &[&str]) -> pedigree_loadtest::Outcome {
    let out = tempfile::tempdir().unwrap();
    let mut argv = vec!["pedigree-loadtest", "spawn"];
    argv.extend_from_slice(args);
    argv.extend_from_slice(&[
        "--skip-limits",
        "--clients",
        "8",
        "--warmup",
        "0.5",
        "--duration",
        "2",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    let outcome = run(Cli::try_parse_from(argv).unwrap()).await.unwrap();
    let r = &outcome.report;
    assert!(r.exactly_once.ok, "{}", outcome.summary);
    assert!(r.exactly_once.acked > 0, "{}", outcome.summary);
    assert_eq!(r.exactly_once.rejected, 0, "{}", outcome.summary);
    assert_eq!(r.error_total(), 0, "{}", outcome.summary);
    assert!(r.phases.iter().all(|p| p.skipped == 0), "{}", outcome.summary);
    for p in r.phases.iter().filter(|p| p.name != "population") {
        assert_eq!(p.window.warmup_secs, Some(0.5), "{}", outcome.summary);
        assert_eq!(p.window.asked_secs, Some(2.0), "{}", outcome.summary);
        assert!(p.window.secs <= 2.0 + 1e-9, "{}", outcome.summary);
    }
    assert!(outcome.dir.join("report.json").is_file());
    assert!(outcome.dir.join("plot.png").is_file());
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_tiny() {
    // The pool is sized for 2,000 events/s over the warm-up and the window.
    let outcome = smoke(&["ingest", "--max-rate", "2000"]).await;
    let r = &outcome.report;
    let phases: Vec<_> = r.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(phases, ["flat-out", "half-rate"]);
    // Every acknowledged event, warm-up and drain included, was sealed and timed.
    let sealed: u64 = r.phases.iter().map(|p| p.series["sealed"].phase_units).sum();
    assert_eq!(sealed, r.exactly_once.acked, "{}", outcome.summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_tiny() {
    // A pool given explicitly and far too small for the window: the window ends where it ran out, and says so.
    let outcome = smoke(&["bulk", "--packs", "300", "--pack-size", "100"]).await;
    let bulk = &outcome.report.phases[0];
    assert_eq!(outcome.report.exactly_once.acked, 9);
    assert_eq!(bulk.series["sealed"].phase_units, 900);
    assert!(bulk.window.cut.is_some(), "{}", outcome.summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_tiny() {
    let args = [
        "verify",
        "--packs",
        "200",
        "--pack-size",
        "50",
        "--scans",
        "200",
        "--scan-rate",
        "500",
    ];
    let outcome = smoke(&args).await;
    let r = &outcome.report;
    assert!(r.phase("verify-grpc").unwrap().series["verify-grpc"].phase_count > 0);
    assert!(r.phase("verify-http").unwrap().series["verify-http"].phase_count > 0);
    // Then at a steady rate, whose latencies the targets are checked on: every scan due in the warm-up and the
    // window (500/s for 2.5 s) is sent.
    assert_eq!(
        r.phase("verify-grpc-paced").unwrap().series["verify-grpc"].phase_count,
        1250
    );
    assert_eq!(
        r.phase("verify-http-paced").unwrap().series["verify-http"].phase_count,
        1250
    );
    // Each paced scan also says how late the generator sent it; flat-out scans are not due at any time.
    assert_eq!(
        r.phase("verify-grpc-paced").unwrap().series["send-lag"].phase_count,
        1250
    );
    assert!(!r.phase("verify-grpc").unwrap().series.contains_key("send-lag"));
    let latency = r
        .targets
        .iter()
        .find(|t| t.what.starts_with("verify gRPC latency"))
        .unwrap();
    assert!(latency.what.contains("paced"), "{}", latency.what);
    let window = latency.window_secs.unwrap();
    assert!((window - 2.0).abs() < 1e-3, "{window}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_tiny() {
    // With a small cap of events waiting to be sealed, so the clients are held back by the sealing.
    let outcome = smoke(&[
        "mixed",
        "--max-backlog",
        "30",
        "--max-rate",
        "2000",
        "--packs",
        "100",
        "--pack-size",
        "50",
        "--scan-clients",
        "2",
    ])
    .await;
    let mixed = outcome.report.phase("mixed").unwrap();
    for series in ["submit", "sealed", "verify-grpc", "verify-http"] {
        assert!(mixed.series[series].phase_count > 0, "{series}: {}", outcome.summary);
    }
}
