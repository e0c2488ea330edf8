//! A short failover measurement, as `make test` runs it (`make failover` runs 10^5 and 10^6 blocks): chains of 500
//! and 5,000 signed blocks produced to the blocks topic, a sequencer that folds them into an empty Redis, then new
//! sequencers started from the checkpoint Redis keeps; each seals a probe event. Asserted: every start seals (no
//! timing is asserted; the figures are in the report).

use pedigree_loadtest::failover::{self, FailoverArgs};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_leaders_seal_after_a_fold_and_after_a_checkpoint_start() {
    let out = tempfile::tempdir().expect("tempdir");
    let args = FailoverArgs {
        blocks: vec![500, 5000],
        repeats: 2,
        in_flight: 500,
        out: out.path().to_path_buf(),
    };
    let (report, dir, summary) = failover::run(args).await.expect("the failover measurement ran");
    println!("{summary}");
    assert_eq!(report.sizes.len(), 2);
    for size in &report.sizes {
        assert_eq!(
            size.checkpoint_secs.len(),
            2,
            "{} blocks: two checkpoint starts",
            size.blocks
        );
        assert!(size.fold_secs > 0.0 && size.checkpoint_max_secs > 0.0);
    }
    assert!(dir.join("report.json").is_file());
}
