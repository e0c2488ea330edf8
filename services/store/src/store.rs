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
        let store = Self {
            con,
            layouts: Arc::default(),
        };
        store.check_eviction_policy().await?;
        Ok(store)
    }

    /// Refuses a Redis that may evict keys: the ledger state is a cache of the log only as long as nothing in it
    /// disappears behind the sequencer's back (an evicted `e:` key would let an old envelope apply twice, an
    /// evicted pack would be answered "unknown").
    async fn check_eviction_policy(&self) -> Result<()> {
        let mut con = self.con.clone();
        let info: String = redis::cmd("INFO").arg("memory").query_async(&mut con).await?;
        match eviction_policy(&info) {
            Some("noeviction") => Ok(()),
            Some(policy) => Err(StoreError::Eviction(policy.to_string())),
            None => Err(StoreError::Eviction("not reported by INFO memory".into())),
        }
    }

    /// Round trip to Redis, for readiness checks.
    pub async fn ping(&self) -> Result<()> {
        let mut con = self.con.clone();
        redis::cmd("PING").query_async::<()>(&mut con).await?;
        Ok(())
    }
}

/// The `maxmemory_policy` field of an `INFO memory` answer.
fn eviction_policy(info: &str) -> Option<&str> {
    info.lines()
        .find_map(|line| line.strip_prefix("maxmemory_policy:"))
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_eviction_policy_is_read_from_info() {
        let info = "# Memory\r\nused_memory:1\r\nmaxmemory_policy:allkeys-lru\r\nallocator_frag_ratio:1.0\r\n";
        assert_eq!(super::eviction_policy(info), Some("allkeys-lru"));
        assert_eq!(super::eviction_policy("# Memory\r\n"), None);
    }
}
