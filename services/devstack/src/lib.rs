//! The local dev stack that `pedigree up` ships inside the `pedigree` binary, and that the end-to-end tests, the store's
//! tests and the load tester start too: a tansu Kafka broker and a redis-server (TLS only, one ACL user per
//! service, certificates from a local CA: [`tls::LocalCa`]), each a child process on a free 127.0.0.1 port, killed
//! when dropped; a demo set of participants with their keys and genesis file; and [`LocalStack`], the whole system as
//! real processes under a [`Supervisor`] (`pedigree up`, chaos runs).

#![forbid(unsafe_code)]

mod fixture;
pub mod local;
mod process;
mod redis;
mod service;
pub mod supervisor;
pub mod tls;

pub use fixture::{DEMO_PARTIES, Fixture, Party, demo_gln};
pub use local::{LocalStack, LocalStackConfig, Ports};
pub use process::{Broker, Storage, free_port, signal, wait_for_port};
pub use redis::{ADMIN_USER, ClientCerts, Redis};
pub use service::{ServiceProcess, ServiceSpec, binaries_dir};
pub use supervisor::{Notice, Supervised, Supervisor};
pub use tls::{LOOPBACK_NAMES, LocalCa, ServerCert};
