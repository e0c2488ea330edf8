//! The local dev stack that `pedigree up` ships inside the `pedigree` binary, and that the end-to-end tests, the store's
//! tests and the load tester start too: a tansu Kafka broker and a redis-server (TLS only, one ACL user per
//! service, certificates from a local CA: [`tls::LocalCa`]), each a child process on a free 127.0.0.1 port, killed
//! when dropped; and a demo set of participants with their keys and genesis file.

#![forbid(unsafe_code)]

mod fixture;
mod process;
mod redis;
pub mod tls;

pub use fixture::{Fixture, Party};
pub use process::{Broker, Storage, free_port, signal, wait_for_port};
pub use redis::{ADMIN_USER, ClientCerts, Redis};
pub use tls::{LOOPBACK_NAMES, LocalCa, ServerCert};
