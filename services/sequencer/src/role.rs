//! A sequencer's role at a moment (standby, or leading a term with an epoch and a deadline), shared by the sources of
//! terms ([`crate::leadership`], [`crate::lease`]) and the sealing loop that watches it.

use tokio::sync::watch;
use tokio::time::Instant;

/// This sequencer's current role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Standby,
    /// Leading with `epoch`, until `until` (never, for static leadership) unless renewed.
    Leader {
        epoch: u64,
        until: Option<Instant>,
    },
}

impl Role {
    /// The epoch of the term, if it is still valid at `now`.
    pub fn valid_epoch(&self, now: Instant) -> Option<u64> {
        match *self {
            Role::Leader { epoch, until } if until.is_none_or(|u| now < u) => Some(epoch),
            _ => None,
        }
    }
}

/// Resolves when the term `epoch` is over: the role changed away from it or its deadline passed.
pub async fn term_over(role: &mut watch::Receiver<Role>, epoch: u64) {
    loop {
        let until = match *role.borrow_and_update() {
            Role::Leader { epoch: e, until } if e == epoch => until,
            _ => return,
        };
        let expiry = async move {
            match until {
                Some(u) => tokio::time::sleep_until(u).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            changed = role.changed() => if changed.is_err() { return },
            () = expiry => return,
        }
    }
}
