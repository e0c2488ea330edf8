//! `pedigree trace-lot`: where the packs of a lot are now, by holder and status (the product's owner, auditors and
//! authorities); `pedigree history`: where one pack has been (the parties in its chain, auditors and authorities).

use std::path::PathBuf;

use anyhow::Context;
use pedigree_core::container::ContainerKey;

use pedigree_core::pb::trace_service_client::TraceServiceClient;
use pedigree_core::pb::{PackHistoryRequest, TraceLotRequest};
use pedigree_core::proof::BundleJson;
use pedigree_core::verdict::status_name;

use pedigree_runtime::sign_in::Bearer;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::connect::{Credentials, signed_in};

/// Who asks the verifier, and where it is.
#[derive(clap::Args)]
pub struct Asking {
    /// The participant asking (trace-lot: the product's owner; history: one in the pack's chain; or an auditor or an
    /// authority); signs in with its key.
    #[arg(long = "as")]
    pub as_id: String,
    /// That participant's private key (PKCS#8 PEM); default {dir}/{id}.pem.
    #[arg(long)]
    pub signer_key: Option<PathBuf>,
    /// Verifier gRPC endpoint.
    #[arg(long, env = "PEDIGREE_VERIFIER", default_value = "https://127.0.0.1:50052")]
    pub verifier: String,
    /// Folder with genesis.json and keys (as written by `pedigree up`).
    #[arg(long, env = "PEDIGREE_DIR", default_value = ".pedigree")]
    pub dir: PathBuf,
}

impl Asking {
    /// A connection to the verifier signed in as the participant asking.
    async fn trace_client(&self) -> anyhow::Result<TraceServiceClient<InterceptedService<Channel, Bearer>>> {
        let who = Credentials::load(&self.as_id, self.signer_key.as_deref(), &self.dir)?;
        Ok(TraceServiceClient::new(signed_in(&self.verifier, &who).await?))
    }
}

#[derive(clap::Args)]
pub struct TraceLotArgs {
    /// GTIN-14 of the product.
    #[arg(long)]
    pub gtin: String,
    /// The lot as commissioned.
    #[arg(long)]
    pub lot: String,
    #[command(flatten)]
    pub asking: Asking,
}

pub async fn run(a: TraceLotArgs) -> anyhow::Result<()> {
    let trace = a
        .asking
        .trace_client()
        .await?
        .trace_lot(TraceLotRequest {
            gtin: a.gtin,
            lot: a.lot,
        })
        .await
        .map_err(|s| anyhow::anyhow!("{:?}: {}", s.code(), s.message()))?
        .into_inner();
    let places: Vec<serde_json::Value> = trace
        .places
        .iter()
        .map(|p| {
            serde_json::json!({
                "holder": p.holder, "status": status_name(p.status()), "packs": p.packs, "suspect": p.suspect,
            })
        })
        .collect();
    let json = serde_json::json!({
        "gtin": trace.gtin, "lot": trace.lot, "height": trace.height, "packs": trace.packs, "places": places,
    });
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(())
}

#[derive(clap::Args)]
pub struct HistoryArgs {
    /// GTIN-14 of the pack.
    #[arg(long, required_unless_present = "sscc", requires = "serial")]
    pub gtin: Option<String>,
    /// Its serial.
    #[arg(long, requires = "gtin")]
    pub serial: Option<String>,
    /// A container's history instead: its SSCC (18 digits, or `(00)…`).
    #[arg(long, conflicts_with_all = ["gtin", "serial"])]
    pub sscc: Option<String>,
    /// Write each event's proof bundle (JSON, as `verify --proof-out`; check one with `verify --offline`) into this
    /// folder as {height}-{index}.json.
    #[arg(long)]
    pub proofs_out: Option<PathBuf>,
    #[command(flatten)]
    pub asking: Asking,
}

/// Prints the pack's (or container's) history as JSON: its events in chain order.
pub async fn history(a: HistoryArgs) -> anyhow::Result<()> {
    let sscc = match a.sscc.as_deref().map(ContainerKey::parse_human).transpose()? {
        Some(ContainerKey::Sscc(sscc)) => sscc.as_str().to_string(),
        Some(ContainerKey::Case { .. }) => anyhow::bail!("--sscc: an SSCC (18 digits), not a case SGTIN"),
        None => String::new(),
    };
    let history = a
        .asking
        .trace_client()
        .await?
        .get_pack_history(PackHistoryRequest {
            gtin: a.gtin.unwrap_or_default(),
            serial: a.serial.unwrap_or_default(),
            include_proofs: a.proofs_out.is_some(),
            sscc: sscc.clone(),
        })
        .await
        .map_err(|s| anyhow::anyhow!("{:?}: {}", s.code(), s.message()))?
        .into_inner();
    if let Some(dir) = &a.proofs_out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for e in &history.events {
            let bundle = e
                .proof
                .as_ref()
                .and_then(BundleJson::from_bundle)
                .context("the verifier sent an event without its proof")?;
            let path = dir.join(format!("{}-{}.json", e.height, e.index));
            std::fs::write(&path, serde_json::to_string_pretty(&bundle)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    let events: Vec<serde_json::Value> = history
        .events
        .iter()
        .map(|e| {
            let mut json = serde_json::json!({
                "height": e.height, "index": e.index, "event_id": hex::encode(&e.event_id), "kind": e.kind,
                "signer": e.signer, "signed_at_ms": e.signed_at_ms, "sealed_at_ms": e.sealed_at_ms,
            });
            for (key, value) in [
                ("container", &e.container),
                ("counterparty", &e.counterparty),
                ("owner", &e.owner),
            ] {
                if !value.is_empty() {
                    json[key] = value.clone().into();
                }
            }
            if e.decommission_reason != 0 {
                json["decommission_reason"] = e.decommission_reason().as_str_name().into();
            }
            json
        })
        .collect();
    let mut json = serde_json::json!({
        "gtin": history.gtin, "serial": history.serial, "height": history.height, "complete": history.complete,
        "events": events,
    });
    if !sscc.is_empty() {
        json["sscc"] = sscc.into();
    }
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(())
}
