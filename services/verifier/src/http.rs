//! HTTP face of the verifier: the pharmacist's scan page at `/` (`pedigree_webui`), `/v1/verify?code=`, GS1 Digital
//! Link paths, `POST /v1/session` (signing in), health and metrics. A scan with an `Authorization: Bearer <session token>` header is answered as to that participant.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pedigree_core::pb::{DecommissionReason, ParticipantRole, StartSessionRequest, Verdict, VerifyResponse};
use pedigree_core::proof::BundleJson;
use pedigree_core::transition::reason_name;
use pedigree_core::verdict::{status_name, verdict_name};
use serde::{Deserialize, Serialize};

use crate::access::Caller;
use crate::error::VerifyError;
use crate::route::{DIGITAL_LINK_PATH, VERIFY_PATH, digital_link as digital_link_request, verify_query};
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
    /// The container the pack is in (bracketed), for callers who see the holder; absent otherwise.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub container: String,
    /// The owner when a third-party logistics provider holds the pack for it, for callers who see the holder.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub owner: String,
    /// A repackager's pack: the id (hex) of the commission that made it, for callers who see the holder.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub repackaged_by: String,
    /// Why, when the verdict is DECOMMISSIONED (destroyed, stolen, sample, free_sample, exported, locked,
    /// repackaged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decommission_reason: Option<String>,
    /// The product as registered (name, strength, dose form, pack size, national codes, owner), when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<ProductJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<BundleJson>,
    /// The alert the scan raised (a signed-in participant's scan that contradicts the ledger), to quote.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alert_id: String,
    /// The lot and expiry the ledger records for this serial, for callers who see the holder.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub recorded_lot: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub recorded_expiry: String,
}

/// A product's public master data.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProductJson {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub strength: String,
    pub dosage_form: String,
    pub pack_size: u32,
    /// National codes by system ("NDC", "PZN"...).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub national_codes: std::collections::BTreeMap<String, String>,
    pub owner: String,
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
            container: r.container,
            owner: r.owner,
            repackaged_by: hex::encode(&r.repackaged_by),
            proof: r.proof.as_ref().and_then(BundleJson::from_bundle),
            decommission_reason: reason,
            alert_id: r.alert_id,
            recorded_lot: r.recorded_lot,
            recorded_expiry: r.recorded_expiry,
            product: r.product.map(|p| ProductJson {
                name: p.name,
                strength: p.strength,
                dosage_form: p.dosage_form,
                pack_size: p.pack_size,
                national_codes: p.national_codes.into_iter().map(|c| (c.system, c.code)).collect(),
                owner: p.owner,
            }),
        }
    }
}

impl IntoResponse for VerifyError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.to_string(), "field": self.field() });
        let status = self.http_status();
        let retry_after = self.retry_after_secs();
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"pedigree\""),
            );
        }
        response
    }
}

/// The verifier's HTTP routes; `tls` says whether they are served over HTTPS (the page's headers say so).
pub fn router(verifier: Verifier, tls: bool) -> Router {
    Router::new()
        .merge(pedigree_webui::router(tls))
        .route(VERIFY_PATH, get(verify_code))
        .route("/v1/session", post(start_session))
        .route(DIGITAL_LINK_PATH, get(digital_link))
        .route("/v1/transactions/{event_id}", get(transaction))
        .route("/.well-known/gs1resolver", get(resolver_description))
        .route("/epcis/events", get(epcis_events))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(verifier)
}

/// The `X-Forwarded-For` values of a request (believed only from trusted proxies: [`crate::client_ip`]).
fn forwarded(headers: &HeaderMap) -> impl Iterator<Item = &[u8]> {
    headers.get_all("x-forwarded-for").iter().map(|v| v.as_bytes())
}

/// Who sent a request with these headers from `peer`, once counted against that caller's rate.
fn caller(v: &Verifier, headers: &HeaderMap, peer: SocketAddr) -> Result<Caller, VerifyError> {
    let authorization = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
    let caller = v.auth.caller(authorization)?;
    v.rates.admit(&caller, Some(peer.ip()), forwarded(headers))?;
    Ok(caller)
}

async fn verify_code(
    State(v): State<Verifier>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<VerifyJson>, VerifyError> {
    let caller = caller(&v, &headers, peer)?;
    let scan = verify_query(&uri).inspect_err(|_| v.metrics.bad_request())?;
    Ok(Json(v.verify(&scan.code, scan.proof, &caller).await?.into()))
}

/// `GET /v1/transactions/{event_id}`: the TI/TS of a sealed shipment (event id in hex), for its two parties and
/// those who read everything.
async fn transaction(
    State(v): State<Verifier>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::extract::Path(event_id): axum::extract::Path<String>,
) -> Result<Json<crate::transaction::TransactionInformation>, VerifyError> {
    let caller = caller(&v, &headers, peer)?;
    if event_id.len() != 64 {
        return Err(VerifyError::Field("event_id", "must be 64 hex digits"));
    }
    let id = hex::decode(&event_id).map_err(|_| VerifyError::Field("event_id", "must be 64 hex digits"))?;
    Ok(Json(v.transaction(&id, &caller).await?))
}

/// `POST /v1/session`: the JSON form of `AuthService.StartSession` (nonce and signature in hex).
#[derive(Deserialize)]
struct SessionRequestJson {
    participant_id: String,
    timestamp_ms: i64,
    nonce: String,
    signature: String,
}

#[derive(Serialize)]
struct SessionJson {
    token: String,
    expires_at_ms: i64,
    role: String,
}

async fn start_session(
    State(v): State<Verifier>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(r): Json<SessionRequestJson>,
) -> Result<Json<SessionJson>, VerifyError> {
    // Signing in is anonymous until it succeeds: counted by source address.
    v.rates
        .admit(&Caller::Anonymous, Some(peer.ip()), forwarded(&headers))?;
    let hex_field = |field: &'static str, value: &str| {
        // At most 64 bytes of nonce and 64 of signature: anything longer is refused before decoding.
        if value.len() > 256 {
            return Err(VerifyError::Field(field, "too long"));
        }
        hex::decode(value).map_err(|_| VerifyError::Field(field, "must be hex"))
    };
    let request = StartSessionRequest {
        participant_id: r.participant_id,
        timestamp_ms: r.timestamp_ms,
        nonce: hex_field("nonce", &r.nonce)?,
        signature: hex_field("signature", &r.signature)?,
    };
    let session = v.auth.start_session(&request).await?;
    let role = ParticipantRole::try_from(session.role).unwrap_or_default();
    Ok(Json(SessionJson {
        token: session.token,
        expires_at_ms: session.expires_at_ms,
        role: role
            .as_str_name()
            .trim_start_matches("PARTICIPANT_ROLE_")
            .to_ascii_lowercase(),
    }))
}

/// The request path and query are a Digital Link URI relative to this host.
async fn digital_link(
    State(v): State<Verifier>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Result<Response, VerifyError> {
    let caller = caller(&v, &headers, peer)?;
    // A VRS requester's verification or connectivity check (LMS), on the same path.
    if let Some(asked) = crate::vrs::vrs_request(&uri) {
        return Ok(Json(v.vrs(&uri, asked?, &caller).await?).into_response());
    }
    // A product link or the linkset (the resolver).
    if let Some(asked) = crate::resolver::asked(&uri, &headers) {
        return v.resolve(&uri, &headers, asked).await;
    }
    let scan = digital_link_request(&uri)?;
    let answer: VerifyJson = v.verify(&scan.code, scan.proof, &caller).await?.into();
    Ok(Json(answer).into_response())
}

/// `GET /epcis/events`: the EPCIS 2.0 event query over one pack's or container's chain ([`crate::epcis_query`]).
async fn epcis_events(
    State(v): State<Verifier>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    match caller(&v, &headers, peer) {
        Ok(caller) => crate::epcis_query::answer(&v, &caller, &uri, &headers).await,
        Err(e) => crate::epcis_query::problem(&e),
    }
}

/// The resolver's description (GS1 resolver conventions).
async fn resolver_description(headers: HeaderMap) -> Json<serde_json::Value> {
    Json(crate::resolver::description(&root(&headers)))
}

/// `https://` and the host the request named (its `Host` header), where this server's paths are rooted.
pub(crate) fn root(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("localhost");
    format!("https://{host}")
}

/// Ready when Redis answers and holds the ledger state, at most the configured lag behind a replay in progress.
async fn ready(State(v): State<Verifier>) -> Response {
    match v.ensure_fresh().await {
        Ok(_) => (StatusCode::OK, "ready").into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

async fn metrics(State(v): State<Verifier>) -> Response {
    v.metrics.response()
}
