//! Registry changes on the ledger: RegisterParticipant, RotateKey, RevokeParticipant, AttestPrefixes and
//! RotateSequencerKey, applied.
//!
//! Only the governance key named in the genesis signs them (envelope signer
//! [`GOVERNANCE_ID`](crate::participant::GOVERNANCE_ID); their bodies are checked by [`crate::decode`]). They are
//! sealed in blocks like custody events and applied in block order, so the registry at any point of the chain is a
//! fold of the chain, and an event is judged against the registry as it stands at its own position: an event signed
//! with a key that a RotateKey before it retired, or by a participant a RevokeParticipant before it revoked, is
//! refused, from the block that sealed the change on. Ids are never reused and a revocation is final: a participant
//! that needs to come back is registered under a new id, so no sealed event's signer can change meaning.

use crate::context::BlockContext;
use crate::event::{Body, Event};
use crate::keys::PublicKey;
use crate::participant::{AttestedPrefix, Participant, Registry, RetiredKey, Revocation, Role};
use crate::pb::RejectCode;
use crate::refusal::Refusal;

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
                return Err(Refusal::participant(
                    RejectCode::ParticipantExists,
                    id,
                    "already registered (ids are never reused)",
                ));
            }
            key_unused(registry, id, key)?;
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
                prefixes: Vec::new(),
            };
            registry.place(participant);
        }
        Body::RotateKey { id, key } => {
            let p = active(registry, id)?;
            if p.keys().any(|k| k == key) {
                return Err(Refusal::participant(
                    RejectCode::KeyReused,
                    id,
                    "the new key is its current key or one it used before",
                ));
            }
            key_unused(registry, id, key)?;
            let p = active(registry, id)?;
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
        Body::AttestPrefixes { id, prefixes } => {
            let p = active(registry, id)?;
            if !matches!(p.role, Role::Manufacturer | Role::Repackager) {
                return Err(Refusal::participant(
                    RejectCode::RoleNotAllowed,
                    id,
                    format!(
                        "a {} registers no products: prefixes are for manufacturers and repackagers",
                        p.role.as_str()
                    ),
                ));
            }
            for prefix in prefixes {
                if let Some(holder) = registry.prefix_holder(prefix) {
                    if holder.id == *id && holder.prefixes.iter().any(|a| a.prefix == *prefix) {
                        continue;
                    }
                    return Err(Refusal::participant(
                        RejectCode::PrefixTaken,
                        id,
                        format!("prefix {prefix} overlaps a prefix attested to '{}'", holder.id),
                    ));
                }
            }
            let p = registry.participants.get_mut(id).expect("checked by active()");
            for prefix in prefixes {
                if !p.prefixes.iter().any(|a| a.prefix == *prefix) {
                    p.prefixes.push(AttestedPrefix {
                        prefix: prefix.clone(),
                        since: at.height,
                    });
                }
            }
        }
        Body::RotateSequencerKey { key } => {
            if let Some(taken) = key_taken(registry, key) {
                return Err(Refusal::governance(
                    RejectCode::KeyReused,
                    format!("the new sequencer key {taken}"),
                ));
            }
            registry.sequencer_keys.rotate(*key, at.height);
            registry.sequencer_changed = true;
            registry.root_cache = std::sync::OnceLock::new();
            return Ok(());
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
    registry.root_cache = std::sync::OnceLock::new();
    let id = governed_id(&event.body).unwrap_or_default().to_string();
    if !registry.changed.contains(&id) {
        registry.changed.push(id);
    }
    Ok(())
}

/// A key belongs to one participant, ever: refused when another participant has or had it, or when it is or was a
/// sequencer key or is the governance key.
fn key_unused(registry: &Registry, id: &str, key: &PublicKey) -> Result<(), Refusal> {
    match key_taken(registry, key) {
        Some(taken) => Err(Refusal::participant(
            RejectCode::KeyReused,
            id,
            format!("the key {taken}"),
        )),
        None => Ok(()),
    }
}

/// How `key` is already taken, if it is: a trust anchor (the governance key, a sequencer key the chain has or had)
/// or a participant's current or retired key.
fn key_taken(registry: &Registry, key: &PublicKey) -> Option<String> {
    if registry.is_anchor_key(key) {
        return Some("is the governance key or a sequencer key this chain has or had".into());
    }
    registry
        .key_holder(key)
        .map(|holder| format!("is (or was) participant '{}''s", holder.id))
}

fn active<'a>(registry: &'a Registry, id: &str) -> Result<&'a Participant, Refusal> {
    let p = registry
        .get(id)
        .ok_or_else(|| Refusal::participant(RejectCode::UnknownParticipant, id, "not registered"))?;
    if let Some(r) = &p.revoked {
        return Err(Refusal::participant(
            RejectCode::ParticipantRevoked,
            id,
            format!("revoked at height {}", r.height),
        ));
    }
    Ok(p)
}

/// The registry after the governance events among `events` (a block's accepted events, in order), each checked
/// against the registry as it stands just before it and applied at its own position; `None` when the block holds no
/// governance event. Fails with the event's index and why when one does not check or apply. What every reader of
/// the chain (the sequencer's fold, tests) computes a block's `registry_root` from.
pub fn fold_governance(
    registry: &Registry,
    at: BlockContext,
    events: &[crate::pb::SignedEnvelope],
) -> Result<Option<Registry>, (usize, String)> {
    let mut folded: Option<Registry> = None;
    for (index, envelope) in events.iter().enumerate() {
        if envelope.signer != crate::participant::GOVERNANCE_ID {
            continue;
        }
        let current = folded.get_or_insert_with(|| registry.clone());
        let event = crate::envelope::check_envelope(envelope, current).map_err(|e| (index, e.to_string()))?;
        apply_governance(&event, at.at_index(index), current).map_err(|r| (index, r.reason))?;
    }
    Ok(folded)
}

/// The participant a governance body changes.
pub fn governed_id(body: &Body) -> Option<&str> {
    match body {
        Body::Register { id, .. }
        | Body::RotateKey { id, .. }
        | Body::Revoke { id, .. }
        | Body::AttestPrefixes { id, .. } => Some(id),
        _ => None,
    }
}
