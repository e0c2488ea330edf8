//! A validated event: what every rule of the ledger works with, and why an envelope does not become one.
//!
//! Events are made by [`crate::envelope::check_envelope`] (signature and role) over [`crate::decode`] (bytes and
//! field syntax), so an [`Event`]'s identifiers are valid by construction.

use pedigree_gs1::{Expiry, Gs1Error, Gtin, Lot, Serial, quote};

use crate::Hash;
use crate::container::{ContainerError, ContainerKey};
use crate::keys::{self, KeyError, PublicKey};
use crate::kind::EventKind;
use crate::participant::Role;
use crate::pb::{DecommissionReason, RejectCode};
use crate::product::{CompanyPrefix, ProductData};

/// A validated event body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// New packs; a repackager's name the packs they are made from (`sources`, empty for a manufacturer's).
    Commission {
        gtin: Gtin,
        lot: Lot,
        expiry: Expiry,
        serials: Vec<Serial>,
        sources: Vec<Line>,
    },
    /// Packs, GTIN by GTIN, and whole containers; `owner` when the signer ships goods it holds for another.
    Ship {
        lines: Vec<Line>,
        containers: Vec<ContainerKey>,
        receiver: String,
        documents: Option<Documents>,
        owner: Option<String>,
    },
    /// Packs and containers received, packs of the shipment refused (back to the sender), and packs delivered that
    /// were not shipped to the signer (`over`: recorded, not moved).
    Receive {
        lines: Vec<Line>,
        refused: Vec<Line>,
        over: Vec<Line>,
        containers: Vec<ContainerKey>,
        sender: String,
    },
    /// A shipment or return in transit, cancelled by its sender.
    VoidShipment {
        gtin: Option<Gtin>,
        serials: Vec<Serial>,
        containers: Vec<ContainerKey>,
        receiver: String,
    },
    /// Packs and containers into `parent`.
    Pack {
        parent: ContainerKey,
        lines: Vec<Line>,
        containers: Vec<ContainerKey>,
    },
    /// Packs and containers out of `parent`; none named means all of them.
    Unpack {
        parent: ContainerKey,
        lines: Vec<Line>,
        containers: Vec<ContainerKey>,
    },
    Dispense {
        gtin: Gtin,
        serials: Vec<Serial>,
    },
    Decommission {
        gtin: Gtin,
        serials: Vec<Serial>,
        reason: DecommissionReason,
    },
    Undo {
        gtin: Gtin,
        serials: Vec<Serial>,
    },
    Recall {
        gtin: Gtin,
        lot: Lot,
    },
    Withdraw {
        gtin: Gtin,
    },
    Return {
        gtin: Gtin,
        serials: Vec<Serial>,
        receiver: String,
    },
    Register {
        id: String,
        role: Role,
        name: String,
        gln: Option<String>,
        key: PublicKey,
    },
    RotateKey {
        id: String,
        key: PublicKey,
    },
    /// A new sequencer key, signing from the block after the one that seals this (governance).
    RotateSequencerKey {
        key: PublicKey,
    },
    Revoke {
        id: String,
        reason: String,
    },
    /// GS1 company prefixes attested to a manufacturer or repackager (governance).
    AttestPrefixes {
        id: String,
        prefixes: Vec<CompanyPrefix>,
    },
    /// A product's master data, registered (or changed) by its owner.
    RegisterProduct {
        gtin: Gtin,
        master: ProductData,
    },
    /// Packs their holder quarantines as suspect.
    Quarantine {
        gtin: Gtin,
        serials: Vec<Serial>,
        reason: String,
    },
    /// Quarantined packs cleared by the product's owner or an authority.
    ClearSuspect {
        gtin: Gtin,
        serials: Vec<Serial>,
        finding: String,
    },
    /// Packs declared illegitimate by the product's owner or an authority.
    DeclareIllegitimate {
        gtin: Gtin,
        serials: Vec<Serial>,
        reason: String,
    },
    /// A product handed to a new owner, with the new owner's consent (checked by the envelope gate).
    TransferProduct {
        gtin: Gtin,
        new_owner: String,
        sequence: u32,
        consent: Vec<u8>,
    },
}

impl Body {
    pub fn kind(&self) -> EventKind {
        match self {
            Body::Commission { .. } => EventKind::Commission,
            Body::Ship { .. } => EventKind::Ship,
            Body::Receive { .. } => EventKind::Receive,
            Body::Dispense { .. } => EventKind::Dispense,
            Body::Decommission { .. } => EventKind::Decommission,
            Body::Undo { .. } => EventKind::Undo,
            Body::Recall { .. } => EventKind::Recall,
            Body::Withdraw { .. } => EventKind::Withdraw,
            Body::Return { .. } => EventKind::Return,
            Body::Register { .. } => EventKind::Register,
            Body::RotateKey { .. } => EventKind::RotateKey,
            Body::RotateSequencerKey { .. } => EventKind::RotateSequencerKey,
            Body::Revoke { .. } => EventKind::Revoke,
            Body::Pack { .. } => EventKind::Pack,
            Body::Unpack { .. } => EventKind::Unpack,
            Body::VoidShipment { .. } => EventKind::VoidShipment,
            Body::AttestPrefixes { .. } => EventKind::AttestPrefixes,
            Body::RegisterProduct { .. } => EventKind::RegisterProduct,
            Body::TransferProduct { .. } => EventKind::TransferProduct,
            Body::Quarantine { .. } => EventKind::Quarantine,
            Body::ClearSuspect { .. } => EventKind::ClearSuspect,
            Body::DeclareIllegitimate { .. } => EventKind::DeclareIllegitimate,
        }
    }

    /// Whether this is a registry change (signed by governance) rather than a custody event.
    pub fn is_governance(&self) -> bool {
        matches!(
            self,
            Body::Register { .. }
                | Body::RotateKey { .. }
                | Body::RotateSequencerKey { .. }
                | Body::Revoke { .. }
                | Body::AttestPrefixes { .. }
        )
    }

    /// Every pack the event names, GTIN by GTIN.
    pub fn lines(&self) -> Vec<(&Gtin, &[Serial])> {
        match self {
            Body::Pack { lines, .. } | Body::Unpack { lines, .. } | Body::Ship { lines, .. } => {
                lines.iter().map(|l| (&l.gtin, l.serials.as_slice())).collect()
            }
            Body::Receive { lines, refused, .. } => lines
                .iter()
                .chain(refused)
                .map(|l| (&l.gtin, l.serials.as_slice()))
                .collect(),
            Body::Commission {
                gtin, serials, sources, ..
            } => std::iter::once((gtin, serials.as_slice()))
                .chain(sources.iter().map(|l| (&l.gtin, l.serials.as_slice())))
                .collect(),
            other => match other.gtin() {
                Some(gtin) if !other.serials().is_empty() => vec![(gtin, other.serials())],
                _ => Vec::new(),
            },
        }
    }

    /// The other party of a movement (the receiver of a shipment, return or voided shipment; the sender of a
    /// receipt) and the goods' owner when a third-party logistics provider ships them; empty strings otherwise.
    pub fn counterparty(&self) -> (&str, &str) {
        match self {
            Body::Ship { receiver, owner, .. } => (receiver, owner.as_deref().unwrap_or_default()),
            Body::Return { receiver, .. } | Body::VoidShipment { receiver, .. } => (receiver, ""),
            Body::Receive { sender, .. } => (sender, ""),
            _ => ("", ""),
        }
    }

    /// Whether this is an unpack naming no child: it takes out whatever its container holds.
    pub fn unpacks_everything(&self) -> bool {
        matches!(self, Body::Unpack { lines, containers, .. } if lines.is_empty() && containers.is_empty())
    }

    /// Every container the event names: the parent of a pack or unpack first, then the others in order.
    pub fn containers(&self) -> Vec<&ContainerKey> {
        match self {
            Body::Ship { containers, .. }
            | Body::Receive { containers, .. }
            | Body::VoidShipment { containers, .. } => containers.iter().collect(),
            Body::Pack { parent, containers, .. } | Body::Unpack { parent, containers, .. } => {
                std::iter::once(parent).chain(containers).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The one product a custody event is about; `None` for governance events, aggregation events and shipments of
    /// containers only.
    pub fn gtin(&self) -> Option<&Gtin> {
        Some(match self {
            Body::VoidShipment { gtin, .. } => return gtin.as_ref(),
            Body::Pack { .. } | Body::Unpack { .. } | Body::Ship { .. } | Body::Receive { .. } => return None,
            Body::Commission { gtin, .. }
            | Body::Dispense { gtin, .. }
            | Body::Decommission { gtin, .. }
            | Body::Undo { gtin, .. }
            | Body::Recall { gtin, .. }
            | Body::Withdraw { gtin }
            | Body::Return { gtin, .. }
            | Body::RegisterProduct { gtin, .. }
            | Body::TransferProduct { gtin, .. }
            | Body::Quarantine { gtin, .. }
            | Body::ClearSuspect { gtin, .. }
            | Body::DeclareIllegitimate { gtin, .. } => gtin,
            Body::Register { .. }
            | Body::RotateKey { .. }
            | Body::RotateSequencerKey { .. }
            | Body::Revoke { .. }
            | Body::AttestPrefixes { .. } => {
                return None;
            }
        })
    }

    pub fn serials(&self) -> &[Serial] {
        match self {
            Body::Commission { serials, .. }
            | Body::Dispense { serials, .. }
            | Body::Decommission { serials, .. }
            | Body::Undo { serials, .. }
            | Body::Return { serials, .. }
            | Body::VoidShipment { serials, .. }
            | Body::Quarantine { serials, .. }
            | Body::ClearSuspect { serials, .. }
            | Body::DeclareIllegitimate { serials, .. } => serials,
            // Product- and lot-level events and governance events name no pack; aggregation events and shipments
            // name lines.
            Body::Ship { .. }
            | Body::Receive { .. }
            | Body::Pack { .. }
            | Body::Unpack { .. }
            | Body::Recall { .. }
            | Body::Withdraw { .. }
            | Body::Register { .. }
            | Body::RotateKey { .. }
            | Body::RotateSequencerKey { .. }
            | Body::Revoke { .. }
            | Body::AttestPrefixes { .. }
            | Body::RegisterProduct { .. }
            | Body::TransferProduct { .. } => &[],
        }
    }
}

/// A shipment's trade documents, as given (each checked: at most 64 printable characters; a date YYYY-MM-DD).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Documents {
    pub purchase_order: String,
    pub invoice: String,
    pub despatch_advice: String,
    pub ship_date: String,
}

/// Serials of one GTIN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub gtin: Gtin,
    pub serials: Vec<Serial>,
}

/// A checked event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The event id: tagged hash of the event core ([`event_id`]), the digest its signature is over.
    pub id: Hash,
    pub signer: String,
    pub signer_role: Role,
    pub timestamp_ms: i64,
    /// The chain the signer meant it for (checked against the registry's by [`crate::envelope::check_envelope`]).
    pub chain_id: Hash,
    pub body: Body,
}

impl Event {
    /// The participants the event concerns: its signer, and the other party and goods' owner of a movement
    /// ([`Body::counterparty`]), each once, in that order.
    pub fn parties(&self) -> Vec<&str> {
        let (counterparty, owner) = self.body.counterparty();
        let mut parties: Vec<&str> = Vec::with_capacity(3);
        for p in [self.signer.as_str(), counterparty, owner] {
            if !p.is_empty() && !parties.contains(&p) {
                parties.push(p);
            }
        }
        parties
    }
}

/// Why an envelope was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum EventError {
    #[error("payload is {size} bytes, more than the {max} allowed")]
    PayloadTooLarge { size: usize, max: usize },
    #[error("payload is not a valid pedigree.v1.EventPayload: {0}")]
    Decode(String),
    #[error("payload has no event body")]
    MissingBody,
    #[error(
        "envelope signer '{}' differs from payload signer '{}'",
        quote(envelope),
        quote(payload)
    )]
    SignerMismatch { envelope: String, payload: String },
    #[error("nonce must be 8 to 64 bytes, got {0}")]
    Nonce(usize),
    #[error("{}", field_message(field, source))]
    Field { field: String, source: Gs1Error },
    #[error("serials: at least one serial is required")]
    NoSerials,
    #[error("{0}")]
    Container(ContainerError),
    #[error("{field}: names nothing to {what}")]
    Nothing { field: &'static str, what: &'static str },
    #[error("{field}: '{}' appears twice in the event", quote(value))]
    Duplicate { field: &'static str, value: String },
    #[error("serials: {got} serials, more than the {max} allowed in one event")]
    TooManySerials { got: usize, max: usize },
    #[error("serials: '{}' appears twice in the event", quote(.0))]
    DuplicateSerial(String),
    #[error("{field}: '{}' is not a valid participant id", quote(value))]
    BadParticipantId { field: &'static str, value: String },
    #[error("unknown signer '{}'", quote(.0))]
    UnknownSigner(String),
    #[error("bad signature: {0}")]
    Signature(KeyError),
    #[error("role {role} may not sign {kind} events (signer '{}')", quote(signer))]
    RoleNotAllowed {
        signer: String,
        role: &'static str,
        kind: &'static str,
    },
    #[error("{field}: unknown participant '{}'", quote(value))]
    UnknownParticipant { field: &'static str, value: String },
    #[error("reason: a decommission needs a reason (destroyed, stolen, sample, free sample, exported, locked)")]
    MissingReason,
    #[error("{field}: must name another participant than the signer")]
    SelfCounterparty { field: &'static str },
    #[error("{field}: {detail}")]
    Invalid { field: &'static str, detail: String },
    #[error("signer '{id}' was revoked at height {height}: its events are refused")]
    Revoked { id: String, height: u64 },
    #[error("{field}: participant '{id}' was revoked at height {height}: nothing may be sent to it")]
    RevokedCounterparty {
        field: &'static str,
        id: String,
        height: u64,
    },
    #[error("signer '{signer}' signed with a key retired at height {until}: sign with its current key")]
    RetiredKey { signer: String, until: u64 },
    #[error("chain_id: the event is for chain {got}, this is chain {expected}")]
    WrongChain { expected: String, got: String },
    #[error("gtin: {gtin} is under no gs1 company prefix attested to '{}'", quote(signer))]
    PrefixNotAttested { gtin: String, signer: String },
    #[error("consent: {0}")]
    TransferConsent(String),
}

/// Gs1 errors already name their field ("gtin: ..."); only a more precise location (serials[3]) is prefixed.
fn field_message(field: &str, source: &Gs1Error) -> String {
    if field == source.field() {
        source.to_string()
    } else {
        format!("{field}: {source}")
    }
}

impl EventError {
    /// Whether the refusal depends on the registry (and could differ after a registry change).
    pub fn depends_on_registry(&self) -> bool {
        matches!(
            self,
            EventError::UnknownSigner(_)
                | EventError::Signature(_)
                | EventError::RoleNotAllowed { .. }
                | EventError::UnknownParticipant { .. }
                | EventError::Revoked { .. }
                | EventError::RevokedCounterparty { .. }
                | EventError::RetiredKey { .. }
                | EventError::PrefixNotAttested { .. }
                | EventError::TransferConsent(_)
        )
    }

    /// The code recorded when the sequencer refuses an event for this reason.
    pub fn reject_code(&self) -> RejectCode {
        match self {
            EventError::UnknownSigner(_) => RejectCode::UnknownSigner,
            EventError::Signature(_) => RejectCode::BadSignature,
            EventError::RoleNotAllowed { .. } => RejectCode::RoleNotAllowed,
            EventError::UnknownParticipant { .. } => RejectCode::UnknownParticipant,
            EventError::Revoked { .. } | EventError::RevokedCounterparty { .. } => RejectCode::ParticipantRevoked,
            EventError::RetiredKey { .. } => RejectCode::RetiredKey,
            EventError::WrongChain { .. } => RejectCode::WrongChain,
            EventError::PrefixNotAttested { .. } => RejectCode::PrefixNotAttested,
            EventError::TransferConsent(_) => RejectCode::TransferConsent,
            _ => RejectCode::Malformed,
        }
    }
}

/// An event's id: the tagged hash of the event core computed from the payload bytes (not of the signature, so the id
/// is fixed before signing; [`crate::disclosure`]). A payload whose core cannot be computed (it does not decode, or
/// lacks a body, a 32-byte seed or chain id) is only ever seen in a rejection, where its id is SHA-256(payload).
pub fn event_id(payload: &[u8]) -> Hash {
    use prost::Message;
    crate::pb::EventPayload::decode(payload)
        .ok()
        .and_then(|decoded| crate::disclosure::core_of(payload, &decoded).ok())
        .map_or_else(|| keys::sha256(payload), |core| core.id())
}
