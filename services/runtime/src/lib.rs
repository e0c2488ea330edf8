//! Process plumbing shared by Pedigree's services: logging, shutdown signals, gRPC serving with health,
//! reflection and graceful draining, HTTP serving, and Prometheus metrics.

#![forbid(unsafe_code)]

mod conn;
mod genesis;
pub mod grpc;
pub mod http;
pub mod limits;
pub mod metrics;
pub mod rate;
pub mod shed;
mod shutdown;
pub mod sign_in;
mod telemetry;
pub mod tls;

pub use genesis::load_registry;
pub use shutdown::{Shutdown, shutdown_signal};
pub use telemetry::init;
