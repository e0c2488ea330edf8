//! `pedigree console --as ID`: the pharmacy console (docs/pharmacy.md). Run by one pharmacy on its own machine (it
//! holds that pharmacy's key), it serves the verifier's scan page (`pedigree_webui`) with the pharmacy's actions:
//! scans are verified signed in as the pharmacy (so a pack it dispensed shows "dispensed by you"), and the page can
//! dispense, undo, decommission with a reason and receive (a shipment by its SSCC, or packs), one pack or a batch.
//! Each action is signed here, submitted to custody, and answered once the ledger sealed or refused it.
//!
//! The API (`/console/api/...`, JSON) takes `authorization: Bearer <token>`: the token is printed in the page's
//! address (`https://127.0.0.1:8091/#token=…`; a fragment, so the browser never sends it in a request line or a
//! referrer) or set in `PEDIGREE_CONSOLE_TOKEN`. It answers no cross-origin request (no CORS headers), so another
//! site open in the same browser cannot act through it. HTTPS with the given certificate (default: the local stack's
//! `{dir}/tls/server.pem`); plaintext only with `--insecure-plaintext-listen`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pedigree_core::body;
use pedigree_core::container::ContainerKey;
use pedigree_core::envelope::{new_payload, sign_payload};
use pedigree_core::gs1::{Gtin, Serial, Sscc, parse_sscc_scan};
use pedigree_core::pb::event_payload::Body;
use pedigree_core::pb::trace_service_client::TraceServiceClient;
use pedigree_core::pb::verifier_service_client::VerifierServiceClient;
use pedigree_core::pb::{DecommissionReason, EventState, PackHistoryRequest, RejectCode, VerifyRequest};
use pedigree_runtime::limits::Limits;
use pedigree_runtime::tls::{ServerTls, ServerTlsConfig};
use pedigree_runtime::{Shutdown, shutdown_signal};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::bearer::BearerToken;
use crate::connect::{Credentials, signed_in};
use crate::submit::{describe, submit, wait_outcome};

/// How long one action's event may take to be sealed before the console stops waiting (and says so).
const SEAL_TIMEOUT: Duration = Duration::from_secs(60);
/// The most packs one action names.
const MAX_PACKS: usize = 1000;
/// The largest action request taken: [`MAX_PACKS`] packs with their GTIN, serial and sender (about 120 bytes each).
const MAX_ACT_BYTES: usize = 256 * 1024;

#[derive(clap::Args)]
pub struct ConsoleArgs {
    /// The pharmacy the console acts for.
    #[arg(long = "as")]
    pub as_id: String,
    /// Its private key (PKCS#8 PEM); default {dir}/{id}.pem.
    #[arg(long)]
    pub signer_key: Option<PathBuf>,
    /// Folder with genesis.json and keys (as written by `pedigree up`).
    #[arg(long, env = "PEDIGREE_DIR", default_value = ".pedigree")]
    pub dir: PathBuf,
    /// Custody gRPC endpoint.
    #[arg(long, env = "PEDIGREE_CUSTODY", default_value = "https://127.0.0.1:50051")]
    pub custody: String,
    /// Verifier gRPC endpoint (verdicts, outcomes, shipments).
    #[arg(long, env = "PEDIGREE_LEDGER", default_value = "https://127.0.0.1:50052")]
    pub ledger: String,
    /// Where the console listens (port 0: any; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8091")]
    pub listen: SocketAddr,
    /// The console's TLS certificate chain (PEM); default {dir}/tls/server.pem.
    #[arg(long, env = "PEDIGREE_CONSOLE_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// Its private key (PEM); default {dir}/tls/server-key.pem.
    #[arg(long, env = "PEDIGREE_CONSOLE_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Listen in plaintext, without TLS: only behind something that encrypts for you.
    #[arg(long)]
    pub insecure_plaintext_listen: bool,
}

#[derive(Clone)]
struct Console {
    who: Arc<Credentials>,
    custody: String,
    ledger: String,
    token: BearerToken,
    session: Arc<tokio::sync::Mutex<Option<Authed>>>,
}

pub async fn run(a: ConsoleArgs) -> anyhow::Result<()> {
    let token = match std::env::var("PEDIGREE_CONSOLE_TOKEN") {
        Ok(t) if t.len() >= 16 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => t,
        Ok(_) => anyhow::bail!("PEDIGREE_CONSOLE_TOKEN must be at least 16 characters of A-Z, a-z, 0-9, - and _"),
        Err(_) => {
            let mut bytes = [0u8; 24];
            getrandom::fill(&mut bytes).context("reading the operating system's random source")?;
            hex::encode(bytes)
        }
    };
    let who = Credentials::load(&a.as_id, a.signer_key.as_deref(), &a.dir)?;
    let default_tls = |name: &str| Some(a.dir.join("tls").join(name)).filter(|p| p.exists());
    let tls = ServerTls::load(&ServerTlsConfig {
        cert: a.tls_cert.clone().or_else(|| default_tls("server.pem")),
        key: a.tls_key.clone().or_else(|| default_tls("server-key.pem")),
        insecure_plaintext: a.insecure_plaintext_listen,
        probe_addr: None,
    })?;
    let console = Console {
        who: Arc::new(who),
        custody: a.custody,
        ledger: a.ledger,
        token: BearerToken::new(&token),
        session: Arc::default(),
    };
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .with_context(|| format!("binding {}", a.listen))?;
    let scheme = if tls.is_plaintext() { "http" } else { "https" };
    println!(
        "console for {} on {scheme}://{}/#token={token}",
        a.as_id,
        listener.local_addr()?
    );
    let shutdown = Shutdown::on(shutdown_signal());
    let router = router(console, !tls.is_plaintext());
    pedigree_runtime::http::serve(listener, router, &tls, shutdown, &Limits::default()).await
}

fn router(console: Console, tls: bool) -> Router {
    Router::new()
        .merge(pedigree_webui::router(tls))
        .route("/console/api/session", get(session))
        .route("/console/api/scan", post(scan))
        .route(
            "/console/api/act",
            post(act).layer(axum::extract::DefaultBodyLimit::max(MAX_ACT_BYTES)),
        )
        .with_state(console)
}

/// An API error: `{"error": …, "field": …}` with its status (as the verifier's HTTP errors).
fn error(status: StatusCode, field: &str, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into(), "field": field }))).into_response()
}

/// A gRPC refusal from the verifier, as the page reads it.
fn from_status(s: &tonic::Status) -> Response {
    use tonic::Code;
    let status = match s.code() {
        Code::InvalidArgument => StatusCode::BAD_REQUEST,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unavailable | Code::DeadlineExceeded => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_GATEWAY,
    };
    error(status, "code", s.message())
}

impl Console {
    /// The console's session with the verifier: signed in once and reused by every scan (a sign-in costs the
    /// verifier a signature check), signed in again when the verifier no longer takes it (expired, or revoked).
    async fn session(&self) -> anyhow::Result<Authed> {
        let mut held = self.session.lock().await;
        if let Some(session) = held.as_ref() {
            return Ok(session.clone());
        }
        let session = signed_in(&self.ledger, &self.who).await?;
        *held = Some(session.clone());
        Ok(session)
    }

    /// `call` with the session; once more with a new one if the verifier answers UNAUTHENTICATED.
    async fn with_session<T, F, Fut>(&self, call: F) -> anyhow::Result<Result<T, tonic::Status>>
    where
        F: Fn(Authed) -> Fut,
        Fut: std::future::Future<Output = Result<T, tonic::Status>>,
    {
        let first = call(self.session().await?).await;
        if !matches!(&first, Err(s) if s.code() == tonic::Code::Unauthenticated) {
            return Ok(first);
        }
        *self.session.lock().await = None;
        Ok(call(self.session().await?).await)
    }
}

/// A connection to the verifier whose calls carry the console's session.
type Authed =
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, pedigree_runtime::sign_in::Bearer>;

fn unauthorized() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "authorization",
        "open the address `pedigree console` printed (it carries the console's token)",
    )
}

async fn session(State(c): State<Console>, headers: HeaderMap) -> Response {
    if !c.token.admits(&headers) {
        return unauthorized();
    }
    Json(json!({ "participant": c.who.id })).into_response()
}

#[derive(Deserialize)]
struct ScanRequest {
    code: String,
}

/// A scan, verified as the pharmacy: a pack's verdict (`kind: "pack"`, the fields of `GET /v1/verify`), or for a
/// shipment label (SSCC) who shipped it to this pharmacy (`kind: "container"`).
async fn scan(State(c): State<Console>, headers: HeaderMap, Json(r): Json<ScanRequest>) -> Response {
    if !c.token.admits(&headers) {
        return unauthorized();
    }
    if let Some(sscc) = parse_sscc_scan(&r.code) {
        return shipment(&c, sscc).await;
    }
    let request = VerifyRequest {
        code: r.code,
        include_proof: false,
    };
    let answer = c
        .with_session(|session| {
            let request = request.clone();
            async move { VerifierServiceClient::new(session).verify(request).await }
        })
        .await;
    match answer {
        Ok(Ok(answer)) => {
            let answer = answer.into_inner();
            let mut body = crate::verify::to_json(&answer);
            body["kind"] = "pack".into();
            Json(body).into_response()
        }
        Ok(Err(status)) => from_status(&status),
        Err(e) => error(StatusCode::BAD_GATEWAY, "ledger", format!("the verifier: {e:#}")),
    }
}

/// A shipment label scanned: who shipped that container to this pharmacy, from its history on the ledger.
async fn shipment(c: &Console, sscc: Sscc) -> Response {
    let request = PackHistoryRequest {
        sscc: sscc.as_str().to_string(),
        ..PackHistoryRequest::default()
    };
    let history = c
        .with_session(|session| {
            let request = request.clone();
            async move { TraceServiceClient::new(session).get_pack_history(request).await }
        })
        .await;
    let history = match history {
        Ok(Ok(h)) => h.into_inner(),
        Ok(Err(s)) if s.code() == tonic::Code::PermissionDenied => {
            // Not in this container's chain: nothing was shipped to this pharmacy in it.
            return Json(json!({
                "kind": "container", "sscc": format!("(00){}", sscc.as_str()), "sender": "",
                "status": "not shipped to you",
            }))
            .into_response();
        }
        Ok(Err(s)) => return from_status(&s),
        Err(e) => return error(StatusCode::BAD_GATEWAY, "ledger", format!("the verifier: {e:#}")),
    };
    let me = c.who.id.as_str();
    let (sender, status) = match history.events.last() {
        Some(e) if e.kind == "ship" && e.counterparty == me => (e.signer.clone(), "in transit to you".to_string()),
        Some(e) if e.kind == "receive" && e.signer == me => (String::new(), "received by you".to_string()),
        Some(e) => (String::new(), format!("last event: {} by {}", e.kind, e.signer)),
        None => (String::new(), "no events".to_string()),
    };
    Json(json!({
        "kind": "container", "sscc": format!("(00){}", sscc.as_str()), "sender": sender, "status": status,
    }))
    .into_response()
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
enum Action {
    Dispense,
    Undo,
    Decommission,
    Receive,
}

#[derive(Deserialize)]
struct PackRef {
    gtin: String,
    serial: String,
    /// Receive: who shipped it (the holder the scan showed while it is in transit).
    #[serde(default)]
    from: String,
}

#[derive(Deserialize)]
struct ContainerRef {
    sscc: String,
    from: String,
}

#[derive(Deserialize)]
struct ActRequest {
    action: Action,
    #[serde(default)]
    packs: Vec<PackRef>,
    #[serde(default)]
    containers: Vec<ContainerRef>,
    #[serde(default)]
    reason: Option<String>,
}

/// One event an action sent, and what became of it.
#[derive(Serialize, Debug)]
struct Outcome {
    what: String,
    event_id: String,
    committed: bool,
    height: u64,
    /// The ledger's refusal code (`NOT_HOLDER`, `UNDO_NOT_ALLOWED`…), empty when committed.
    code: String,
    text: String,
}

/// The events an action makes: each body with what it is, in words.
#[derive(Debug)]
struct Planned {
    what: String,
    body: Body,
}

/// What the page asked, checked and grouped into events: one per GTIN (and sender, for a receipt), one per shipment
/// label. Refused whole, naming the field, before anything is signed.
fn plan(r: &ActRequest) -> Result<Vec<Planned>, (&'static str, String)> {
    if r.packs.is_empty() && r.containers.is_empty() {
        return Err(("packs", "name at least one pack or shipment".into()));
    }
    if r.packs.len() + r.containers.len() > MAX_PACKS {
        return Err(("packs", format!("at most {MAX_PACKS} packs and shipments per action")));
    }
    if !r.containers.is_empty() && r.action != Action::Receive {
        return Err(("containers", "only a receipt names shipments".into()));
    }
    let reason = match (r.action, r.reason.as_deref()) {
        (Action::Decommission, Some(name)) => Some(reason_named(name).ok_or((
            "reason",
            "must be destroyed, stolen, sample, free_sample, exported or locked".to_string(),
        ))?),
        (Action::Decommission, None) => return Err(("reason", "a decommission needs a reason".into())),
        _ => None,
    };
    let mut groups: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for p in &r.packs {
        let gtin = Gtin::parse(&p.gtin).map_err(|e| ("packs.gtin", e.to_string()))?;
        let serial = Serial::parse(&p.serial).map_err(|e| ("packs.serial", e.to_string()))?;
        let from = if r.action == Action::Receive {
            if p.from.is_empty() {
                return Err(("packs.from", "a receipt names who shipped each pack".into()));
            }
            p.from.clone()
        } else {
            String::new()
        };
        let serials = groups.entry((from, gtin.as_str().to_string())).or_default();
        if !serials.iter().any(|s| s == serial.as_str()) {
            serials.push(serial.as_str().to_string());
        }
    }
    let mut planned = Vec::new();
    for ((from, gtin), serials) in &groups {
        let n = serials.len();
        let packs = format!("{n} pack{} of {gtin}", if n == 1 { "" } else { "s" });
        let (what, body) = match (r.action, reason) {
            (Action::Dispense, _) => (format!("dispense {packs}"), body::dispense(gtin, serials)),
            (Action::Undo, _) => (format!("undo {packs}"), body::undo(gtin, serials)),
            (Action::Decommission, Some(reason)) => (
                format!("decommission {packs}"),
                body::decommission(gtin, serials, reason),
            ),
            (Action::Decommission, None) => unreachable!("a decommission's reason was checked above"),
            (Action::Receive, _) => (
                format!("receive {packs} from {from}"),
                body::receive(gtin, serials, from),
            ),
        };
        planned.push(Planned { what, body });
    }
    let mut by_sender: BTreeMap<&str, Vec<ContainerKey>> = BTreeMap::new();
    for c in &r.containers {
        let digits = c.sscc.trim_start_matches("(00)");
        let sscc = Sscc::parse(digits).map_err(|e| ("containers.sscc", e.to_string()))?;
        if c.from.is_empty() {
            return Err(("containers.from", "a receipt names who shipped each shipment".into()));
        }
        by_sender.entry(&c.from).or_default().push(ContainerKey::Sscc(sscc));
    }
    for (from, containers) in by_sender {
        let labels: Vec<String> = containers.iter().map(ToString::to_string).collect();
        planned.push(Planned {
            what: format!("receive {} from {from}", labels.join(", ")),
            body: body::receive_containers(&containers, from),
        });
    }
    Ok(planned)
}

fn reason_named(name: &str) -> Option<DecommissionReason> {
    Some(match name {
        "destroyed" => DecommissionReason::Destroyed,
        "stolen" => DecommissionReason::Stolen,
        "sample" => DecommissionReason::Sample,
        "free_sample" => DecommissionReason::FreeSample,
        "exported" => DecommissionReason::Exported,
        "locked" => DecommissionReason::Locked,
        _ => return None,
    })
}

/// An action: its events signed as the pharmacy, submitted in order, each answered once sealed or refused.
async fn act(State(c): State<Console>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if !c.token.admits(&headers) {
        return unauthorized();
    }
    let request: ActRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        // Where, not what: serde's message would quote the offending value, whatever its length.
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "body",
                format!(
                    "not an action request ({:?} error at line {}, column {}): action is dispense, undo, \
                     decommission or receive, with packs and containers",
                    e.classify(),
                    e.line(),
                    e.column()
                ),
            );
        }
    };
    let planned = match plan(&request) {
        Ok(p) => p,
        Err((field, message)) => return error(StatusCode::BAD_REQUEST, field, message),
    };
    let mut outcomes = Vec::with_capacity(planned.len());
    for Planned { what, body } in planned {
        let envelope = sign_payload(&c.who.key, &new_payload(&c.who.chain_id, &c.who.id, body));
        let result = async {
            let id = submit(&c.custody, envelope).await?;
            let status = wait_outcome(&c.ledger, &c.who, &id, SEAL_TIMEOUT).await?;
            anyhow::Ok((id, status))
        }
        .await;
        outcomes.push(match result {
            Ok((id, status)) => Outcome {
                what,
                event_id: hex::encode(&id),
                committed: status.state() == EventState::Committed,
                height: status.height,
                code: match status.state() {
                    EventState::Committed => String::new(),
                    _ => RejectCode::try_from(status.reject_code)
                        .unwrap_or_default()
                        .as_str_name()
                        .trim_start_matches("REJECT_CODE_")
                        .to_string(),
                },
                text: describe(&status),
            },
            Err(e) => Outcome {
                what,
                event_id: String::new(),
                committed: false,
                height: 0,
                code: String::new(),
                text: format!("{e:#}"),
            },
        });
    }
    Json(json!({ "outcomes": outcomes })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn request(json: Value) -> ActRequest {
        serde_json::from_value(json).unwrap()
    }

    /// The router as `pedigree console` serves it: behind the server-wide 16 KiB body limit, which the action
    /// route raises (a batch of a thousand packs is about 100 KiB).
    #[tokio::test]
    async fn a_batch_of_a_thousand_packs_is_read_whole() {
        use axum::body::Body;
        use axum::http::Request;
        use tower::ServiceExt;
        let console = Console {
            who: Arc::new(Credentials {
                id: "city-pharmacy".into(),
                key: pedigree_core::keys::KeyPair::generate(),
                chain_id: [0u8; 32],
            }),
            custody: "https://127.0.0.1:1".into(),
            ledger: "https://127.0.0.1:1".into(),
            token: BearerToken::new("token-0123456789abcdef"),
            session: Arc::default(),
        };
        let app = router(console, false).layer(axum::extract::DefaultBodyLimit::max(
            pedigree_runtime::limits::MAX_HTTP_BODY_BYTES,
        ));
        let post = |packs: usize| {
            let packs: Vec<Value> = (0..packs)
                .map(|i| json!({"gtin": "09506000134352", "serial": format!("SERIAL-{i:08}"), "from": "acme-pharma"}))
                .collect();
            let body = json!({"action": "frobnicate", "packs": packs}).to_string();
            Request::post("/console/api/act")
                .header("authorization", "Bearer token-0123456789abcdef")
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap()
        };
        // Read whole (and refused for what it says: no such action), not cut off at 16 KiB.
        let answer = app.clone().oneshot(post(MAX_PACKS)).await.unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        let body = axum::body::to_bytes(answer.into_body(), usize::MAX).await.unwrap();
        let message = String::from_utf8_lossy(&body);
        assert!(message.len() < 300 && !message.contains("frobnicate"), "{message}");
        let big = app.oneshot(post(4 * MAX_PACKS)).await.unwrap();
        assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn groups_packs_into_one_event_per_gtin_and_sender() {
        let planned = plan(&request(json!({
            "action": "receive",
            "packs": [
                {"gtin": "09506000134352", "serial": "A", "from": "north"},
                {"gtin": "09506000134352", "serial": "B", "from": "north"},
                {"gtin": "09506000134352", "serial": "B", "from": "north"},
                {"gtin": "09506000134352", "serial": "C", "from": "south"},
            ],
            "containers": [{"sscc": "(00)106141411234567897", "from": "north"}],
        })))
        .unwrap();
        let what: Vec<&str> = planned.iter().map(|p| p.what.as_str()).collect();
        assert_eq!(
            what,
            [
                "receive 2 packs of 09506000134352 from north",
                "receive 1 pack of 09506000134352 from south",
                "receive (00)106141411234567897 from north",
            ]
        );
    }

    #[test]
    fn refuses_whole_naming_the_field() {
        let field = |j: Value| plan(&request(j)).unwrap_err().0;
        assert_eq!(field(json!({"action": "dispense"})), "packs");
        assert_eq!(
            field(json!({"action": "dispense", "packs": [{"gtin": "09506000134353", "serial": "A"}]})),
            "packs.gtin"
        );
        assert_eq!(
            field(json!({"action": "decommission", "packs": [{"gtin": "09506000134352", "serial": "A"}]})),
            "reason"
        );
        assert_eq!(
            field(json!({"action": "decommission", "reason": "lost",
                "packs": [{"gtin": "09506000134352", "serial": "A"}]})),
            "reason"
        );
        assert_eq!(
            field(json!({"action": "receive", "packs": [{"gtin": "09506000134352", "serial": "A"}]})),
            "packs.from"
        );
        assert_eq!(
            field(json!({"action": "dispense", "containers": [{"sscc": "106141411234567897", "from": "x"}]})),
            "containers"
        );
        let many: Vec<Value> = (0..=MAX_PACKS)
            .map(|i| json!({"gtin": "09506000134352", "serial": format!("S{i}")}))
            .collect();
        assert_eq!(field(json!({"action": "dispense", "packs": many})), "packs");
    }
}
