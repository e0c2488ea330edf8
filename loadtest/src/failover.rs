//! `pedigree-loadtest failover`: how long a new sequencer leader takes to seal again, against the length of the
//! chain. For each size N: a stack without a sequencer (tansu, Redis, custody, verifier); N signed blocks (no events,
//! as a quiet chain would have) produced to the blocks topic; then
//!
//! 1. **fold**: a sequencer started on the empty Redis folds the topic from genesis, writing every block to Redis
//!    (what a new leader does when Redis is empty or disagrees);
//! 2. **checkpoint**: that sequencer stopped, a new one started `repeats` times on the Redis it left: it resumes from
//!    Redis `head`, checked against the blocks topic from that block on.
//!
//! Each time is from the start of `App::build` until a commission submitted at that moment reads back sealed (the
//! status polled every 20 ms). The checkpoint time should not grow with N.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use futures::stream::{FuturesUnordered, StreamExt};
use pedigree_core::block::{BlockContent, Tip, seal};
use pedigree_core::body;
use pedigree_core::participant::Registry;
use pedigree_core::pb::{EventState, GetEventStatusRequest, SignedEnvelope};
use pedigree_e2e::{BLOCKS_TOPIC, Stack};
use pedigree_kafka::{Producer, ProducerSettings, TopicSpec, ensure_topics};
use prost::Message as _;
use serde::Serialize;

use crate::ids::{EXPIRY, RunIds};

#[derive(Args, Debug, Clone)]
pub struct FailoverArgs {
    /// Chain lengths to measure (blocks in the topic), each on a fresh stack.
    #[arg(long = "blocks", value_delimiter = ',', default_values_t = [100_000u64, 1_000_000])]
    pub blocks: Vec<u64>,
    /// Checkpoint starts per size (the median and the largest are reported).
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Produce requests in flight while filling the topic.
    #[arg(long, default_value_t = 2000)]
    pub in_flight: usize,
    /// Folder for results/failover-<timestamp>/.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
}

/// One chain length.
#[derive(Clone, Debug, Serialize)]
pub struct SizeReport {
    pub blocks: u64,
    /// Seconds to sign and produce the blocks (setup, not measured).
    pub fill_secs: f64,
    /// A start on an empty Redis: fold from genesis, then the first seal.
    pub fold_secs: f64,
    /// Starts from the checkpoint Redis holds: each, then median and largest.
    pub checkpoint_secs: Vec<f64>,
    pub checkpoint_median_secs: f64,
    pub checkpoint_max_secs: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct FailoverReport {
    pub started_utc: String,
    pub sizes: Vec<SizeReport>,
    /// The slowest checkpoint start of the size where it is slowest over that of the size where it is fastest:
    /// flat is close to 1.
    pub checkpoint_growth: f64,
}

/// Runs every size and writes `report.json` and `summary.md`.
pub async fn run(args: FailoverArgs) -> anyhow::Result<(FailoverReport, PathBuf, String)> {
    let started_utc = crate::run::timestamp();
    let mut sizes = Vec::new();
    for &n in &args.blocks {
        eprintln!("failover: {n} blocks");
        sizes.push(measure(n, &args).await?);
    }
    // The slowest start per size: the starts are bimodal (about 0.55 s or 1.04 s, at every size), so a median
    // compares modes rather than sizes.
    let slowest: Vec<f64> = sizes.iter().map(|s| s.checkpoint_max_secs).collect();
    let min = slowest.iter().copied().fold(f64::INFINITY, f64::min);
    let max = slowest.iter().copied().fold(0.0, f64::max);
    let report = FailoverReport {
        started_utc,
        sizes,
        checkpoint_growth: if min > 0.0 { max / min } else { 0.0 },
    };
    let dir = args.out.join(format!("failover-{}", report.started_utc));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(dir.join("report.json"), serde_json::to_string_pretty(&report)?)?;
    let summary = render(&report);
    std::fs::write(dir.join("summary.md"), &summary)?;
    Ok((report, dir, summary))
}

fn render(r: &FailoverReport) -> String {
    let mut out = format!(
        "failover {}: time from a sequencer's start to its first seal\n\n| blocks in the topic | fill (setup) | \
         fold from genesis (empty Redis) | from the checkpoint: median | largest | starts |\n|---:|---:|---:|---:|---:|---:|\n",
        r.started_utc
    );
    for s in &r.sizes {
        out.push_str(&format!(
            "| {} | {:.1} s | {:.2} s | {:.3} s | {:.3} s | {} |\n",
            s.blocks,
            s.fill_secs,
            s.fold_secs,
            s.checkpoint_median_secs,
            s.checkpoint_max_secs,
            s.checkpoint_secs.len()
        ));
    }
    out.push_str(&format!(
        "\ncheckpoint start, slowest start of the slowest size over that of the fastest size: {:.2}x\n",
        r.checkpoint_growth
    ));
    out
}

async fn measure(n: u64, args: &FailoverArgs) -> anyhow::Result<SizeReport> {
    let mut stack = Stack::spawn_bare(200).await;
    let fill = Instant::now();
    fill_topic(&stack, n, args.in_flight).await?;
    let fill_secs = fill.elapsed().as_secs_f64();
    eprintln!("failover: {n} blocks produced in {fill_secs:.1} s");
    let ids = RunIds::fresh()?;
    let gtin = ids.gtin()?;
    let lot = ids.lot('F', 0);
    let probe = |stack: &Stack, i: usize| {
        stack.sign(
            MANUFACTURER,
            body::commission(&gtin, &lot, EXPIRY, &[ids.serial('F', i)]),
        )
    };
    // The first probe is the attestation of the manufacturer's prefix, which the product's registration needs.
    let attest = stack.sign_governance(body::attest_prefixes(MANUFACTURER, &[pedigree_e2e::PREFIX]));
    let fold_secs = start_and_seal(&mut stack, attest).await?;
    eprintln!("failover: fold of {n} blocks and first seal: {fold_secs:.2} s");
    stack.product(MANUFACTURER, &gtin).await;
    let mut checkpoint_secs = Vec::new();
    for i in 1..=args.repeats.max(1) {
        stack.stop_sequencer().await;
        let envelope = probe(&stack, i);
        let secs = start_and_seal(&mut stack, envelope).await?;
        eprintln!("failover: start from the checkpoint and first seal: {secs:.3} s");
        checkpoint_secs.push(secs);
    }
    stack.shutdown().await;
    let mut sorted = checkpoint_secs.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(SizeReport {
        blocks: n,
        fill_secs,
        fold_secs,
        checkpoint_median_secs: sorted[sorted.len() / 2],
        checkpoint_max_secs: sorted[sorted.len() - 1],
        checkpoint_secs,
    })
}

/// The fixture's manufacturer, which signs the probes.
const MANUFACTURER: &str = "acme-pharma";

/// Starts the stack's sequencer and submits `probe` at once: seconds until the probe reads back sealed.
async fn start_and_seal(stack: &mut Stack, probe: SignedEnvelope) -> anyhow::Result<f64> {
    let started = Instant::now();
    stack.start_sequencer().await;
    let id = stack
        .submit(probe)
        .await
        .map_err(|s| anyhow::anyhow!("custody: {:?} {}", s.code(), s.message()))?
        .event_id;
    sealed(stack, &id, Duration::from_secs(3600)).await?;
    Ok(started.elapsed().as_secs_f64())
}

/// Signs `n` blocks without events on the genesis (as the stack's sequencer key, epoch 1, a millisecond apart) and
/// produces them, in order, to the blocks topic.
async fn fill_topic(stack: &Stack, n: u64, in_flight: usize) -> anyhow::Result<()> {
    let registry = Registry::from_genesis(&stack.fixture.genesis)?;
    let kafka = stack.kafka();
    ensure_topics(&kafka, &[TopicSpec::blocks(BLOCKS_TOPIC, &Default::default())]).await?;
    // One producer, idempotent and ordered: blocks land in the order they are sent.
    let producer = Producer::new(&kafka, &ProducerSettings::default())?;
    let mut tip = Tip::genesis(registry.chain_id);
    let t0 = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 - n as i64 - 1000;
    let mut pending = FuturesUnordered::new();
    for h in 1..=n {
        let content = BlockContent {
            events: Vec::new(),
            rejected: Vec::new(),
            resume_offsets: Vec::new(),
            time_ms: t0 + h as i64,
            epoch: 1,
            registry_root: registry.root(),
        };
        let (block, next) = seal(&stack.fixture.sequencer, &tip, content);
        tip = next;
        let bytes = block.encode_to_vec();
        let producer = &producer;
        pending.push(async move { producer.send(BLOCKS_TOPIC, b"block", &bytes).await });
        if pending.len() >= in_flight
            && let Some(result) = pending.next().await
        {
            result?;
        }
    }
    while let Some(result) = pending.next().await {
        result?;
    }
    Ok(())
}

/// Polls the event's status until it is committed.
async fn sealed(stack: &Stack, id: &[u8], timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    let mut ledger = stack.ledger().await;
    while Instant::now() < deadline {
        let request = GetEventStatusRequest { event_id: id.to_vec() };
        if let Ok(status) = ledger.get_event_status(request).await {
            match status.into_inner().state() {
                EventState::Committed => return Ok(()),
                EventState::Rejected => bail!("the probe event was rejected"),
                _ => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bail!("the probe event was not sealed within {timeout:?}")
}
