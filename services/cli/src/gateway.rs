//! `pedigree gateway --as ID`: EPCIS 2.0 capture for an ERP that cannot sign protobuf. Run by the participant, next
//! to its ERP (it holds the participant's key): `POST /epcis/capture` takes an `EPCISDocument`, maps it whole to
//! custody events (`pedigree_core::epcis_capture`) or refuses it whole naming the event and field, then signs and submits the
//! events in document order, each once the one before it is sealed; the capture job's state is at
//! `GET /epcis/capture/{id}` (the REST binding's capture job), every job at `GET /epcis/capture`.
//!
//! HTTPS with the given certificate (plaintext only with `--insecure-plaintext-listen`, whose name says what it is);
//! every request carries `authorization: Bearer <PEDIGREE_GATEWAY_TOKEN>`. Jobs live in memory: a restarted gateway
//! forgets them, and the ledger (`pedigree status`, the events' ids in the job) still answers for every event.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pedigree_core::envelope::{new_payload, sign_payload};
use pedigree_core::pb::EventState;
use pedigree_runtime::limits::Limits;
use pedigree_runtime::tls::{ServerTls, ServerTlsConfig};
use pedigree_runtime::{Shutdown, shutdown_signal};
use serde::Serialize;
use serde_json::{Value, json};

use crate::bearer::BearerToken;
use crate::connect::Credentials;
use crate::submit::{describe, submit, wait_outcome};
use pedigree_core::epcis_capture::{Captured, PartyNames, map_document};

/// The largest capture document taken.
const MAX_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;
/// How long one event may take to be sealed before the job stops waiting for it.
const SEAL_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(clap::Args)]
pub struct GatewayArgs {
    /// The participant whose events the gateway signs.
    #[arg(long = "as")]
    pub as_id: String,
    /// That participant's private key (PKCS#8 PEM); default {dir}/{id}.pem.
    #[arg(long)]
    pub signer_key: Option<PathBuf>,
    /// Folder with genesis.json and keys (as written by `pedigree up`).
    #[arg(long, env = "PEDIGREE_DIR", default_value = ".pedigree")]
    pub dir: PathBuf,
    /// Custody gRPC endpoint.
    #[arg(long, env = "PEDIGREE_CUSTODY", default_value = "https://127.0.0.1:50051")]
    pub custody: String,
    /// Verifier gRPC endpoint (events' outcomes).
    #[arg(long, env = "PEDIGREE_LEDGER", default_value = "https://127.0.0.1:50052")]
    pub ledger: String,
    /// Where the gateway listens (port 0: any; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,
    /// The gateway's TLS certificate chain (PEM).
    #[arg(long, env = "PEDIGREE_GATEWAY_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// Its private key (PEM).
    #[arg(long, env = "PEDIGREE_GATEWAY_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Listen in plaintext, without TLS: only behind something that encrypts for you.
    #[arg(long)]
    pub insecure_plaintext_listen: bool,
    /// A party GLN the ERP's documents name, and the participant it is: `--party 0950600000026=medline-wholesale`
    /// (repeatable). The genesis participants' GLNs are known without it.
    #[arg(long = "party")]
    pub parties: Vec<String>,
}

/// A capture job, as `GET /epcis/capture/{id}` shows it.
#[derive(Clone, Debug, Serialize)]
struct Job {
    #[serde(rename = "captureID")]
    capture_id: String,
    #[serde(rename = "createdAt")]
    created_at: String,
    #[serde(rename = "finishedAt", skip_serializing_if = "Option::is_none")]
    finished_at: Option<String>,
    running: bool,
    success: bool,
    /// The ledger is append-only: events before a refused one stay, the later ones are still submitted.
    #[serde(rename = "captureErrorBehaviour")]
    capture_error_behaviour: &'static str,
    errors: Vec<JobError>,
    /// Each event of the document: its ledger event id (hex) and outcome, once submitted.
    events: Vec<JobEvent>,
}

#[derive(Clone, Debug, Serialize)]
struct JobError {
    #[serde(rename = "eventIndex")]
    event_index: usize,
    reason: String,
}

#[derive(Clone, Debug, Serialize)]
struct JobEvent {
    #[serde(rename = "eventId")]
    event_id: String,
    outcome: String,
}

#[derive(Clone)]
struct Gateway {
    who: Arc<Credentials>,
    custody: String,
    ledger: String,
    parties: Arc<PartyNames>,
    token: BearerToken,
    jobs: Arc<Mutex<BTreeMap<String, Job>>>,
}

pub async fn run(a: GatewayArgs) -> anyhow::Result<()> {
    let token = std::env::var("PEDIGREE_GATEWAY_TOKEN").unwrap_or_default();
    if token.len() < 16 {
        anyhow::bail!(
            "set PEDIGREE_GATEWAY_TOKEN to a secret of at least 16 characters: the ERP sends it as a bearer token"
        );
    }
    let who = Credentials::load(&a.as_id, a.signer_key.as_deref(), &a.dir)?;
    let registry = pedigree_runtime::load_registry(&a.dir.join("genesis.json"))?;
    let mut glns: HashMap<String, String> = registry
        .records()
        .into_iter()
        .filter_map(|r| r.gln.map(|g| (g, r.id)))
        .collect();
    for p in &a.parties {
        let (gln, id) = p.split_once('=').context("--party is GLN=participant id")?;
        glns.insert(gln.to_string(), id.to_string());
    }
    let tls = ServerTls::load(&ServerTlsConfig {
        cert: a.tls_cert.clone(),
        key: a.tls_key.clone(),
        insecure_plaintext: a.insecure_plaintext_listen,
        probe_addr: None,
    })?;
    let gateway = Gateway {
        who: Arc::new(who),
        custody: a.custody,
        ledger: a.ledger,
        parties: Arc::new(PartyNames { glns }),
        token: BearerToken::new(&token),
        jobs: Arc::new(Mutex::new(BTreeMap::new())),
    };
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .with_context(|| format!("binding {}", a.listen))?;
    let scheme = if tls.is_plaintext() { "http" } else { "https" };
    println!("gateway for {} on {scheme}://{}", a.as_id, listener.local_addr()?);
    let shutdown = Shutdown::on(shutdown_signal());
    pedigree_runtime::http::serve(listener, router(gateway), &tls, shutdown, &Limits::default()).await
}

fn router(gateway: Gateway) -> Router {
    Router::new()
        .route(
            "/epcis/capture",
            axum::routing::post(capture)
                .get(jobs)
                .layer(DefaultBodyLimit::max(MAX_DOCUMENT_BYTES)),
        )
        .route("/epcis/capture/{id}", get(job))
        .with_state(gateway)
}

/// An EPCIS exception as RFC 7807 problem details.
fn problem(status: StatusCode, kind: &str, title: &str) -> Response {
    let mut response = (
        status,
        axum::Json(json!({ "type": format!("epcisException:{kind}"), "title": title, "status": status.as_u16() })),
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

fn unauthorized() -> Response {
    problem(
        StatusCode::UNAUTHORIZED,
        "SecurityException",
        "authorization: send Bearer <the gateway's token>",
    )
}

async fn capture(State(g): State<Gateway>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if !g.token.admits(&headers) {
        return unauthorized();
    }
    let doc: Value = match serde_json::from_slice(&body) {
        Ok(doc) => doc,
        Err(e) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "ValidationException",
                &format!("body: not JSON (line {}, column {})", e.line(), e.column()),
            );
        }
    };
    let events = match map_document(&doc, &g.parties) {
        Ok(events) => events,
        Err(e) => return problem(StatusCode::BAD_REQUEST, "ValidationException", &e.to_string()),
    };
    let id = {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        hex::encode(bytes)
    };
    let job = Job {
        capture_id: id.clone(),
        created_at: now(),
        finished_at: None,
        running: true,
        success: false,
        capture_error_behaviour: "proceed",
        errors: Vec::new(),
        events: Vec::new(),
    };
    g.jobs.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), job);
    tokio::spawn(process(g.clone(), id.clone(), events));
    let mut response = (StatusCode::ACCEPTED, axum::Json(json!({ "captureID": id }))).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/epcis/capture/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// Signs and submits each event in order, waiting for each to be sealed before the next (an event may depend on the
/// one before it: the packs a shipment names are commissioned first).
async fn process(g: Gateway, id: String, events: Vec<Captured>) {
    let mut ok = true;
    for (i, Captured { body, time_ms }) in events.into_iter().enumerate() {
        // Signed with the time the document gives the event: when it happened, as the participant states it.
        let mut payload = new_payload(&g.who.chain_id, &g.who.id, body);
        payload.timestamp_ms = time_ms;
        let envelope = sign_payload(&g.who.key, &payload);
        let result = async {
            let event_id = submit(&g.custody, envelope).await?;
            let status = wait_outcome(&g.ledger, &g.who, &event_id, SEAL_TIMEOUT).await?;
            anyhow::Ok((hex::encode(&event_id), status))
        }
        .await;
        let mut jobs = g.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let Some(job) = jobs.get_mut(&id) else { return };
        match result {
            Ok((event_id, status)) => {
                if status.state() != EventState::Committed {
                    ok = false;
                    job.errors.push(JobError {
                        event_index: i,
                        reason: describe(&status),
                    });
                }
                job.events.push(JobEvent {
                    event_id,
                    outcome: describe(&status),
                });
            }
            Err(e) => {
                ok = false;
                job.errors.push(JobError {
                    event_index: i,
                    reason: format!("{e:#}"),
                });
                job.events.push(JobEvent {
                    event_id: String::new(),
                    outcome: "not submitted".into(),
                });
            }
        }
    }
    let mut jobs = g.jobs.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(job) = jobs.get_mut(&id) {
        job.running = false;
        job.success = ok;
        job.finished_at = Some(now());
    }
}

async fn job(State(g): State<Gateway>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if !g.token.admits(&headers) {
        return unauthorized();
    }
    let found = g.jobs.lock().unwrap_or_else(|e| e.into_inner()).get(&id).cloned();
    match found {
        Some(job) => axum::Json(job).into_response(),
        None => problem(
            StatusCode::NOT_FOUND,
            "NoSuchResourceException",
            "id: no capture job with this id",
        ),
    }
}

async fn jobs(State(g): State<Gateway>, headers: HeaderMap) -> Response {
    if !g.token.admits(&headers) {
        return unauthorized();
    }
    let all: Vec<Job> = g
        .jobs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .values()
        .cloned()
        .collect();
    axum::Json(all).into_response()
}

fn now() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    pedigree_core::gs1::Date::rfc3339_millis(ms)
}
