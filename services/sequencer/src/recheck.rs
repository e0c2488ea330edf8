//! Signature re-checks: every message of a batch decoded and checked again (signature over the bytes received,
//! signer known to the registry, role allowed to sign the kind, well-formed fields), in parallel on the rayon pool.
//! Custody checked the same before acknowledging, but the sequencer trusts nothing it did not check itself.

use std::sync::Arc;

use pedigree_core::Hash;
use pedigree_core::envelope::check_envelope;
use pedigree_core::event::{Event, EventError, event_id};
use pedigree_core::participant::Registry;
use pedigree_core::pb::{RejectCode, Rejection, SignedEnvelope};
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

pub(crate) fn rejection(id: Hash, code: RejectCode, reason: String) -> Rejection {
    Rejection {
        event_id: id.to_vec(),
        code: code as i32,
        reason,
    }
}

/// Decodes and checks one message (signature, signer, role, syntax); pure and CPU-bound.
pub fn check(raw: &[u8], registry: &Registry) -> Checked {
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
    rejection(event_id(&envelope.payload), error.reject_code(), error.to_string())
}

/// Checks every message on the rayon pool (signature checks dominate the sequencer's CPU time).
pub async fn check_all(batch: Vec<EventRecord>, registry: Arc<Registry>) -> anyhow::Result<Vec<Checked>> {
    Ok(tokio::task::spawn_blocking(move || batch.par_iter().map(|r| check(&r.payload, &registry)).collect()).await?)
}

/// Checks an event again against a registry that changed since its first check.
pub(crate) fn recheck(item: Checked, registry: &Registry) -> Checked {
    match item {
        Checked::Valid(v) => check_decoded(v.0, registry),
        Checked::Invalid(_, Some(envelope)) => check_decoded(*envelope, registry),
        invalid => invalid,
    }
}
