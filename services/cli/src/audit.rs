//! `pedigree audit`: reads the blocks topic from genesis and checks everything (see `pedigree_core::audit`),
//! printing progress on long runs and the first failure precisely.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use pedigree_core::audit::Auditor;
use pedigree_core::participant::Registry;
use pedigree_core::pb::Block;
use pedigree_kafka::{ClientSettings, KafkaError};
use prost::Message;

#[derive(clap::Args)]
pub struct AuditArgs {
    /// Kafka bootstrap servers.
    #[arg(long, env = "PEDIGREE_KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    pub brokers: String,
    /// Kafka TLS and SASL settings (an auditor's user may read the blocks topic only).
    #[command(flatten)]
    pub kafka_security: pedigree_kafka::KafkaSecurity,
    #[arg(long, env = "PEDIGREE_BLOCKS_TOPIC", default_value = "pedigree.blocks")]
    pub blocks_topic: String,
    /// Genesis file (participants and the sequencer key).
    #[arg(long, env = "PEDIGREE_GENESIS", default_value = ".pedigree/genesis.json")]
    pub genesis: PathBuf,
}

pub async fn run(a: AuditArgs) -> anyhow::Result<()> {
    let json = std::fs::read_to_string(&a.genesis).with_context(|| format!("reading {}", a.genesis.display()))?;
    let registry = Registry::from_genesis_json(&json)?;
    let started = Instant::now();
    let kafka = ClientSettings::secured(a.brokers, &a.kafka_security).context("kafka settings")?;
    let result = tokio::task::spawn_blocking(move || audit(&kafka, &a.blocks_topic, registry)).await?;
    let auditor = result?;
    let p = auditor.progress();
    println!(
        "OK: {} blocks (head {}), {} events, {} rejections, {} packs, {} stale blocks skipped, log size {}, in {:.1?}",
        p.blocks,
        auditor.tip().height,
        p.events,
        p.rejections,
        p.packs,
        p.stale,
        auditor.tip().log.size(),
        started.elapsed()
    );
    Ok(())
}

fn audit(kafka: &ClientSettings, topic: &str, registry: Registry) -> anyhow::Result<Auditor> {
    let mut auditor = Auditor::new(registry);
    let mut last_report = Instant::now();
    let mut failure = None;
    let read = pedigree_kafka::read_range(kafka, topic, 0, 0, |offset, payload| {
        let outcome = Block::decode(payload)
            .map_err(|e| format!("block at log position {offset} does not decode: {e}"))
            .and_then(|block| auditor.check(offset as u64, &block).map_err(|e| e.to_string()));
        if let Err(e) = outcome {
            failure = Some(e.clone());
            return Err(KafkaError::Topic {
                topic: topic.into(),
                reason: "audit failed".into(),
            });
        }
        if last_report.elapsed() > Duration::from_secs(2) {
            let p = auditor.progress();
            eprintln!("audited {} blocks, {} events, {} packs...", p.blocks, p.events, p.packs);
            last_report = Instant::now();
        }
        Ok(())
    });
    if let Some(failure) = failure {
        bail!("AUDIT FAILED: {failure}");
    }
    read.context("reading the blocks topic")?;
    Ok(auditor)
}
