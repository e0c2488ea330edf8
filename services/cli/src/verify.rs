//! `pedigree verify`: ask the verifier about a code (optionally saving its proof bundle), or check a saved proof
//! bundle offline with nothing but the sequencer's public key.

use std::path::PathBuf;

use anyhow::{Context, bail};
use pedigree_core::pb::verifier_service_client::VerifierServiceClient;
use pedigree_core::pb::{Verdict, VerifyRequest, VerifyResponse};
use pedigree_core::proof::{BundleJson, check_bundle_with};
use pedigree_core::sequencer_keys::SequencerKeys;
use pedigree_core::verdict::{status_name, verdict_name};

use crate::connect::{Credentials, signed_in};
use crate::submit::channel;
use pedigree_core::keys::KeyPair;

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// What the scanner read. GS separators may be typed as the four characters "\x1d" or as "<GS>".
    #[arg(required_unless_present = "offline")]
    pub code: Option<String>,
    /// Verifier gRPC endpoint.
    #[arg(long, env = "PEDIGREE_VERIFIER", default_value = "https://127.0.0.1:50052")]
    pub verifier: String,
    /// Ask for a proof bundle and write it (JSON) to this file.
    #[arg(long)]
    pub proof_out: Option<PathBuf>,
    /// Check a saved proof bundle without any server.
    #[arg(long, requires = "key", conflicts_with = "code")]
    pub offline: Option<PathBuf>,
    /// The sequencer's public key (hex of SEC1, as in the genesis file's sequencer_public_key); after a rotation of
    /// the sequencer key, the schedule: one key per line, each after the first followed by the first height it
    /// signs (what `pedigree audit --sequencer-keys-out` writes).
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Ask as this participant (signs in with its key): the full answer and a proof bundle for packs it holds or
    /// held, ALREADY_DISPENSED_BY_YOU for a pack it dispensed. Anonymous without it.
    #[arg(long = "as")]
    pub as_id: Option<String>,
    /// That participant's private key (PKCS#8 PEM); default {dir}/{id}.pem.
    #[arg(long)]
    pub signer_key: Option<PathBuf>,
    /// Folder with genesis.json and keys (as written by `pedigree up`).
    #[arg(long, env = "PEDIGREE_DIR", default_value = ".pedigree")]
    pub dir: PathBuf,
    /// With --offline: the chain id (hex) the bundle must be for.
    #[arg(long, requires = "offline")]
    pub chain_id: Option<String>,
}

pub async fn run(a: VerifyArgs) -> anyhow::Result<()> {
    if let Some(bundle) = &a.offline {
        let key = a.key.as_ref().context("--key is required with --offline")?;
        return offline(bundle, key, a.chain_id.as_deref());
    }
    let code = a
        .code
        .unwrap_or_default()
        .replace("\\x1d", "\u{1d}")
        .replace("<GS>", "\u{1d}");
    let who = match &a.as_id {
        Some(id) => {
            let key_path = a.signer_key.clone().unwrap_or_else(|| a.dir.join(format!("{id}.pem")));
            let pem =
                std::fs::read_to_string(&key_path).with_context(|| format!("reading key {}", key_path.display()))?;
            Some(Credentials::new(id, KeyPair::from_pem(&pem)?, &a.dir)?)
        }
        None => None,
    };
    let answer = verify(&a.verifier, &code, a.proof_out.is_some(), who.as_ref()).await?;
    println!("{}", serde_json::to_string_pretty(&to_json(&answer))?);
    if let Some(path) = &a.proof_out {
        let Some(bundle) = answer.proof.as_ref().and_then(BundleJson::from_bundle) else {
            bail!("the verifier returned no proof bundle (unknown pack?)");
        };
        std::fs::write(path, serde_json::to_string_pretty(&bundle)?)?;
        eprintln!("proof bundle written to {}", path.display());
    }
    Ok(())
}

fn parse_chain_id(hex_id: &str) -> anyhow::Result<pedigree_core::Hash> {
    let bytes = hex::decode(hex_id.trim()).context("--chain-id must be hex")?;
    pedigree_core::Hash::try_from(bytes.as_slice()).map_err(|_| anyhow::anyhow!("--chain-id must be 32 bytes"))
}

fn offline(bundle_path: &std::path::Path, key_path: &std::path::Path, chain_id: Option<&str>) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(key_path).with_context(|| format!("reading {}", key_path.display()))?;
    let keys = SequencerKeys::parse_text(&text).context("sequencer key")?;
    let json = std::fs::read_to_string(bundle_path).with_context(|| format!("reading {}", bundle_path.display()))?;
    let bundle: BundleJson = serde_json::from_str(&json).context("the bundle is not valid JSON")?;
    let bundle = bundle.to_bundle().map_err(|e| anyhow::anyhow!(e))?;
    let chain = chain_id.map(parse_chain_id).transpose()?;
    let checked = check_bundle_with(&bundle, &keys, chain.as_ref()).context("the proof bundle does not check out")?;
    let pack = &checked.pack;
    println!(
        "OK: pack {} serial {} (lot '{}', expiry '{}') is named by event {} ({}, signed by {} at {} ms) sealed in \
         block {} of chain {} (sequencer key {})",
        pack.gtin,
        pack.serial,
        pack.lot,
        pack.expiry,
        hex::encode(checked.id),
        checked.core.kind,
        checked.core.signer,
        checked.core.timestamp_ms,
        checked.header.height,
        hex::encode(checked.core.chain_id),
        checked.header.sequencer_key_id,
    );
    Ok(())
}

/// Asks the verifier about `code`, anonymously or as `who`.
pub async fn verify(
    endpoint: &str,
    code: &str,
    include_proof: bool,
    who: Option<&Credentials>,
) -> anyhow::Result<VerifyResponse> {
    let request = VerifyRequest {
        code: code.to_string(),
        include_proof,
    };
    let answer = match who {
        Some(who) => {
            VerifierServiceClient::new(signed_in(endpoint, who).await?)
                .verify(request)
                .await
        }
        None => {
            VerifierServiceClient::new(channel(endpoint).await?)
                .verify(request)
                .await
        }
    };
    Ok(answer
        .map_err(|s| anyhow::anyhow!("{:?}: {}", s.code(), s.message()))?
        .into_inner())
}

pub fn to_json(r: &VerifyResponse) -> serde_json::Value {
    let mut json = serde_json::json!({
        "verdict": verdict_name(Verdict::try_from(r.verdict).unwrap_or_default()),
        "gtin": r.gtin, "serial": r.serial, "lot": r.lot, "expiry": r.expiry,
        "status": status_name(r.status()),
        "holder": r.holder, "height": r.height,
    });
    // Only for a pack inside a container, shown to those who may see its holder.
    if !r.container.is_empty() {
        json["container"] = r.container.clone().into();
    }
    if r.decommission_reason() != pedigree_core::pb::DecommissionReason::Unspecified {
        json["decommission_reason"] = pedigree_core::transition::reason_name(r.decommission_reason()).into();
    }
    // Goods a third-party logistics provider holds for their owner; a repackager's pack and the event that made it.
    if !r.owner.is_empty() {
        json["owner"] = r.owner.clone().into();
    }
    if !r.repackaged_by.is_empty() {
        json["repackaged_by"] = hex::encode(&r.repackaged_by).into();
    }
    if !r.alert_id.is_empty() {
        json["alert_id"] = r.alert_id.clone().into();
    }
    // What the ledger records, for callers who may see the holder.
    if !r.recorded_lot.is_empty() {
        json["recorded_lot"] = r.recorded_lot.clone().into();
    }
    if !r.recorded_expiry.is_empty() {
        json["recorded_expiry"] = r.recorded_expiry.clone().into();
    }
    if let Some(p) = &r.product {
        json["product"] = serde_json::json!({
            "name": p.name, "strength": p.strength, "dosage_form": p.dosage_form, "pack_size": p.pack_size,
            "national_codes": p.national_codes.iter().map(|c| (c.system.clone(), c.code.clone().into()))
                .collect::<serde_json::Map<String, serde_json::Value>>(),
            "owner": p.owner,
        });
    }
    json
}
