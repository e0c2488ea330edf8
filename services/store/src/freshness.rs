//! How current Redis is: whether it holds ledger state at all, and how far `head` is behind the height a replay is
//! bringing it to. Readers answer from Redis only when it is fresh enough; otherwise they say "unavailable" rather
//! than answer from missing or partial state (an emptied Redis would make every genuine pack "unknown").

use crate::error::Result;
use crate::schema::{HEAD, SYNC_TARGET};
use crate::store::Store;

/// `head` and the replay target as read together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Freshness {
    /// `None`: Redis holds no ledger state (new, emptied, or restarted without persistence).
    pub head: Option<u64>,
    /// The height a sequencer replaying the log is bringing `head` to (0 if none was written).
    pub target: u64,
}

/// Why Redis cannot be answered from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Stale {
    #[error("the ledger state is not loaded (redis holds no head: new, emptied or restarted); retry shortly")]
    Empty,
    #[error("the ledger state is being rebuilt from the log (at block {head} of {target}); retry shortly")]
    Rebuilding { head: u64, target: u64 },
}

impl Freshness {
    /// Parses the two values as `GET head` and `GET sync` return them.
    pub(crate) fn from_raw(head: Option<u64>, target: Option<u64>) -> Self {
        Self {
            head,
            target: target.unwrap_or(0),
        }
    }

    /// Whether answers may be given from this state: `head` present and at most `max_lag` blocks behind the
    /// replay target.
    pub fn check(&self, max_lag: u64) -> std::result::Result<u64, Stale> {
        let head = self.head.ok_or(Stale::Empty)?;
        if self.target > head.saturating_add(max_lag) {
            return Err(Stale::Rebuilding {
                head,
                target: self.target,
            });
        }
        Ok(head)
    }
}

impl Store {
    /// `head` and the replay target, in one round trip.
    pub async fn freshness(&self) -> Result<Freshness> {
        let mut con = self.con.clone();
        let (head, target): (Option<u64>, Option<u64>) =
            redis::pipe().get(HEAD).get(SYNC_TARGET).query_async(&mut con).await?;
        Ok(Freshness::from_raw(head, target))
    }

    /// Records that a replay is bringing `head` to `height` (readers stay unavailable until `head` is close).
    pub async fn set_sync_target(&self, height: u64) -> Result<()> {
        let mut con = self.con.clone();
        redis::cmd("SET")
            .arg(SYNC_TARGET)
            .arg(height)
            .query_async::<()>(&mut con)
            .await?;
        Ok(())
    }

    /// Marks an empty Redis as holding the state before block 1 (`head` = 0) unless it holds a head already: what a
    /// sequencer does once it has read a blocks topic with no block.
    pub async fn init_head(&self) -> Result<()> {
        let mut con = self.con.clone();
        redis::cmd("SET")
            .arg(HEAD)
            .arg(0)
            .arg("NX")
            .query_async::<()>(&mut con)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_head_is_never_fresh() {
        assert_eq!(Freshness::from_raw(None, None).check(u64::MAX), Err(Stale::Empty));
        assert_eq!(Freshness::from_raw(None, Some(3)).check(10), Err(Stale::Empty));
    }

    #[test]
    fn a_head_within_the_lag_of_the_target_is_fresh() {
        assert_eq!(Freshness::from_raw(Some(0), None).check(0), Ok(0));
        assert_eq!(Freshness::from_raw(Some(7), Some(5)).check(0), Ok(7));
        assert_eq!(Freshness::from_raw(Some(90), Some(100)).check(10), Ok(90));
        assert_eq!(
            Freshness::from_raw(Some(89), Some(100)).check(10),
            Err(Stale::Rebuilding { head: 89, target: 100 })
        );
        assert_eq!(
            Freshness::from_raw(Some(u64::MAX), Some(3)).check(u64::MAX),
            Ok(u64::MAX)
        );
    }
}
