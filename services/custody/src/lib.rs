//! The custody service: the only way events enter the ledger.
//!
//! Each role's gRPC service takes signed envelopes of the events that role may sign. An envelope is checked
//! (`pedigree_core::envelope::check_envelope`) and produced to the events topic; the call answers with the event id
//! only after the broker acknowledged the write, so an acknowledged event is durable. Custody rules that depend on
//! the state of packs are the sequencer's: their outcome is read back with `LedgerService.GetEventStatus`.
//!
//! The registry custody checks signers against is the one sealed so far, read from Redis and refreshed every
//! `registry_refresh_ms`: a participant registered by governance can submit once its registration is sealed and
//! seen here; a revoked one or a rotated-out key is refused here from then on. In the window between, the
//! sequencer (which checks every event against the registry at the event's own position) refuses what custody
//! let through.

#![forbid(unsafe_code)]

mod app;
mod config;
mod error;
pub mod metrics;
mod submit;

pub use app::App;
pub use config::Config;
pub use error::SubmitError;
