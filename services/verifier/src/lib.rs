//! The verifier: the read side of Pedigree.
//!
//! A pharmacist's scan arrives as gRPC `VerifierService.Verify`, as `GET /v1/verify?code=...`, or as a GS1 Digital
//! Link path (`GET /01/{gtin}/21/{serial}?10={lot}&17={expiry}`); all three go through [`verify::Verifier`], which
//! answers from Redis in one round trip. `LedgerService` serves event outcomes, blocks and the chain head.
//!
//! Who may read what is decided in [`access`] (docs/access.md): callers sign in with `AuthService.StartSession`
//! ([`auth`]) and present the session token ([`session`]) on later calls; without one they are anonymous.
//!
//! Every caller is counted against its rate ([`rates`]: anonymous ones by source address, participants by
//! identity) before any work is done for it.
//!
//! A participant's scan that contradicts the ledger raises an alert ([`alerts`]), recorded in the alerts log (a
//! Kafka topic every verifier folds into Redis: `alert_log`) before the verdict is answered with its id.
//!
//! Nothing is answered from a Redis that lost its state or is being rebuilt ([`readiness`]): UNAVAILABLE / 503.

#![forbid(unsafe_code)]

mod access;
mod alert_log;
mod alerts;
mod app;
pub mod auth;
pub mod client_ip;
mod config;
pub mod epcis;
pub mod epcis_query;
mod error;
mod grpc;
pub mod history;
mod http;
mod log_proofs;
pub mod metrics;
mod notify;
mod rates;
mod readiness;
pub mod resolver;
pub mod route;
pub mod session;
mod trace;
mod transaction;
mod verify;
pub mod vrs;

pub use app::App;
pub use config::Config;
pub use error::VerifyError;
