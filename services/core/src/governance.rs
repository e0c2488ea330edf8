//! Registry changes on the ledger: RegisterParticipant, RotateKey and RevokeParticipant.
//!
//! Only the governance key named in the genesis signs them (envelope signer [`GOVERNANCE_ID`]). They are sealed in
//! blocks like custody events and applied in block order, so the registry at any point of the chain is a fold of
//! the chain, and an event is judged against the registry as it stands at its own position: an event signed with a
//! key that a RotateKey before it retired, or by a participant a RevokeParticipant before it revoked, is refused,
//! from the block that sealed the change on. Ids are never reused and a revocation is final: a participant that
//! needs to come back is registered under a new id, so no sealed event's signer can change meaning.

use pedigree_gs1::gtin_check_digit;

use crate::event::{Body, Event, EventError};
use crate::keys::PublicKey;
use crate::participant::{Participant, Registry, RetiredKey, Revocation, Role, valid_participant_id};
use crate::pb::{self, ParticipantRole, RejectCode, event_payload};
use crate::state::{BlockContext, Refusal};

/// The envelope signer of governance events. Not a valid participant id, so no participant can take it.
pub const GOVERNANCE_ID: &str = "governance";
/// Longest participant name and revocation reason, in characters.
pub const MAX_TEXT_CHARS: usize = 200;

/// Converts a governance body; `None` when `body` is not one.
pub(crate) fn convert(body: &event_payload::Body) -> Option<Result<Body, EventError>> {
    Some(match body {
        event_payload::Body::RegisterParticipant(r) => register(r),
        event_payload::Body::RotateKey(r) => id("id", &r.id).and_then(|id| {
            Ok(Body::RotateKey {
                id,
                key: key(&r.public_key)?,
            })
        }),
        event_payload::Body::RevokeParticipant(r) => id("id", &r.id).and_then(|id| {
            Ok(Body::Revoke {
                id,
                reason: text("reason", &r.reason)?,
            })
        }),
        _ => return None,
    })
}

fn register(r: &pb::RegisterParticipant) -> Result<Body, EventError> {
    let role = match r.role() {
        ParticipantRole::Manufacturer => Role::Manufacturer,
        ParticipantRole::Distributor => Role::Distributor,
        ParticipantRole::Pharmacy => Role::Pharmacy,
        ParticipantRole::Unspecified => return Err(invalid("role", "must be manufacturer, distributor or pharmacy")),
    };
    Ok(Body::Register {
        id: id("id", &r.id)?,
        role,
        name: text("name", &r.name)?,
        gln: gln(&r.gln)?,
        key: key(&r.public_key)?,
    })
}

fn invalid(field: &'static str, detail: impl Into<String>) -> EventError {
    EventError::Invalid {
        field,
        detail: detail.into(),
    }
}

fn id(field: &'static str, value: &str) -> Result<String, EventError> {
    if valid_participant_id(value) {
        Ok(value.to_string())
    } else {
        Err(EventError::BadParticipantId {
            field,
            value: value.to_string(),
        })
    }
}

fn text(field: &'static str, value: &str) -> Result<String, EventError> {
    let chars = value.chars().count();
    if chars == 0 || chars > MAX_TEXT_CHARS || value.chars().any(char::is_control) {
        return Err(invalid(
            field,
            format!("must be 1 to {MAX_TEXT_CHARS} printable characters, got {chars}"),
        ));
    }
    Ok(value.to_string())
}

/// A GS1 Global Location Number: 13 digits, the last the mod-10 check digit (empty: none given).
fn gln(value: &str) -> Result<Option<String>, EventError> {
    if value.is_empty() {
        return Ok(None);
    }
    if value.len() != 13 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("gln", format!("must be 13 digits, got '{value}'")));
    }
    // The GTIN algorithm over a leading zero and the first 12 digits is the GLN's.
    let expected = gtin_check_digit(&format!("0{}", &value[..12]));
    let found = value.as_bytes()[12] - b'0';
    if expected != Some(found) {
        return Err(invalid(
            "gln",
            format!("check digit is {found}, expected {}", expected.unwrap_or(0)),
        ));
    }
    Ok(Some(value.to_string()))
}

fn key(bytes: &[u8]) -> Result<PublicKey, EventError> {
    PublicKey::from_sec1(bytes).map_err(|e| invalid("public_key", e.to_string()))
}

fn refusal(code: RejectCode, id: &str, detail: impl std::fmt::Display) -> Refusal {
    Refusal {
        code,
        reason: format!("participant '{id}': {detail}"),
    }
}

/// Applies a governance event to the registry at `at`, or refuses it and changes nothing. Other events are not
/// this function's business and change nothing.
pub fn apply_governance(event: &Event, at: BlockContext, registry: &mut Registry) -> Result<(), Refusal> {
    match &event.body {
        Body::Register {
            id,
            role,
            name,
            gln,
            key,
        } => {
            if registry.participants.contains_key(id) {
                return Err(refusal(
                    RejectCode::ParticipantExists,
                    id,
                    "already registered (ids are never reused)",
                ));
            }
            let participant = Participant {
                index: registry.next_index(),
                id: id.clone(),
                role: *role,
                name: name.clone(),
                gln: gln.clone(),
                key: *key,
                key_since: at.height,
                retired_keys: Vec::new(),
                revoked: None,
            };
            registry.place(participant);
        }
        Body::RotateKey { id, key } => {
            let p = active(registry, id)?;
            if p.keys().any(|k| k == key) {
                return Err(refusal(
                    RejectCode::KeyReused,
                    id,
                    "the new key is its current key or one it used before",
                ));
            }
            let retired = RetiredKey {
                key: p.key,
                since: p.key_since,
                until: at.height,
            };
            let p = registry.participants.get_mut(id).expect("checked by active()");
            p.retired_keys.push(retired);
            p.key = *key;
            p.key_since = at.height;
        }
        Body::Revoke { id, reason } => {
            active(registry, id)?;
            let p = registry.participants.get_mut(id).expect("checked by active()");
            p.revoked = Some(Revocation {
                height: at.height,
                reason: reason.clone(),
            });
        }
        _ => return Ok(()),
    }
    let id = governed_id(&event.body).unwrap_or_default().to_string();
    if !registry.changed.contains(&id) {
        registry.changed.push(id);
    }
    Ok(())
}

fn active<'a>(registry: &'a Registry, id: &str) -> Result<&'a Participant, Refusal> {
    let p = registry
        .get(id)
        .ok_or_else(|| refusal(RejectCode::UnknownParticipant, id, "not registered"))?;
    if let Some(r) = &p.revoked {
        return Err(refusal(
            RejectCode::ParticipantRevoked,
            id,
            format!("revoked at height {}", r.height),
        ));
    }
    Ok(p)
}

/// The participant a governance body changes.
pub fn governed_id(body: &Body) -> Option<&str> {
    match body {
        Body::Register { id, .. } | Body::RotateKey { id, .. } | Body::Revoke { id, .. } => Some(id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gln_check_digit() {
        // 0614141000005 is a GLN from the GS1 General Specifications' examples.
        assert_eq!(gln("0614141000005").unwrap().as_deref(), Some("0614141000005"));
        assert!(gln("0614141000006").is_err());
        assert!(gln("061414100000").is_err());
        assert!(gln("061414100000x").is_err());
        assert_eq!(gln("").unwrap(), None);
    }

    #[test]
    fn texts_are_bounded() {
        assert!(text("name", "City Pharmacy").is_ok());
        assert!(text("name", "").is_err());
        assert!(text("name", &"x".repeat(201)).is_err());
        assert!(text("name", "a\nb").is_err());
    }

    #[test]
    fn governance_is_not_a_participant_id() {
        assert!(id("id", GOVERNANCE_ID).is_err());
        assert!(id("id", "new-pharmacy").is_ok());
    }
}
