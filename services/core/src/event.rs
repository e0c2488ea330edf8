//! Signed envelopes in, validated events out.
//!
//! [`check_envelope`] is the single gate every event passes, in custody (before it reaches Kafka) and again in the
//! sequencer (which trusts nothing it reads): size, signer, signature over the bytes as received, decoding, field
//! syntax, role. What comes out is an [`Event`] whose identifiers are valid by construction.

use std::collections::HashSet;

use pedigree_gs1::{Expiry, Gs1Error, Gtin, Lot, Serial};
use prost::Message;

use crate::Hash;
use crate::governance::GOVERNANCE_ID;
use crate::keys::{self, EVENT_TAG, KeyError, KeyPair, PublicKey};
use crate::participant::{Registry, Role, valid_participant_id};
use crate::pb::{self, DecommissionReason, RejectCode, event_payload};

/// Largest accepted payload: room for a commission of [`MAX_SERIALS`] 20-character serials.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
/// Most serials in one event (a pallet of packs).
pub const MAX_SERIALS: usize = 10_000;
/// Accepted nonce lengths, in bytes.
pub const NONCE_LEN: std::ops::RangeInclusive<usize> = 8..=64;

/// The kinds of custody events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    Commission,
    Ship,
    Receive,
    Dispense,
    Decommission,
    Undo,
    Recall,
    Withdraw,
    Return,
    Register,
    RotateKey,
    Revoke,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Commission => "commission",
            EventKind::Ship => "ship",
            EventKind::Receive => "receive",
            EventKind::Dispense => "dispense",
            EventKind::Decommission => "decommission",
            EventKind::Undo => "undo",
            EventKind::Recall => "recall",
            EventKind::Withdraw => "withdraw",
            EventKind::Return => "return",
            EventKind::Register => "register participant",
            EventKind::RotateKey => "rotate key",
            EventKind::Revoke => "revoke participant",
        }
    }
}

/// A validated event body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    Commission {
        gtin: Gtin,
        lot: Lot,
        expiry: Expiry,
        serials: Vec<Serial>,
    },
    Ship {
        gtin: Gtin,
        serials: Vec<Serial>,
        receiver: String,
    },
    Receive {
        gtin: Gtin,
        serials: Vec<Serial>,
        sender: String,
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
    Revoke {
        id: String,
        reason: String,
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
            Body::Revoke { .. } => EventKind::Revoke,
        }
    }

    /// The product a custody event is about; `None` for governance events.
    pub fn gtin(&self) -> Option<&Gtin> {
        Some(match self {
            Body::Commission { gtin, .. }
            | Body::Ship { gtin, .. }
            | Body::Receive { gtin, .. }
            | Body::Dispense { gtin, .. }
            | Body::Decommission { gtin, .. }
            | Body::Undo { gtin, .. }
            | Body::Recall { gtin, .. }
            | Body::Withdraw { gtin }
            | Body::Return { gtin, .. } => gtin,
            Body::Register { .. } | Body::RotateKey { .. } | Body::Revoke { .. } => return None,
        })
    }

    pub fn serials(&self) -> &[Serial] {
        match self {
            Body::Commission { serials, .. }
            | Body::Ship { serials, .. }
            | Body::Receive { serials, .. }
            | Body::Dispense { serials, .. }
            | Body::Decommission { serials, .. }
            | Body::Undo { serials, .. }
            | Body::Return { serials, .. } => serials,
            // Product- and lot-level events and governance events name no pack.
            Body::Recall { .. }
            | Body::Withdraw { .. }
            | Body::Register { .. }
            | Body::RotateKey { .. }
            | Body::Revoke { .. } => &[],
        }
    }
}

/// A checked event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// SHA-256 of the payload bytes.
    pub id: Hash,
    pub signer: String,
    pub signer_role: Role,
    pub timestamp_ms: i64,
    pub body: Body,
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
    #[error("envelope signer '{envelope}' differs from payload signer '{payload}'")]
    SignerMismatch { envelope: String, payload: String },
    #[error("nonce must be 8 to 64 bytes, got {0}")]
    Nonce(usize),
    #[error("{}", field_message(field, source))]
    Field { field: String, source: Gs1Error },
    #[error("serials: at least one serial is required")]
    NoSerials,
    #[error("serials: {got} serials, more than the {max} allowed in one event")]
    TooManySerials { got: usize, max: usize },
    #[error("serials: '{0}' appears twice in the event")]
    DuplicateSerial(String),
    #[error("{field}: '{value}' is not a valid participant id")]
    BadParticipantId { field: &'static str, value: String },
    #[error("unknown signer '{0}'")]
    UnknownSigner(String),
    #[error("bad signature: {0}")]
    Signature(KeyError),
    #[error("role {role} may not sign {kind} events (signer '{signer}')")]
    RoleNotAllowed {
        signer: String,
        role: &'static str,
        kind: &'static str,
    },
    #[error("{field}: unknown participant '{value}'")]
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
            _ => RejectCode::Malformed,
        }
    }
}

/// An event's id: SHA-256 of its payload bytes (not of the signature, so the id is fixed before signing).
pub fn event_id(payload: &[u8]) -> Hash {
    keys::sha256(payload)
}

/// Checks an envelope end to end against the registry; see the module docs for the order.
pub fn check_envelope(envelope: &pb::SignedEnvelope, registry: &Registry) -> Result<Event, EventError> {
    let size = envelope.payload.len();
    if size > MAX_PAYLOAD_BYTES {
        return Err(EventError::PayloadTooLarge {
            size,
            max: MAX_PAYLOAD_BYTES,
        });
    }
    let role = check_signature(envelope, registry)?;
    let event = decode_payload(&envelope.payload, role)?;
    if event.signer != envelope.signer {
        return Err(EventError::SignerMismatch {
            envelope: envelope.signer.clone(),
            payload: event.signer,
        });
    }
    let kind = event.body.kind();
    if !role.may_sign(kind) {
        return Err(EventError::RoleNotAllowed {
            signer: event.signer,
            role: role.as_str(),
            kind: kind.as_str(),
        });
    }
    check_counterparty(&event, registry)?;
    Ok(event)
}

/// Checks the signature under the signer's current key (the genesis governance key for [`GOVERNANCE_ID`]); returns
/// the signer's role. A revoked signer, or a signature by a key the signer retired, gets its own error.
fn check_signature(envelope: &pb::SignedEnvelope, registry: &Registry) -> Result<Role, EventError> {
    let unknown = || EventError::UnknownSigner(envelope.signer.clone());
    if envelope.signer == GOVERNANCE_ID {
        let key = registry.governance_key.as_ref().ok_or_else(unknown)?;
        key.verify(EVENT_TAG, &envelope.payload, &envelope.signature)
            .map_err(EventError::Signature)?;
        return Ok(Role::Governance);
    }
    let participant = registry.get(&envelope.signer).ok_or_else(unknown)?;
    if let Some(revoked) = &participant.revoked {
        return Err(EventError::Revoked {
            id: participant.id.clone(),
            height: revoked.height,
        });
    }
    match participant
        .key
        .verify(EVENT_TAG, &envelope.payload, &envelope.signature)
    {
        Ok(()) => Ok(participant.role),
        Err(e) => {
            // Only on failure: say so when an old key signed, rather than a bare "bad signature".
            let retired = participant
                .retired_keys
                .iter()
                .rev()
                .find(|r| r.key.verify(EVENT_TAG, &envelope.payload, &envelope.signature).is_ok());
            Err(match retired {
                Some(r) => EventError::RetiredKey {
                    signer: participant.id.clone(),
                    until: r.until,
                },
                None => EventError::Signature(e),
            })
        }
    }
}

fn check_counterparty(event: &Event, registry: &Registry) -> Result<(), EventError> {
    let (field, value) = match &event.body {
        Body::Ship { receiver, .. } => ("receiver", receiver),
        Body::Receive { sender, .. } => ("sender", sender),
        Body::Return { receiver, .. } => ("receiver", receiver),
        _ => return Ok(()),
    };
    match registry.get(value) {
        None => {
            return Err(EventError::UnknownParticipant {
                field,
                value: value.clone(),
            });
        }
        Some(p) if p.revoked.is_some() => {
            return Err(EventError::RevokedCounterparty {
                field,
                id: p.id.clone(),
                height: p.revoked.as_ref().map_or(0, |r| r.height),
            });
        }
        Some(_) => {}
    }
    if *value == event.signer {
        return Err(EventError::SelfCounterparty { field });
    }
    Ok(())
}

/// Decodes a payload and validates its fields; the signature is the caller's business.
pub fn decode_payload(payload: &[u8], signer_role: Role) -> Result<Event, EventError> {
    let decoded = pb::EventPayload::decode(payload).map_err(|e| EventError::Decode(e.to_string().to_lowercase()))?;
    if !NONCE_LEN.contains(&decoded.nonce.len()) {
        return Err(EventError::Nonce(decoded.nonce.len()));
    }
    let body = decoded.body.ok_or(EventError::MissingBody)?;
    Ok(Event {
        id: event_id(payload),
        signer: decoded.signer,
        signer_role,
        timestamp_ms: decoded.timestamp_ms,
        body: convert_body(body)?,
    })
}

fn convert_body(body: event_payload::Body) -> Result<Body, EventError> {
    if let Some(governance) = crate::governance::convert(&body) {
        return governance;
    }
    Ok(match body {
        event_payload::Body::Commission(c) => Body::Commission {
            gtin: field("gtin", Gtin::parse(&c.gtin))?,
            lot: field("lot", Lot::parse(&c.lot))?,
            expiry: field("expiry", Expiry::parse(&c.expiry))?,
            serials: serials(&c.serials)?,
        },
        event_payload::Body::Ship(s) => Body::Ship {
            gtin: field("gtin", Gtin::parse(&s.gtin))?,
            serials: serials(&s.serials)?,
            receiver: participant_id("receiver", s.receiver)?,
        },
        event_payload::Body::Receive(r) => Body::Receive {
            gtin: field("gtin", Gtin::parse(&r.gtin))?,
            serials: serials(&r.serials)?,
            sender: participant_id("sender", r.sender)?,
        },
        event_payload::Body::Dispense(d) => Body::Dispense {
            gtin: field("gtin", Gtin::parse(&d.gtin))?,
            serials: serials(&d.serials)?,
        },
        other => convert_lifecycle(other)?,
    })
}

fn convert_lifecycle(body: event_payload::Body) -> Result<Body, EventError> {
    Ok(match body {
        event_payload::Body::Decommission(d) => Body::Decommission {
            gtin: field("gtin", Gtin::parse(&d.gtin))?,
            serials: serials(&d.serials)?,
            reason: match d.reason() {
                DecommissionReason::Unspecified => return Err(EventError::MissingReason),
                reason => reason,
            },
        },
        event_payload::Body::Undo(u) => Body::Undo {
            gtin: field("gtin", Gtin::parse(&u.gtin))?,
            serials: serials(&u.serials)?,
        },
        event_payload::Body::Recall(r) => Body::Recall {
            gtin: field("gtin", Gtin::parse(&r.gtin))?,
            lot: field("lot", Lot::parse(&r.lot))?,
        },
        event_payload::Body::Withdraw(w) => Body::Withdraw {
            gtin: field("gtin", Gtin::parse(&w.gtin))?,
        },
        event_payload::Body::Return(r) => Body::Return {
            gtin: field("gtin", Gtin::parse(&r.gtin))?,
            serials: serials(&r.serials)?,
            receiver: participant_id("receiver", r.receiver)?,
        },
        _ => unreachable!("custody and governance bodies are converted by convert_body"),
    })
}

fn field<T>(name: &str, parsed: Result<T, Gs1Error>) -> Result<T, EventError> {
    parsed.map_err(|source| EventError::Field {
        field: name.to_string(),
        source,
    })
}

fn participant_id(field: &'static str, value: String) -> Result<String, EventError> {
    if valid_participant_id(&value) {
        Ok(value)
    } else {
        Err(EventError::BadParticipantId { field, value })
    }
}

fn serials(raw: &[String]) -> Result<Vec<Serial>, EventError> {
    if raw.is_empty() {
        return Err(EventError::NoSerials);
    }
    if raw.len() > MAX_SERIALS {
        return Err(EventError::TooManySerials {
            got: raw.len(),
            max: MAX_SERIALS,
        });
    }
    let mut seen = HashSet::with_capacity(raw.len());
    raw.iter()
        .enumerate()
        .map(|(i, s)| {
            let serial = field(&format!("serials[{i}]"), Serial::parse(s))?;
            if !seen.insert(s.as_str()) {
                return Err(EventError::DuplicateSerial(s.clone()));
            }
            Ok(serial)
        })
        .collect()
}

/// Builds a payload for `body` with the current time and a fresh random nonce.
pub fn new_payload(signer: &str, body: event_payload::Body) -> pb::EventPayload {
    let mut nonce = vec![0u8; 16];
    getrandom::fill(&mut nonce).expect("the operating system's random source failed");
    let timestamp_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default();
    pb::EventPayload {
        signer: signer.to_string(),
        timestamp_ms,
        nonce,
        body: Some(body),
    }
}

/// Encodes and signs a payload.
pub fn sign_payload(key: &KeyPair, payload: &pb::EventPayload) -> pb::SignedEnvelope {
    let bytes = payload.encode_to_vec();
    pb::SignedEnvelope {
        signature: key.sign(EVENT_TAG, &bytes),
        signer: payload.signer.clone(),
        payload: bytes,
    }
}
