//! `pedigree alerts`: a product owner's (or a scanner's) alerts: list them, read one, close one with a root cause
//! (docs/verdicts.md, "Alerts").

use std::path::PathBuf;

use pedigree_core::pb::alert_service_client::AlertServiceClient;
use pedigree_core::pb::{Alert, CloseAlertRequest, GetAlertRequest, ListAlertsRequest, RootCause};

use crate::connect::{Credentials, signed_in};

#[derive(clap::Args)]
pub struct AlertsArgs {
    #[command(subcommand)]
    pub action: Action,
    /// Verifier gRPC endpoint.
    #[arg(
        long,
        global = true,
        env = "PEDIGREE_VERIFIER",
        default_value = "https://127.0.0.1:50052"
    )]
    pub verifier: String,
    /// The participant asking (signs in with its key).
    #[arg(long = "as", global = true, default_value = "")]
    pub as_id: String,
    /// That participant's private key (PKCS#8 PEM); default {dir}/{id}.pem.
    #[arg(long, global = true)]
    pub signer_key: Option<PathBuf>,
    /// Folder with genesis.json and keys (as written by `pedigree up`).
    #[arg(long, global = true, env = "PEDIGREE_DIR", default_value = ".pedigree")]
    pub dir: PathBuf,
}

#[derive(clap::Subcommand)]
pub enum Action {
    /// Your alerts (on your products, or raised by your scans), oldest first, one JSON object per line.
    List {
        /// Only those raised after this cursor (the `cursor` of the last one you processed).
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// Only the open ones.
        #[arg(long)]
        open: bool,
    },
    /// One alert.
    Show { id: String },
    /// Close an alert on your product with what the investigation found.
    Close {
        id: String,
        /// scanning-error, owner-data-error, process-error, technical-error or falsification-suspected.
        #[arg(long, value_parser = parse_root_cause)]
        root_cause: RootCause,
        /// What the investigation found (at most 500 characters).
        #[arg(long, default_value = "")]
        note: String,
    },
}

fn parse_root_cause(text: &str) -> Result<RootCause, String> {
    let name = format!("ROOT_CAUSE_{}", text.trim().replace('-', "_").to_uppercase());
    RootCause::from_str_name(&name)
        .filter(|r| *r != RootCause::Unspecified)
        .ok_or_else(|| {
            "expected scanning-error, owner-data-error, process-error, technical-error or falsification-suspected"
                .to_string()
        })
}

pub async fn run(a: AlertsArgs) -> anyhow::Result<()> {
    anyhow::ensure!(!a.as_id.is_empty(), "--as: alerts are read signed in as a participant");
    let who = Credentials::load(&a.as_id, a.signer_key.as_deref(), &a.dir)?;
    let mut client = AlertServiceClient::new(signed_in(&a.verifier, &who).await?);
    let status = |s: tonic::Status| anyhow::anyhow!("{:?}: {}", s.code(), s.message());
    match a.action {
        Action::List { after, open } => {
            let mut after = after;
            loop {
                let page = client
                    .list_alerts(ListAlertsRequest {
                        after,
                        limit: 0,
                        open_only: open,
                    })
                    .await
                    .map_err(status)?
                    .into_inner();
                for alert in &page.alerts {
                    println!("{}", serde_json::to_string(&to_json(alert))?);
                }
                if page.next == after {
                    break;
                }
                after = page.next;
            }
        }
        Action::Show { id } => {
            let alert = client
                .get_alert(GetAlertRequest { id })
                .await
                .map_err(status)?
                .into_inner();
            println!("{}", serde_json::to_string_pretty(&to_json(&alert))?);
        }
        Action::Close { id, root_cause, note } => {
            let alert = client
                .close_alert(CloseAlertRequest {
                    id,
                    root_cause: root_cause as i32,
                    note,
                })
                .await
                .map_err(status)?
                .into_inner();
            println!("{}", serde_json::to_string_pretty(&to_json(&alert))?);
        }
    }
    Ok(())
}

/// An alert as JSON: enum values by their short lowercase names.
fn to_json(a: &Alert) -> serde_json::Value {
    let short = |name: &str, prefix: &str| name.trim_start_matches(prefix).to_lowercase();
    let mut json = serde_json::json!({
        "id": a.id,
        "code": short(a.code().as_str_name(), "ALERT_CODE_"),
        "state": short(a.state().as_str_name(), "ALERT_STATE_"),
        "gtin": a.gtin, "serial": a.serial,
        "scanned_lot": a.scanned_lot, "scanned_expiry": a.scanned_expiry,
        "scanner": a.scanner, "owner": a.owner,
        "raised_at_ms": a.raised_at_ms,
        "cursor": a.cursor,
    });
    if !a.closed_by.is_empty() {
        json["closed_by"] = a.closed_by.clone().into();
        json["closed_at_ms"] = a.closed_at_ms.into();
        json["root_cause"] = short(a.root_cause().as_str_name(), "ROOT_CAUSE_").into();
        json["note"] = a.note.clone().into();
    }
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_causes_are_named_as_typed() {
        assert_eq!(parse_root_cause("scanning-error"), Ok(RootCause::ScanningError));
        assert_eq!(
            parse_root_cause("Falsification-Suspected"),
            Ok(RootCause::FalsificationSuspected)
        );
        assert!(parse_root_cause("unspecified").is_err());
        assert!(parse_root_cause("bad").is_err());
    }
}
