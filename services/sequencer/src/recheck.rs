//! Signature re-checks: every message of a batch decoded and checked again (signature over the bytes received,
//! signer known to the registry, role allowed to sign the kind, well-formed fields), in parallel on the rayon pool.
//! Custody checked the same before acknowledging, but the sequencer trusts nothing it did not check itself.

use std::sync::Arc;

use pedigree_core::Hash;
use pedigree_core::block_size::REASON_MAX_BYTES;
use pedigree_core::envelope::check_envelope;
use pedigree_core::event::{Event, EventError, event_id};
use pedigree_core::participant::Registry;
use pedigree_core::pb::{EventPayload, RejectCode, Rejection, SignedEnvelope};
use prost::Message;
use rayon::prelude::*;

use crate::batch::EventRecord;

/// A message after the stateless checks (against the registry at the start of the batch).
pub enum Checked {
    Valid(Box<(SignedEnvelope, Event)>),
    /// Refused; the envelope is kept when the refusal depends on the registry, so that a registry change earlier in
    /// the same batch can be taken into account.
    Invalid(Rejection, Option<Box<SignedEnvelope>>),
}

impl Checked {
    pub(crate) fn id(&self) -> &[u8] {
        match self {
            Checked::Valid(v) => &v.1.id,
            Checked::Invalid(r, _) => &r.event_id,
        }
    }

    /// Whether the outcome could differ under another registry.
    pub(crate) fn depends_on_registry(&self) -> bool {
        match self {
            Checked::Valid(_) => true,
            Checked::Invalid(_, envelope) => envelope.is_some(),
        }
    }
}

pub(crate) fn rejection(id: Hash, code: RejectCode, mut reason: String) -> Rejection {
    if reason.len() > REASON_MAX_BYTES {
        let mut end = REASON_MAX_BYTES - 3;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
        reason.push_str("...");
    }
    Rejection {
        event_id: id.to_vec(),
        code: code as i32,
        reason,
    }
}

/// The id a rejection is recorded under when nothing shows the envelope came from its signer (unknown or revoked
/// signer, a signature that does not verify, an envelope too large for a block): SHA-256 of the envelope's bytes,
/// not the event id. Anyone who can write the events topic can wrap a genuine payload in such an envelope; recorded
/// under the event id, the refusal would mark the genuine envelope as decided before it arrives.
fn unauthenticated_id(envelope_bytes: &[u8]) -> Hash {
    pedigree_core::keys::sha256(envelope_bytes)
}

/// Whether nothing shows that `envelope`, refused for `error`, is its signer's: a signature that does not verify; or
/// an unknown or revoked envelope signer other than the one the payload names (a wrapper of someone else's
/// payload). An unknown or revoked signer that the payload names itself refuses the same whoever sent it.
fn unauthenticated(envelope: &SignedEnvelope, error: &EventError) -> bool {
    match error {
        EventError::Signature(_) => true,
        EventError::UnknownSigner(_) | EventError::Revoked { .. } => {
            EventPayload::decode(envelope.payload.as_slice()).map_or(true, |p| p.signer != envelope.signer)
        }
        _ => false,
    }
}

/// Decodes and checks one message (signature, signer, role, syntax); pure and CPU-bound. A message longer than
/// `max_len` is refused as too large for a block, undecoded.
pub fn check(raw: &[u8], registry: &Registry, max_len: usize) -> Checked {
    if raw.len() > max_len {
        let reason = format!(
            "envelope of {} bytes cannot fit in a block (at most {max_len} bytes per envelope)",
            raw.len()
        );
        return Checked::Invalid(rejection(unauthenticated_id(raw), RejectCode::Malformed, reason), None);
    }
    let envelope = match SignedEnvelope::decode(raw) {
        Ok(envelope) => envelope,
        // Not an envelope at all: there is no payload, so the message bytes stand in for it in the id.
        Err(e) => {
            return Checked::Invalid(
                rejection(event_id(raw), RejectCode::Malformed, format!("not an envelope: {e}")),
                None,
            );
        }
    };
    check_decoded(envelope, registry)
}

fn check_decoded(envelope: SignedEnvelope, registry: &Registry) -> Checked {
    match check_envelope(&envelope, registry) {
        Ok(event) => Checked::Valid(Box::new((envelope, event))),
        Err(e) => {
            let rejected = reject_event(&envelope, &e);
            let registry_bound = e.depends_on_registry();
            Checked::Invalid(rejected, registry_bound.then(|| Box::new(envelope)))
        }
    }
}

fn reject_event(envelope: &SignedEnvelope, error: &EventError) -> Rejection {
    let id = if unauthenticated(envelope, error) {
        unauthenticated_id(&envelope.encode_to_vec())
    } else {
        event_id(&envelope.payload)
    };
    rejection(id, error.reject_code(), error.to_string())
}

/// Checks every message on the rayon pool (signature checks dominate the sequencer's CPU time); messages longer
/// than `max_len` are refused as too large for a block.
pub async fn check_all(
    batch: Vec<EventRecord>,
    registry: Arc<Registry>,
    max_len: usize,
) -> anyhow::Result<Vec<Checked>> {
    Ok(tokio::task::spawn_blocking(move || {
        batch
            .par_iter()
            .map(|r| check(&r.payload, &registry, max_len))
            .collect()
    })
    .await?)
}

/// Checks an event again against a registry that changed since its first check.
pub(crate) fn recheck(item: Checked, registry: &Registry) -> Checked {
    match item {
        Checked::Valid(v) => check_decoded(v.0, registry),
        Checked::Invalid(_, Some(envelope)) => check_decoded(*envelope, registry),
        invalid => invalid,
    }
}
