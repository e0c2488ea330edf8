//! `pedigree audit`: reads the chain from genesis and checks everything (see `pedigree_core::audit`), printing
//! progress on long runs and the first failure precisely. The chain comes from the blocks topic (every block,
//! stale competitors included), or with `--api` from the verifier's `LedgerService`, signed in as an auditor or
//! authority (the canonical blocks only).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use pedigree_core::audit::Auditor;
use pedigree_core::keys::KeyPair;
use pedigree_core::participant::Registry;
use pedigree_core::pb::ledger_service_client::LedgerServiceClient;
use pedigree_core::pb::{Block, GetBlockRequest, GetHeadRequest};
use pedigree_kafka::{ClientSettings, KafkaError};
use prost::Message;

use crate::connect::{Credentials, signed_in};

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
    /// Read the blocks from this verifier gRPC endpoint instead of the topic.
    #[arg(long)]
    pub api: Option<String>,
    /// With --api: the auditor or authority to sign in as.
    #[arg(long = "as", default_value = "ledger-auditor")]
    pub as_id: String,
    /// With --api: its private key (PKCS#8 PEM); default {genesis folder}/{id}.pem.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Write the sequencer key schedule the audited chain leads to (the file `pedigree verify --offline --key`
    /// reads): the genesis key, then each key a sealed `RotateSequencerKey` named, with the first height it signs.
    #[arg(long)]
    pub sequencer_keys_out: Option<PathBuf>,
}

pub async fn run(a: AuditArgs) -> anyhow::Result<()> {
    let json = std::fs::read_to_string(&a.genesis).with_context(|| format!("reading {}", a.genesis.display()))?;
    let registry = Registry::from_genesis_json(&json)?;
    let started = Instant::now();
    let auditor = match &a.api {
        Some(endpoint) => audit_api(endpoint, &a, registry).await?,
        None => {
            let kafka = ClientSettings::secured(a.brokers.clone(), &a.kafka_security).context("kafka settings")?;
            let topic = a.blocks_topic.clone();
            tokio::task::spawn_blocking(move || audit(&kafka, &topic, registry)).await??
        }
    };
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
    let schedule = auditor.registry().sequencer_keys();
    if schedule.keys().len() > 1 {
        println!("sequencer keys:\n{}", schedule.to_text().trim_end());
    }
    if let Some(path) = &a.sequencer_keys_out {
        std::fs::write(path, schedule.to_text()).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Audits the canonical chain as the verifier serves it, block by block from height 1 to its head.
async fn audit_api(endpoint: &str, a: &AuditArgs, registry: Registry) -> anyhow::Result<Auditor> {
    let dir = a.genesis.parent().unwrap_or(std::path::Path::new("."));
    let key_path = a.key.clone().unwrap_or_else(|| dir.join(format!("{}.pem", a.as_id)));
    let pem = std::fs::read_to_string(&key_path).with_context(|| format!("reading key {}", key_path.display()))?;
    let who = Credentials {
        id: a.as_id.clone(),
        key: KeyPair::from_pem(&pem)?,
        chain_id: registry.chain_id,
    };
    let mut ledger = LedgerServiceClient::new(signed_in(endpoint, &who).await?);
    let refused = |s: tonic::Status| anyhow::anyhow!("refused ({:?}): {}", s.code(), s.message());
    let head = ledger
        .get_head(GetHeadRequest {})
        .await
        .map_err(refused)?
        .into_inner()
        .height;
    let mut auditor = Auditor::new(registry);
    let mut last_report = Instant::now();
    for height in 1..=head {
        let block = ledger
            .get_block(GetBlockRequest { height })
            .await
            .map_err(refused)?
            .into_inner();
        if let Err(e) = auditor.check(height - 1, &block) {
            bail!("AUDIT FAILED: {e}");
        }
        if last_report.elapsed() > Duration::from_secs(2) {
            let p = auditor.progress();
            eprintln!("audited {} blocks, {} events, {} packs...", p.blocks, p.events, p.packs);
            last_report = Instant::now();
        }
    }
    Ok(auditor)
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
