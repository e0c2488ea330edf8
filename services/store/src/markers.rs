//! The only keys written by anyone but the sequencer, each by one reader under an ACL that allows it nothing else
//! (docs/operations.md): custody marks an event pending before handing it to the broker, so that its status is
//! PENDING rather than NOT_FOUND until sealed (the block write deletes the mark); the verifier claims each sign-in
//! nonce once, so a replayed sign-in fails.

use std::time::Duration;

use pedigree_core::Hash;

use crate::Result;
use crate::schema::{nonce_key, pending_key};
use crate::store::Store;

/// How long a pending mark lives if its event is never sealed (the block write deletes it as soon as it is).
pub const PENDING_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

impl Store {
    /// Marks event `id`, signed by `signer_index` (1-based registry index; 0 for governance), as acknowledged and
    /// not sealed yet.
    pub async fn mark_pending(&self, id: &Hash, signer_index: u32) -> Result<()> {
        let mut con = self.con.clone();
        redis::cmd("SET")
            .arg(pending_key(id))
            .arg(signer_index)
            .arg("PX")
            .arg(PENDING_TTL.as_millis() as u64)
            .query_async::<()>(&mut con)
            .await?;
        Ok(())
    }

    /// The signer index of a pending event, if custody marked it and it is not sealed yet.
    pub async fn pending_signer(&self, id: &Hash) -> Result<Option<u32>> {
        let mut con = self.con.clone();
        Ok(redis::cmd("GET").arg(pending_key(id)).query_async(&mut con).await?)
    }

    /// Claims `nonce` for `ttl`: true the first time, false if someone claimed it before (a replay).
    pub async fn claim_nonce(&self, nonce: &[u8], ttl: Duration) -> Result<bool> {
        let mut con = self.con.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(nonce_key(nonce))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(ttl.as_millis() as u64)
            .query_async(&mut con)
            .await?;
        Ok(set.is_some())
    }
}
