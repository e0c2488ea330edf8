//! A short chaos run, as `make test` runs it: the system as real processes, each of the five components SIGKILLed
//! once and one pause longer than the clients' timeout, under chains of custody and scans. Every check of the run
//! must pass: nothing acknowledged lost or sealed twice, no wrong verdict, Redis and every verify answer equal to a
//! replay of the log, every fault recovered from. (`make chaos` runs the full one: 25 kills, 3 pauses.)

use pedigree_loadtest::chaos::{self, ChaosArgs, plan::Component};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_chaos_run_loses_nothing_and_answers_nothing_wrong() {
    let out = tempfile::tempdir().expect("tempdir");
    let args = ChaosArgs {
        seed: std::env::var("PEDIGREE_CHAOS_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(7),
        kills: 5,
        pauses: 1,
        pause_secs: 8,
        min_gap_ms: 500,
        max_gap_ms: 3000,
        clients: 3,
        scanners: 1,
        batch_max_events: 20,
        recovery_timeout_secs: 120,
        dir: None,
        bin_dir: None,
        out: out.path().to_path_buf(),
    };
    let outcome = chaos::run(args).await.expect("the chaos run ran");
    println!("{}", outcome.summary);
    let r = &outcome.report;
    assert!(r.ok, "chaos run failed: {:?}\n{}", r.failures, outcome.summary);
    for c in Component::ALL {
        let s = &r.components[c.name()];
        assert_eq!(s.kills, 1, "{} killed once", c.name());
        assert_eq!(s.restarts, 1, "{} restarted once by the supervisor", c.name());
    }
    assert!(r.exactly_once.acked > 0);
    assert_eq!(r.exactly_once.lost + r.exactly_once.duplicated, 0);
    assert_eq!(r.wrong_count(), 0);
    assert!(r.replay.compared > 20, "the replay check scanned the run's packs");
    assert!(outcome.dir.join("report.json").is_file());
}
