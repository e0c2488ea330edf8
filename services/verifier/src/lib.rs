//! The verifier: the read side of Pedigree.
//!
//! A pharmacist's scan arrives as gRPC `VerifierService.Verify`, as `GET /v1/verify?code=...`, or as a GS1 Digital
//! Link path (`GET /01/{gtin}/21/{serial}?10={lot}&17={expiry}`); all three go through [`verify::Verifier`], which
//! answers from Redis in one round trip. `LedgerService` serves event outcomes, blocks and the chain head.

#![forbid(unsafe_code)]

mod app;
mod config;
mod error;
mod grpc;
mod http;
mod log_proofs;
mod metrics;
mod verify;

pub use app::App;
pub use config::Config;
pub use error::VerifyError;
