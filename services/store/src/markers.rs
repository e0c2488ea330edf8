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

/// What the value of a pending mark adds to the signer index once the broker acknowledged the event.
const APPENDED: &str = "appended";

/// A pending mark: who signed the event, and whether the broker acknowledged it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pending {
    pub signer_index: u32,
    /// The broker acknowledged it: the event is in the events topic, waiting to be sealed. Otherwise custody was
    /// still waiting for the broker (or did not hear back: the outcome of that submission is unknown).
    pub appended: bool,
}

impl Pending {
    fn parse(raw: &str) -> Option<Self> {
        let mut parts = raw.split(' ');
        let signer_index = parts.next()?.parse().ok()?;
        let appended = match parts.next() {
            None => false,
            Some(APPENDED) => true,
            Some(_) => return None,
        };
        Some(Self { signer_index, appended })
    }
}

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

    /// Records that the broker acknowledged pending event `id`: it is in the events topic, not sealed yet. Only a
    /// mark that still exists is changed (`XX`): a mark the block write already deleted stays deleted.
    pub async fn mark_appended(&self, id: &Hash, signer_index: u32) -> Result<()> {
        let mut con = self.con.clone();
        redis::cmd("SET")
            .arg(pending_key(id))
            .arg(format!("{signer_index} {APPENDED}"))
            .arg("XX")
            .arg("PX")
            .arg(PENDING_TTL.as_millis() as u64)
            .query_async::<()>(&mut con)
            .await?;
        Ok(())
    }

    /// A pending event's mark, if custody marked it and it is not sealed yet.
    pub async fn pending(&self, id: &Hash) -> Result<Option<Pending>> {
        let mut con = self.con.clone();
        let raw: Option<String> = redis::cmd("GET").arg(pending_key(id)).query_async(&mut con).await?;
        Ok(raw.as_deref().and_then(Pending::parse))
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

#[cfg(test)]
mod tests {
    use super::Pending;

    #[test]
    fn marks_parse() {
        assert_eq!(
            Pending::parse("3"),
            Some(Pending {
                signer_index: 3,
                appended: false
            })
        );
        assert_eq!(
            Pending::parse("4294967295 appended"),
            Some(Pending {
                signer_index: u32::MAX,
                appended: true
            })
        );
        assert_eq!(Pending::parse("x"), None);
        assert_eq!(Pending::parse("3 other"), None);
    }
}
