//! Each scenario at a tiny size against a spawned stack (real tansu broker and redis-server): the exactly-once
//! check passes and nothing failed. No timing is asserted.

use clap::Parser;
use pedigree_loadtest::{Cli, run};

async fn smoke(args: &[&str]) -> pedigree_loadtest::Outcome {
    let out = tempfile::tempdir().unwrap();
    let mut argv = vec!["pedigree-loadtest", "spawn"];
    argv.extend_from_slice(args);
    argv.extend_from_slice(&["--skip-limits", "--clients", "8", "--out", out.path().to_str().unwrap()]);
    let outcome = run(Cli::try_parse_from(argv).unwrap()).await.unwrap();
    let r = &outcome.report;
    assert!(r.exactly_once.ok, "{}", outcome.summary);
    assert!(r.exactly_once.acked > 0, "{}", outcome.summary);
    assert_eq!(r.exactly_once.rejected, 0, "{}", outcome.summary);
    assert_eq!(r.error_total(), 0, "{}", outcome.summary);
    assert!(r.phases.iter().all(|p| p.skipped == 0), "{}", outcome.summary);
    assert!(outcome.dir.join("report.json").is_file());
    assert!(outcome.dir.join("plot.png").is_file());
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_tiny() {
    let outcome = smoke(&["ingest", "--events", "60"]).await;
    let phases: Vec<_> = outcome.report.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(phases, ["flat-out", "half-rate"]);
    // 10 chains of 6, then 5 chains of 6.
    assert_eq!(outcome.report.exactly_once.acked, 90);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_tiny() {
    let outcome = smoke(&["bulk", "--packs", "300", "--pack-size", "100"]).await;
    assert_eq!(outcome.report.exactly_once.acked, 9);
    assert_eq!(outcome.report.phases[0].series["sealed"].units, 900);
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
        "2000",
    ];
    let outcome = smoke(&args).await;
    let r = &outcome.report;
    assert_eq!(r.phase("verify-grpc").unwrap().series["verify-grpc"].count, 200);
    assert_eq!(r.phase("verify-http").unwrap().series["verify-http"].count, 200);
    // Then the same scans at a steady rate, whose latencies the targets are checked on.
    assert_eq!(r.phase("verify-grpc-paced").unwrap().series["verify-grpc"].count, 200);
    assert_eq!(r.phase("verify-http-paced").unwrap().series["verify-http"].count, 200);
    // Each paced scan also says how late the generator sent it; flat-out scans are not due at any time.
    assert_eq!(r.phase("verify-grpc-paced").unwrap().series["send-lag"].count, 200);
    assert!(!r.phase("verify-grpc").unwrap().series.contains_key("send-lag"));
    let latency = r
        .targets
        .iter()
        .find(|t| t.what.starts_with("verify gRPC latency"))
        .unwrap();
    assert!(latency.what.contains("paced"), "{}", latency.what);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_tiny() {
    let outcome = smoke(&[
        "mixed",
        "--events",
        "60",
        "--packs",
        "100",
        "--pack-size",
        "50",
        "--scan-clients",
        "2",
    ])
    .await;
    let mixed = outcome.report.phase("mixed").unwrap();
    assert_eq!(mixed.series["submit"].count, 60);
}
