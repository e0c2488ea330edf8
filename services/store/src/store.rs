//! The handle every reader and the writer share: one connection and the bucket layouts last seen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use redis::aio::ConnectionManager;

use crate::buckets::Meta;
use crate::error::Result;

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
    pub async fn connect(url: &str) -> Result<Self> {
        let client = redis::Client::open(url)?;
        // One block's effects are one atomic script: a block of bulk events sets ~100k keys, which takes Redis
        // longer than the client's default 500 ms response timeout.
        let config = redis::aio::ConnectionManagerConfig::new().set_response_timeout(Some(RESPONSE_TIMEOUT));
        let con = ConnectionManager::new_with_config(client, config).await?;
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
