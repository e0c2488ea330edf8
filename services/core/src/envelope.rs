//! Signed envelopes in, validated events out; and the other way: signing a payload.
//!
//! [`check_envelope`] is the single gate every event passes, in custody (before it reaches Kafka) and again in the
//! sequencer (which trusts nothing it reads): size, signer, decoding and field syntax, chain, signature over the event
//! id computed from the bytes as received, role. What comes out is an [`Event`] whose identifiers are valid by construction.

use prost::Message;

use crate::Hash;
use crate::decode::decode_payload;
use crate::disclosure::new_seed;
use crate::event::{Body, Event, EventError, event_id};
use crate::keys::KeyPair;
use crate::participant::{GOVERNANCE_ID, Registry, Role};
use crate::pb::{self, event_payload};

/// Largest accepted payload: room for a commission of [`MAX_SERIALS`](crate::decode::MAX_SERIALS)
/// 20-character serials.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// Checks an envelope end to end against the registry, in the order of docs/ledger-format.md section 3.4: size,
/// signer known and not revoked, payload decoded and valid (which computes the event core and id), chain, signature
/// over the id, payload signer, role, counterparty.
pub fn check_envelope(envelope: &pb::SignedEnvelope, registry: &Registry) -> Result<Event, EventError> {
    let size = envelope.payload.len();
    if size > MAX_PAYLOAD_BYTES {
        return Err(EventError::PayloadTooLarge {
            size,
            max: MAX_PAYLOAD_BYTES,
        });
    }
    let role = signer_role(envelope, registry)?;
    let event = decode_payload(&envelope.payload, role)?;
    if event.chain_id != registry.chain_id {
        return Err(EventError::WrongChain {
            expected: hex::encode(registry.chain_id),
            got: hex::encode(event.chain_id),
        });
    }
    check_signature(envelope, &event.id, registry)?;
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
    check_sources(&event, role)?;
    check_counterparty(&event, registry)?;
    check_product(&event, registry)?;
    Ok(event)
}

/// A product is registered under a GS1 company prefix attested to its signer, and taken over only with the new
/// owner's consent: its signature, under its current key, over the transfer's digest.
fn check_product(event: &Event, registry: &Registry) -> Result<(), EventError> {
    match &event.body {
        Body::RegisterProduct { gtin, .. } => {
            let attested = registry.get(&event.signer).is_some_and(|p| p.owns_prefix_of(gtin));
            if !attested {
                return Err(EventError::PrefixNotAttested {
                    gtin: gtin.as_str().to_string(),
                    signer: event.signer.clone(),
                });
            }
            Ok(())
        }
        Body::TransferProduct {
            gtin,
            new_owner,
            sequence,
            consent,
        } => {
            check_party(event, registry, "new_owner", new_owner)?;
            let owner = registry.get(new_owner).ok_or_else(|| EventError::UnknownParticipant {
                field: "new_owner",
                value: new_owner.clone(),
            })?;
            if !matches!(owner.role, Role::Manufacturer | Role::Repackager) {
                return Err(EventError::Invalid {
                    field: "new_owner",
                    detail: format!(
                        "a {} owns no products: name a manufacturer or repackager",
                        owner.role.as_str()
                    ),
                });
            }
            let digest =
                crate::product::transfer_digest(&registry.chain_id, gtin.as_str(), &event.signer, new_owner, *sequence);
            owner.key.verify_digest(&digest, consent).map_err(|e| {
                EventError::TransferConsent(format!(
                    "not '{new_owner}''s signature over transfer {sequence} of gtin {} from '{}': {e}",
                    gtin.as_str(),
                    event.signer
                ))
            })
        }
        _ => Ok(()),
    }
}

/// A repackager's commission names the packs it makes the new ones from; nobody else's does.
fn check_sources(event: &Event, role: Role) -> Result<(), EventError> {
    let Body::Commission { sources, .. } = &event.body else {
        return Ok(());
    };
    let detail = match (role == Role::Repackager, sources.is_empty()) {
        (true, true) => "a repackager's commission names the packs it makes the new ones from",
        (false, false) => "only a repackager's commission names source packs",
        _ => return Ok(()),
    };
    Err(EventError::Invalid {
        field: "sources",
        detail: detail.to_string(),
    })
}

/// The envelope signer's role: the governance role for [`GOVERNANCE_ID`] (when the genesis has a governance key),
/// else the registered participant's, unless it was revoked.
fn signer_role(envelope: &pb::SignedEnvelope, registry: &Registry) -> Result<Role, EventError> {
    let unknown = || EventError::UnknownSigner(envelope.signer.clone());
    if envelope.signer == GOVERNANCE_ID {
        return registry.governance_key.map(|_| Role::Governance).ok_or_else(unknown);
    }
    let participant = registry.get(&envelope.signer).ok_or_else(unknown)?;
    if let Some(revoked) = &participant.revoked {
        return Err(EventError::Revoked {
            id: participant.id.clone(),
            height: revoked.height,
        });
    }
    Ok(participant.role)
}

/// Checks the signature over the event id under the signer's current key (the genesis governance key for
/// [`GOVERNANCE_ID`]). A signature by a key the signer retired gets its own error.
fn check_signature(envelope: &pb::SignedEnvelope, id: &Hash, registry: &Registry) -> Result<(), EventError> {
    let unknown = || EventError::UnknownSigner(envelope.signer.clone());
    if envelope.signer == GOVERNANCE_ID {
        let key = registry.governance_key.as_ref().ok_or_else(unknown)?;
        return key
            .verify_digest(id, &envelope.signature)
            .map_err(EventError::Signature);
    }
    let participant = registry.get(&envelope.signer).ok_or_else(unknown)?;
    participant.key.verify_digest(id, &envelope.signature).map_err(|e| {
        // Only on failure: say so when an old key signed, rather than a bare "bad signature".
        let retired = participant
            .retired_keys
            .iter()
            .rev()
            .find(|r| r.key.verify_digest(id, &envelope.signature).is_ok());
        match retired {
            Some(r) => EventError::RetiredKey {
                signer: participant.id.clone(),
                until: r.until,
            },
            None => EventError::Signature(e),
        }
    })
}

fn check_counterparty(event: &Event, registry: &Registry) -> Result<(), EventError> {
    if let Body::Ship { owner: Some(owner), .. } = &event.body {
        check_party(event, registry, "owner", owner)?;
    }
    let (field, value) = match &event.body {
        Body::Ship { receiver, .. } => ("receiver", receiver),
        Body::Receive { sender, .. } => ("sender", sender),
        Body::Return { receiver, .. } => ("receiver", receiver),
        _ => return Ok(()),
    };
    check_party(event, registry, field, value)
}

/// A participant an event names besides its signer: registered, not revoked, not the signer.
fn check_party(event: &Event, registry: &Registry, field: &'static str, value: &str) -> Result<(), EventError> {
    match registry.get(value) {
        None => {
            return Err(EventError::UnknownParticipant {
                field,
                value: value.to_string(),
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

/// The digest an event's signature is over: its id, `SHA-256("pedigree.v2.event" || 0x00 || core)` with the core
/// computed from the payload bytes ([`crate::disclosure`]).
pub fn event_digest(payload: &[u8]) -> Hash {
    event_id(payload)
}

/// Builds a payload for `body` on chain `chain_id` with the current time, a fresh random nonce and a fresh secret
/// seed (the salts of its per-pack commitments derive from it).
pub fn new_payload(chain_id: &Hash, signer: &str, body: event_payload::Body) -> pb::EventPayload {
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
        chain_id: chain_id.to_vec(),
        seed: new_seed(),
        body: Some(body),
    }
}

/// Encodes and signs a payload.
pub fn sign_payload(key: &KeyPair, payload: &pb::EventPayload) -> pb::SignedEnvelope {
    let bytes = payload.encode_to_vec();
    pb::SignedEnvelope {
        signature: key.sign_digest(&event_digest(&bytes)),
        signer: payload.signer.clone(),
        payload: bytes,
    }
}
