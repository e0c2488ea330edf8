//! The custody service: the only way events enter the ledger.
//!
//! Each role's gRPC service takes signed envelopes of the events that role may sign. An envelope is checked
//! (`pedigree_core::event::check_envelope`) and produced to the events topic; the call answers with the event id
//! only after the broker acknowledged the write, so an acknowledged event is durable. Custody rules that depend on
//! the state of packs are the sequencer's: their outcome is read back with `LedgerService.GetEventStatus`.

#![forbid(unsafe_code)]

mod app;
mod config;
mod error;
mod roles;
mod submit;

pub use app::App;
pub use config::Config;
pub use error::SubmitError;
