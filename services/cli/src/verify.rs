//! `pedigree verify CODE`: asks the verifier and prints its JSON answer.

use pedigree_core::pb::verifier_service_client::VerifierServiceClient;
use pedigree_core::pb::{PackStatus, Verdict, VerifyRequest, VerifyResponse};
use pedigree_core::verdict::{status_name, verdict_name};

use crate::submit::channel;

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// What the scanner read. GS separators may be typed as the two characters "\x1d" or "<GS>".
    pub code: String,
    /// Verifier gRPC endpoint.
    #[arg(long, env = "PEDIGREE_VERIFIER", default_value = "http://127.0.0.1:50052")]
    pub verifier: String,
}

pub async fn run(a: VerifyArgs) -> anyhow::Result<()> {
    let code = a.code.replace("\\x1d", "\u{1d}").replace("<GS>", "\u{1d}");
    let answer = verify(&a.verifier, &code).await?;
    println!("{}", serde_json::to_string_pretty(&to_json(&answer))?);
    Ok(())
}

pub async fn verify(endpoint: &str, code: &str) -> anyhow::Result<VerifyResponse> {
    let mut client = VerifierServiceClient::new(channel(endpoint).await?);
    let request = VerifyRequest { code: code.to_string() };
    Ok(client
        .verify(request)
        .await
        .map_err(|s| anyhow::anyhow!("{:?}: {}", s.code(), s.message()))?
        .into_inner())
}

pub fn to_json(r: &VerifyResponse) -> serde_json::Value {
    serde_json::json!({
        "verdict": verdict_name(Verdict::try_from(r.verdict).unwrap_or_default()),
        "gtin": r.gtin, "serial": r.serial, "lot": r.lot, "expiry": r.expiry,
        "status": status_name(PackStatus::try_from(r.status).unwrap_or_default()),
        "holder": r.holder, "height": r.height,
    })
}
