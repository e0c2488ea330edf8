//! HTTP face of the verifier: `/v1/verify?code=`, GS1 Digital Link paths, health and metrics.

use axum::extract::{OriginalUri, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use pedigree_core::gs1::parse_digital_link;
use pedigree_core::pb::{DecommissionReason, Verdict, VerifyResponse};
use pedigree_core::proof::BundleJson;
use pedigree_core::transition::reason_name;
use pedigree_core::verdict::{status_name, verdict_name};
use serde::{Deserialize, Serialize};

use crate::error::VerifyError;
use crate::verify::Verifier;

/// The JSON answer to a scan.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct VerifyJson {
    pub verdict: String,
    pub gtin: String,
    pub serial: String,
    pub lot: String,
    pub expiry: String,
    pub status: String,
    pub holder: String,
    pub height: u64,
    /// Why, when the verdict is DECOMMISSIONED (destroyed, stolen, sample, free_sample, exported, locked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decommission_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<BundleJson>,
}

impl From<VerifyResponse> for VerifyJson {
    fn from(r: VerifyResponse) -> Self {
        let reason = match r.decommission_reason() {
            DecommissionReason::Unspecified => None,
            reason => Some(reason_name(reason).to_string()),
        };
        Self {
            verdict: verdict_name(Verdict::try_from(r.verdict).unwrap_or_default()).to_string(),
            status: status_name(r.status()).to_string(),
            gtin: r.gtin,
            serial: r.serial,
            lot: r.lot,
            expiry: r.expiry,
            holder: r.holder,
            height: r.height,
            proof: r.proof.as_ref().and_then(BundleJson::from_bundle),
            decommission_reason: reason,
        }
    }
}

impl IntoResponse for VerifyError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.to_string(), "field": self.field() });
        (self.http_status(), Json(body)).into_response()
    }
}

pub fn router(verifier: Verifier) -> Router {
    Router::new()
        .route("/v1/verify", get(verify_code))
        .route("/01/{*rest}", get(digital_link))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(verifier)
}

#[derive(Deserialize)]
struct CodeQuery {
    code: Option<String>,
    /// `proof=1` (or true) attaches a proof bundle.
    proof: Option<String>,
}

fn wants_proof(flag: Option<&str>) -> bool {
    matches!(flag, Some("1" | "true" | "yes"))
}

async fn verify_code(State(v): State<Verifier>, Query(q): Query<CodeQuery>) -> Result<Json<VerifyJson>, VerifyError> {
    let code = q.code.unwrap_or_default();
    Ok(Json(
        v.verify_code(&code, wants_proof(q.proof.as_deref())).await?.into(),
    ))
}

/// The request path and query are a Digital Link URI relative to this host.
async fn digital_link(
    State(v): State<Verifier>,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<VerifyJson>, VerifyError> {
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let code = parse_digital_link(path)?;
    Ok(Json(v.verify(&code, false).await?.into()))
}

async fn ready(State(v): State<Verifier>) -> StatusCode {
    match v.store.ping().await {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

async fn metrics(State(v): State<Verifier>) -> String {
    v.metrics.render()
}
