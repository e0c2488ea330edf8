//! The handle every reader and the writer share: one connection and the bucket layouts last seen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use redis::aio::ConnectionManager;

use crate::buckets::Meta;
use crate::config::RedisConfig;
use crate::error::{Result, StoreError};

/// How long any one command may take before the store reports Redis unavailable.
const RESPONSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A cheap-to-clone handle on the store (one multiplexed, auto-reconnecting connection).
#[derive(Clone)]
pub struct Store {
    pub(crate) con: ConnectionManager,
    /// Bucket layouts last seen, by GTIN (readers guess the bucket from it and check in the same round trip).
    pub(crate) layouts: Arc<Mutex<HashMap<String, Meta>>>,
}

impl Store {
    /// Connects as `config` says (TLS unless it explicitly allows plaintext, which it then warns about).
    pub async fn connect(config: &RedisConfig) -> Result<Self> {
        let client = config.client()?;
        let target = config.target();
        if config.is_plaintext() {
            tracing::warn!(redis = %target, "redis connection is plaintext (--redis-insecure-plaintext): passwords and ledger data cross the network unencrypted");
        }
        // One block's effects are one atomic script: a block of bulk events sets ~100k keys, which takes Redis
        // longer than the client's default 500 ms response timeout.
        let manager = redis::aio::ConnectionManagerConfig::new().set_response_timeout(Some(RESPONSE_TIMEOUT));
        let con = ConnectionManager::new_with_config(client, manager)
            .await
            .map_err(|source| StoreError::Connect { target, source })?;
        Ok(Self {
            con,
            layouts: Arc::default(),
        })
    }

    /// Round trip to Redis, for readiness checks.
    pub async fn ping(&self) -> Result<()> {
        let mut con = self.con.clone();
        redis::cmd("PING").query_async::<()>(&mut con).await?;
        Ok(())
    }
}
