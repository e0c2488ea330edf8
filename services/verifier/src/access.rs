//! Who may read what (docs/access.md), as pure decisions over who asks and what is asked about.
//!
//! | caller | verify | proof bundle | event status | blocks, head, log proofs |
//! | --- | --- | --- | --- | --- |
//! | anonymous | verdict, what was scanned, pack status | no | no | no |
//! | participant | full answer for packs it holds or held, else as anonymous | packs it holds or held | its own events | no |
//! | auditor, authority | full answer | yes | every event | yes |

use pedigree_core::participant::Role;
use pedigree_core::pb::{PackRecord, ProductRecord};

/// Who is asking, once their credentials (if any) were checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    Participant {
        id: String,
        role: Role,
        /// As outcomes and pending marks name signers ([`pedigree_core::participant::Registry::signer_index`]).
        index: u32,
    },
}

/// Why a request is refused although its credentials (or their absence) are in order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("blocks, the head and log proofs are for auditors and authorities; sign in with such a participant's key")]
    Ledger,
    #[error("a proof bundle is given to participants that hold or held the pack; sign in as one")]
    Proof,
    #[error("event status is given to the event's signer (and auditors); sign in as the signer")]
    Status,
    #[error("notifications are for participants; sign in with your participant key")]
    Notifications,
    #[error("alerts are for the product's owner and the scanner that raised them; sign in with your participant key")]
    Alerts,
    #[error("only the product's owner closes an alert")]
    CloseAlert,
    #[error("tracing a lot is for the product's owner, auditors and authorities; sign in as one")]
    Trace,
    #[error("a pack's history is for the parties in its chain, auditors and authorities; sign in as one")]
    History,
}

impl Caller {
    pub fn id(&self) -> Option<&str> {
        match self {
            Caller::Anonymous => None,
            Caller::Participant { id, .. } => Some(id),
        }
    }

    pub(crate) fn reads_everything(&self) -> bool {
        matches!(self, Caller::Participant { role, .. } if role.reads_everything())
    }

    /// Blocks, the chain head, inclusion and consistency proofs.
    pub fn may_read_ledger(&self) -> Result<(), Denied> {
        if self.reads_everything() {
            Ok(())
        } else {
            Err(Denied::Ledger)
        }
    }

    /// Whether the caller sees a pack in full (holder, height, proof): it holds it, owns it (a 3PL holding it for
    /// them), is receiving it, had it just before its holder, owns the product, or reads everything.
    pub fn sees_pack(&self, pack: &PackRecord, product: Option<&ProductRecord>) -> bool {
        if self.reads_everything() {
            return true;
        }
        let Some(id) = self.id() else { return false };
        [
            pack.holder.as_str(),
            pack.receiver.as_str(),
            pack.received_from.as_str(),
            pack.owner.as_str(),
        ]
        .contains(&id)
            || product.is_some_and(|p| p.owner == id)
    }

    /// Whether the caller may learn the status of an event whose envelope names signer `signer_index` (0 for a
    /// signer the registry does not know, whose events only auditors see). Anonymous callers are refused outright; a participant asking about
    /// someone else's event is told it does not exist, which is all it may know.
    pub fn may_see_status(&self, signer_index: u32) -> Result<bool, Denied> {
        match self {
            Caller::Anonymous => Err(Denied::Status),
            _ if self.reads_everything() => Ok(true),
            Caller::Participant { index, .. } => Ok(signer_index != 0 && *index == signer_index),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn participant(id: &str, role: Role, index: u32) -> Caller {
        Caller::Participant {
            id: id.into(),
            role,
            index,
        }
    }

    fn pack(holder: &str, receiver: &str, from: &str) -> PackRecord {
        PackRecord {
            holder: holder.into(),
            receiver: receiver.into(),
            received_from: from.into(),
            ..PackRecord::default()
        }
    }

    #[test]
    fn only_auditors_and_authorities_read_the_ledger() {
        assert_eq!(Caller::Anonymous.may_read_ledger(), Err(Denied::Ledger));
        assert!(participant("p", Role::Pharmacy, 1).may_read_ledger().is_err());
        assert!(participant("m", Role::Manufacturer, 1).may_read_ledger().is_err());
        assert!(participant("a", Role::Auditor, 1).may_read_ledger().is_ok());
        assert!(participant("r", Role::Authority, 1).may_read_ledger().is_ok());
    }

    #[test]
    fn a_pack_is_seen_in_full_by_those_who_hold_or_held_it() {
        let p = pack("city", "", "medline");
        let owner = ProductRecord {
            owner: "acme".into(),
            ..ProductRecord::default()
        };
        assert!(!Caller::Anonymous.sees_pack(&p, Some(&owner)));
        assert!(participant("city", Role::Pharmacy, 1).sees_pack(&p, None));
        assert!(participant("medline", Role::Distributor, 2).sees_pack(&p, None));
        assert!(participant("acme", Role::Manufacturer, 3).sees_pack(&p, Some(&owner)));
        assert!(!participant("harbour", Role::Pharmacy, 4).sees_pack(&p, Some(&owner)));
        assert!(participant("x", Role::Authority, 5).sees_pack(&p, None));
        // In transit: the receiver sees it before receipt.
        assert!(participant("north", Role::Distributor, 6).sees_pack(&pack("medline", "north", "acme"), None));
    }

    #[test]
    fn an_event_status_is_its_signers() {
        assert_eq!(Caller::Anonymous.may_see_status(1), Err(Denied::Status));
        assert_eq!(participant("a", Role::Pharmacy, 3).may_see_status(3), Ok(true));
        assert_eq!(participant("a", Role::Pharmacy, 3).may_see_status(4), Ok(false));
        assert_eq!(participant("a", Role::Pharmacy, 3).may_see_status(0), Ok(false));
        assert_eq!(participant("a", Role::Auditor, 3).may_see_status(0), Ok(true));
    }
}
