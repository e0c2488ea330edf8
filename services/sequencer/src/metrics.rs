//! The sequencer's metrics (served on `PEDIGREE_METRICS_ADDR`, see `pedigree_runtime::metrics`): blocks sealed and
//! stale, events accepted and rejected, block sizes, how long each phase of sealing took, whether this sequencer
//! leads, the canonical height, how far sealing is behind the events topic ([`watch_lag`]), and the sealing loop's
//! last progress ([`crate::progress`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pedigree_kafka::ClientSettings;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::sync::watch;

use crate::progress::Progress;

/// How often the lag behind the events topic is measured.
pub const LAG_EVERY: Duration = Duration::from_secs(5);

/// The phases of sealing a batch, the `phase` label of `pedigree_sequencer_phase_duration_seconds`.
pub const PHASES: [&str; 6] = ["check", "load", "apply", "seal_append", "read_back", "redis_write"];

type Label = [(&'static str, &'static str); 1];

/// The sequencer's metrics; cheap to clone (clones share the series).
#[derive(Clone, Debug)]
pub struct Metrics {
    blocks_sealed: Counter,
    stale_blocks: Counter,
    events: Family<Label, Counter>,
    block_events: Histogram,
    block_bytes: Histogram,
    phases: Family<Label, Histogram, fn() -> Histogram>,
    failures: Counter,
    leader: Gauge,
    height: Gauge,
    lag: Gauge,
    /// The resume offsets of the canonical tip, per partition, for [`watch_lag`].
    offsets: Arc<Mutex<BTreeMap<i32, i64>>>,
}

fn phase_histogram() -> Histogram {
    Histogram::new(pedigree_runtime::metrics::latency_buckets())
}

impl Metrics {
    /// Registers the sequencer's metrics in `registry`, with the progress gauges of `progress`.
    pub fn register(registry: &mut Registry, progress: &Progress) -> Self {
        let metrics = Self {
            blocks_sealed: Counter::default(),
            stale_blocks: Counter::default(),
            events: Family::default(),
            // 1 to 32768 events.
            block_events: Histogram::new(exponential_buckets(1.0, 2.0, 16)),
            // 1 KiB to 1 MiB.
            block_bytes: Histogram::new(exponential_buckets(1024.0, 2.0, 11)),
            phases: Family::new_with_constructor(phase_histogram),
            failures: Counter::default(),
            leader: Gauge::default(),
            height: Gauge::default(),
            lag: Gauge::default(),
            offsets: Arc::default(),
        };
        for result in ["accepted", "rejected"] {
            let _ = metrics.events.get_or_create(&[("result", result)]);
        }
        for phase in PHASES {
            let _ = metrics.phases.get_or_create(&[("phase", phase)]);
        }
        registry.register(
            "pedigree_sequencer_blocks_sealed",
            "Blocks this sequencer sealed that became canonical",
            metrics.blocks_sealed.clone(),
        );
        registry.register(
            "pedigree_sequencer_stale_blocks",
            "Blocks this sequencer sealed and appended that did not become canonical (another block got their \
             height first, or a higher epoch): a second sequencer believes it leads",
            metrics.stale_blocks.clone(),
        );
        registry.register(
            "pedigree_sequencer_events",
            "Events in the canonical blocks this sequencer sealed, by result (accepted, or rejected with a code)",
            metrics.events.clone(),
        );
        registry.register(
            "pedigree_sequencer_block_events",
            "Events (accepted and rejected) per sealed block",
            metrics.block_events.clone(),
        );
        registry.register(
            "pedigree_sequencer_block_bytes",
            "Size of each sealed block in bytes, as appended to the blocks topic",
            metrics.block_bytes.clone(),
        );
        registry.register(
            "pedigree_sequencer_phase_duration_seconds",
            "Time spent per batch in each phase of sealing: check (signatures), load (Redis reads), apply (the \
             custody rules), seal_append (sign and append to the blocks topic), read_back (the topic read back past \
             the block), redis_write (the block's effects written to Redis)",
            metrics.phases.clone(),
        );
        registry.register(
            "pedigree_sequencer_sealing_failures",
            "Times the sealing loop failed on Redis or the broker and retried from the canonical tip",
            metrics.failures.clone(),
        );
        registry.register(
            "pedigree_sequencer_leader",
            "1 while this sequencer holds a term and seals, 0 while it stands by",
            metrics.leader.clone(),
        );
        registry.register(
            "pedigree_sequencer_height",
            "Height of the canonical tip as this sequencer last read it",
            metrics.height.clone(),
        );
        registry.register(
            "pedigree_sequencer_events_lag_messages",
            "Messages in the events topic beyond the canonical tip's resume offsets (summed over partitions), \
             measured every 5 s while leading; 0 while standing by",
            metrics.lag.clone(),
        );
        registry.register(
            "pedigree_sequencer_last_progress_timestamp_seconds",
            "Unix time of the sealing loop's last progress (a block sealed or replayed, a batch taken), or of the \
             start",
            progress.last_progress().clone(),
        );
        registry.register(
            "pedigree_sequencer_stalled",
            "1 while the sealing loop has been busy without progress longer than PEDIGREE_STALL_SECS (health \
             NOT_SERVING), else 0",
            progress.stalled_gauge().clone(),
        );
        metrics
    }

    /// A canonical block sealed by this sequencer.
    pub fn sealed(&self, accepted: usize, rejected: usize, bytes: usize) {
        self.blocks_sealed.inc();
        self.events
            .get_or_create(&[("result", "accepted")])
            .inc_by(accepted as u64);
        self.events
            .get_or_create(&[("result", "rejected")])
            .inc_by(rejected as u64);
        self.block_events.observe((accepted + rejected) as f64);
        self.block_bytes.observe(bytes as f64);
    }

    /// An own block that did not become canonical.
    pub fn stale(&self) {
        self.stale_blocks.inc();
    }

    /// Time spent in `phase` (one of [`PHASES`]).
    pub fn phase(&self, phase: &'static str, took: Duration) {
        self.phases
            .get_or_create(&[("phase", phase)])
            .observe(took.as_secs_f64());
    }

    pub fn failed(&self) {
        self.failures.inc();
    }

    pub fn leading(&self, leading: bool) {
        self.leader.set(i64::from(leading));
        if !leading {
            self.lag.set(0);
        }
    }

    /// The canonical tip as just read: its height and the events-topic offsets to resume from.
    pub fn tip(&self, height: u64, offsets: &BTreeMap<i32, i64>) {
        self.height.set(i64::try_from(height).unwrap_or(i64::MAX));
        offsets.clone_into(&mut self.offsets.lock().unwrap_or_else(|e| e.into_inner()));
    }

    fn is_leading(&self) -> bool {
        self.leader.get() == 1
    }
}

/// While leading, measures every [`LAG_EVERY`] how many messages of `topic` lie beyond the canonical tip's resume
/// offsets (a partition without one counts from its low watermark), until `stop` turns true. A broker that does not
/// answer leaves the last value.
pub async fn watch_lag(metrics: Metrics, kafka: ClientSettings, topic: String, mut stop: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(LAG_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if !metrics.is_leading() {
            metrics.lag.set(0);
            continue;
        }
        let offsets = metrics.offsets.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let (kafka, topic) = (kafka.clone(), topic.clone());
        let measured = tokio::task::spawn_blocking(move || lag(&kafka, &topic, &offsets)).await;
        match measured {
            Ok(Ok(lag)) if metrics.is_leading() => {
                metrics.lag.set(lag);
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::debug!(error = %e, "measuring the events topic lag"),
            Err(e) => tracing::debug!(error = %e, "measuring the events topic lag"),
        }
    }
}

/// Messages of `topic` beyond `offsets`, summed over its partitions.
fn lag(kafka: &ClientSettings, topic: &str, offsets: &BTreeMap<i32, i64>) -> pedigree_kafka::Result<i64> {
    Ok(lag_of(&pedigree_kafka::all_watermarks(kafka, topic)?, offsets))
}

/// Messages beyond `offsets` in partitions whose (low, high) watermarks are `watermarks` (partition i at index i); a
/// partition without an offset is read from its low watermark.
fn lag_of(watermarks: &[(i64, i64)], offsets: &BTreeMap<i32, i64>) -> i64 {
    (0..)
        .zip(watermarks)
        .map(|(partition, &(low, high))| (high - offsets.get(&partition).copied().unwrap_or(low)).max(0))
        .sum()
}

/// What the sequencer's `/metrics` serves before anything happened: every metric it exports.
pub fn exported() -> String {
    let mut registry = pedigree_runtime::metrics::registry("sequencer");
    Metrics::register(&mut registry, &Progress::default());
    pedigree_runtime::metrics::render(&registry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_phases_and_leadership_render() {
        let mut registry = pedigree_runtime::metrics::registry("sequencer");
        let progress = Progress::default();
        let metrics = Metrics::register(&mut registry, &progress);
        metrics.leading(true);
        metrics.sealed(3, 1, 2048);
        metrics.stale();
        metrics.phase("seal_append", Duration::from_millis(7));
        metrics.tip(5, &BTreeMap::from([(0, 42)]));
        let text = pedigree_runtime::metrics::render(&registry);
        for want in [
            "pedigree_sequencer_blocks_sealed_total 1",
            "pedigree_sequencer_stale_blocks_total 1",
            "pedigree_sequencer_events_total{result=\"accepted\"} 3",
            "pedigree_sequencer_events_total{result=\"rejected\"} 1",
            "pedigree_sequencer_block_events_count 1",
            "pedigree_sequencer_block_events_sum 4.0",
            "pedigree_sequencer_block_bytes_sum 2048.0",
            "pedigree_sequencer_phase_duration_seconds_count{phase=\"seal_append\"} 1",
            "pedigree_sequencer_phase_duration_seconds_count{phase=\"redis_write\"} 0",
            "pedigree_sequencer_leader 1",
            "pedigree_sequencer_height 5",
            "pedigree_sequencer_events_lag_messages 0",
            "pedigree_sequencer_stalled 0",
            "# TYPE pedigree_sequencer_last_progress_timestamp_seconds gauge",
        ] {
            assert!(text.contains(want), "no {want:?} in\n{text}");
        }
        assert_eq!(*metrics.offsets.lock().unwrap(), BTreeMap::from([(0, 42)]));
        metrics.leading(false);
        assert!(pedigree_runtime::metrics::render(&registry).contains("pedigree_sequencer_leader 0"));
    }

    #[test]
    fn the_lag_counts_what_lies_beyond_the_resume_offsets() {
        // Partition 0 resumes at 40 of 50; partition 1 has no offset (read from its low watermark 5); partition 2
        // is caught up.
        let watermarks = [(0, 50), (5, 12), (0, 9)];
        let offsets = BTreeMap::from([(0, 40), (2, 9)]);
        assert_eq!(lag_of(&watermarks, &offsets), 10 + 7);
        assert_eq!(lag_of(&[(0, 3)], &BTreeMap::from([(0, 3)])), 0);
        // An offset past the high watermark (never, but) counts as no lag, not a negative one.
        assert_eq!(lag_of(&[(0, 3)], &BTreeMap::from([(0, 5)])), 0);
    }
}
