//! `pedigree webhook`: relays a participant's notifications (`NotificationService.Subscribe`) to an HTTPS endpoint,
//! signed. Each notification is POSTed as JSON with `x-pedigree-signature: sha256=<hex of HMAC-SHA256(secret,
//! body)>`; the relay moves on only after a 2xx, retrying with backoff meanwhile, and records the cursor of each
//! delivered notification in a file, so that after any stop (the receiver down, the relay restarted, the verifier
//! unreachable) delivery resumes after the last one delivered: at-least-once (a receiver deduplicates on
//! `event_id` + `kind`, or on the cursor).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use hmac::{KeyInit, Mac};
use pedigree_core::pb::notification_service_client::NotificationServiceClient;
use pedigree_core::pb::{Notification, NotificationCursor, SubscribeRequest};
use serde_json::json;

use crate::connect::{self, Credentials};
use crate::submit::Signer;

#[derive(clap::Args)]
pub struct WebhookArgs {
    /// The participant whose notifications are relayed (signs in with its key).
    #[command(flatten)]
    pub signer: Signer,
    /// Where each notification is POSTed (https://; http:// only with --insecure-plaintext).
    #[arg(long)]
    pub url: String,
    /// The key of the HMAC-SHA256 signature of each body, shared with the receiver.
    #[arg(long, env = "PEDIGREE_WEBHOOK_SECRET", hide_env_values = true)]
    pub secret: String,
    /// The cursor of the last notification delivered (created on the first delivery); delivery resumes after it.
    #[arg(long)]
    pub cursor_file: PathBuf,
    /// PEM CA bundle the receiver's certificate must chain to (default: the system's roots).
    #[arg(long)]
    pub receiver_ca: Option<PathBuf>,
    /// Without a cursor file, start from the chain's start (default: from the next block sealed).
    #[arg(long)]
    pub from_genesis: bool,
    /// Stop after delivering this many (default: run until interrupted).
    #[arg(long)]
    pub max: Option<u64>,
}

/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

pub async fn run(a: WebhookArgs) -> anyhow::Result<()> {
    if a.url.starts_with("http://") && !connect::insecure_plaintext() {
        bail!("--url: http:// sends notifications in clear; use https://, or pass --insecure-plaintext");
    }
    let receiver = receiver_client(a.receiver_ca.as_deref())?;
    let key = crate::submit::load_key(&a.signer.id, &a.signer.sending)?;
    let who = Credentials::new(&a.signer.id, key, &a.signer.sending.dir)?;
    let mut delivered = 0u64;
    let mut backoff = Duration::from_millis(200);
    loop {
        let after = read_cursor(&a.cursor_file)?;
        let request = SubscribeRequest {
            from_genesis: after.is_none() && a.from_genesis,
            after,
        };
        let stream = async {
            let channel = connect::signed_in(&a.signer.sending.ledger, &who).await?;
            let stream = NotificationServiceClient::new(channel).subscribe(request).await?;
            anyhow::Ok(stream.into_inner())
        };
        let mut stream = match stream.await {
            Ok(stream) => stream,
            Err(e) => {
                eprintln!("webhook: subscribing failed ({e:#}); again in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        loop {
            let note = match stream.message().await {
                Ok(Some(note)) => note,
                Ok(None) => break,
                Err(e) => {
                    eprintln!("webhook: the stream broke ({e}); resubscribing");
                    break;
                }
            };
            deliver(&receiver, &a.url, a.secret.as_bytes(), &note).await;
            if let Some(cursor) = note.cursor {
                write_cursor(&a.cursor_file, &cursor)?;
            }
            delivered += 1;
            backoff = Duration::from_millis(200);
            if a.max.is_some_and(|max| delivered >= max) {
                return Ok(());
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// POSTs `note` until the receiver answers 2xx.
async fn deliver(client: &reqwest::Client, url: &str, secret: &[u8], note: &Notification) {
    let body = body_of(note).to_string();
    let signature = sign(secret, body.as_bytes());
    let cursor = note.cursor.unwrap_or_default();
    let mut backoff = Duration::from_millis(200);
    loop {
        let sent = client
            .post(url)
            .header("content-type", "application/json")
            .header("x-pedigree-signature", format!("sha256={signature}"))
            .header("x-pedigree-cursor", cursor_text(&cursor))
            .body(body.clone())
            .timeout(Duration::from_secs(30))
            .send()
            .await;
        match sent {
            Ok(answer) if answer.status().is_success() => {
                println!("delivered {} {}", cursor_text(&cursor), kind_name(note));
                return;
            }
            Ok(answer) => eprintln!("webhook: {url} answered {}; again in {backoff:?}", answer.status()),
            Err(e) => eprintln!("webhook: {url} unreachable ({e}); again in {backoff:?}"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

fn kind_name(note: &Notification) -> &'static str {
    note.kind().as_str_name().trim_start_matches("NOTIFICATION_KIND_")
}

/// The JSON a receiver gets (docs/access.md, "Notifications").
pub fn body_of(note: &Notification) -> serde_json::Value {
    let cursor = note.cursor.unwrap_or_default();
    let mut body = json!({
        "cursor": {"height": cursor.height, "index": cursor.index, "alerts": cursor.alerts},
        "kind": kind_name(note),
        "event_id": hex::encode(&note.event_id),
        "signer": note.signer,
        "sealed_at_ms": note.sealed_at_ms,
        "items": note.items,
    });
    if note.reject_code != 0 {
        body["reject_code"] = note.reject_code().as_str_name().into();
        body["reason"] = note.reason.clone().into();
    }
    if !note.alert_id.is_empty() {
        body["alert_id"] = note.alert_id.clone().into();
        body["reason"] = note.reason.clone().into();
    }
    body
}

/// A cursor as the file and the `x-pedigree-cursor` header spell it: `height.index.alerts`.
fn cursor_text(cursor: &NotificationCursor) -> String {
    format!("{}.{}.{}", cursor.height, cursor.index, cursor.alerts)
}

/// Hex of HMAC-SHA256(`secret`, `body`).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("hmac takes a key of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn receiver_client(ca: Option<&Path>) -> anyhow::Result<reqwest::Client> {
    let builder = reqwest::Client::builder().use_rustls_tls();
    let builder = match ca {
        Some(path) => {
            let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            builder
                .tls_built_in_root_certs(false)
                .add_root_certificate(reqwest::Certificate::from_pem(&pem).context("--receiver-ca")?)
        }
        None => builder,
    };
    Ok(builder.build()?)
}

fn read_cursor(path: &Path) -> anyhow::Result<Option<NotificationCursor>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    // `height.index.alerts`; a file written before alerts were notified has no third part.
    let parts: Vec<&str> = text.trim().split('.').collect();
    let (height, index, alerts) = match parts.as_slice() {
        [height, index] => (*height, *index, "0"),
        [height, index, alerts] => (*height, *index, *alerts),
        _ => bail!("{}: not a cursor (height.index.alerts)", path.display()),
    };
    Ok(Some(NotificationCursor {
        height: height.parse().with_context(|| format!("{}: height", path.display()))?,
        index: index.parse().with_context(|| format!("{}: index", path.display()))?,
        alerts: alerts.parse().with_context(|| format!("{}: alerts", path.display()))?,
    }))
}

/// Replaces the cursor file whole (written aside, then renamed), so a crash never leaves half a cursor.
fn write_cursor(path: &Path, cursor: &NotificationCursor) -> anyhow::Result<()> {
    let aside = path.with_extension("tmp");
    std::fs::write(&aside, format!("{}\n", cursor_text(cursor)))
        .with_context(|| format!("writing {}", aside.display()))?;
    std::fs::rename(&aside, path).with_context(|| format!("replacing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_rfc_4231s_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_cursor_survives_the_file() {
        let dir = std::env::temp_dir().join(format!("pedigree-cursor-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cursor");
        assert_eq!(read_cursor(&path).unwrap(), None);
        let cursor = NotificationCursor {
            height: 42,
            index: 7,
            alerts: 3,
        };
        write_cursor(&path, &cursor).unwrap();
        assert_eq!(read_cursor(&path).unwrap(), Some(cursor));
        std::fs::write(&path, "garbage").unwrap();
        assert!(read_cursor(&path).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
