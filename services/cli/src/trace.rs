//! `pedigree trace-lot`: where the packs of a lot are now, by holder and status (the product's owner, auditors and
//! authorities).

use std::path::PathBuf;

use pedigree_core::pb::TraceLotRequest;
use pedigree_core::pb::trace_service_client::TraceServiceClient;
use pedigree_core::verdict::status_name;

use crate::connect::{Credentials, signed_in};

#[derive(clap::Args)]
pub struct TraceLotArgs {
    /// GTIN-14 of the product.
    #[arg(long)]
    pub gtin: String,
    /// The lot as commissioned.
    #[arg(long)]
    pub lot: String,
    /// The participant asking (the product's owner, an auditor or an authority); signs in with its key.
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

pub async fn run(a: TraceLotArgs) -> anyhow::Result<()> {
    let who = Credentials::load(&a.as_id, a.signer_key.as_deref(), &a.dir)?;
    let trace = TraceServiceClient::new(signed_in(&a.verifier, &who).await?)
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
