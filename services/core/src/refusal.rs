//! Why a well-formed, correctly signed event does not apply: the answer of the pack rules ([`crate::transition`]),
//! the state machine ([`crate::state`]) and registry changes ([`crate::governance`]) alike, recorded in the block
//! as a rejection.

use pedigree_gs1::{Gtin, Serial};

use crate::pb::RejectCode;

/// Why the state machine refused an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: RejectCode,
    pub reason: String,
}

impl Refusal {
    /// A refusal about one pack.
    pub(crate) fn new(code: RejectCode, serial: &Serial, detail: impl std::fmt::Display) -> Self {
        Self {
            code,
            reason: format!("serial {}: {detail}", serial.as_str()),
        }
    }

    /// A refusal about a product (a GTIN as a whole).
    pub(crate) fn product(code: RejectCode, gtin: &Gtin, detail: impl std::fmt::Display) -> Self {
        Self {
            code,
            reason: format!("gtin {}: {detail}", gtin.as_str()),
        }
    }

    /// A refusal about a container (shown bracketed).
    pub(crate) fn container(
        code: RejectCode,
        container: impl std::fmt::Display,
        detail: impl std::fmt::Display,
    ) -> Self {
        Self {
            code,
            reason: format!("container {container}: {detail}"),
        }
    }

    /// A refusal about a pack named by its key (an aggregation names packs of several GTINs).
    pub(crate) fn pack(code: RejectCode, key: &crate::pack_key::PackKey, detail: impl std::fmt::Display) -> Self {
        Self {
            code,
            reason: format!("pack (01){}(21){}: {detail}", key.gtin(), key.serial()),
        }
    }

    /// A refusal about the chain's own keys (a sequencer key rotation).
    pub(crate) fn governance(code: RejectCode, detail: impl std::fmt::Display) -> Self {
        Self {
            code,
            reason: detail.to_string(),
        }
    }

    /// A refusal about a participant (a registry change).
    pub(crate) fn participant(code: RejectCode, id: &str, detail: impl std::fmt::Display) -> Self {
        Self {
            code,
            reason: format!("participant '{id}': {detail}"),
        }
    }
}
