//! Pre-signing: every event of a run is built and signed before the timed phase (signing is the client's cost,
//! not the system's), in parallel on every core.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pedigree_core::Hash;
use pedigree_core::event::{EventKind, event_id, new_payload, sign_payload};
use pedigree_core::participant::Role;
use pedigree_core::pb::{SignedEnvelope, event_payload::Body};
use rayon::prelude::*;

use crate::parties::Party;

/// An event to sign: who signs what.
pub struct Spec {
    pub signer: Arc<Party>,
    pub body: Body,
}

/// A signed event, ready to send.
#[derive(Clone, Debug)]
pub struct Signed {
    pub envelope: SignedEnvelope,
    /// SHA-256 of the payload: what custody acknowledges and the block holds.
    pub id: Hash,
    pub kind: EventKind,
    pub role: Role,
    /// Packs the event moves.
    pub packs: u32,
}

fn kind_and_packs(body: &Body) -> (EventKind, usize) {
    match body {
        Body::Commission(c) => (EventKind::Commission, c.serials.len()),
        Body::Ship(s) => (EventKind::Ship, s.serials.len()),
        Body::Receive(r) => (EventKind::Receive, r.serials.len()),
        Body::Dispense(d) => (EventKind::Dispense, d.serials.len()),
    }
}

/// Signs one spec.
pub fn sign(spec: Spec) -> Signed {
    let (kind, packs) = kind_and_packs(&spec.body);
    let envelope = sign_payload(&spec.signer.key, &new_payload(&spec.signer.id, spec.body));
    Signed {
        id: event_id(&envelope.payload),
        envelope,
        kind,
        role: spec.signer.role,
        packs: u32::try_from(packs).unwrap_or(u32::MAX),
    }
}

/// A sequence of events that must be submitted in order, each after the previous one was acknowledged.
pub type Chain = Vec<Signed>;

/// Signs chains of specs in parallel; returns them and the time it took.
pub fn sign_chains(specs: Vec<Vec<Spec>>) -> (Vec<Chain>, Duration) {
    let started = Instant::now();
    let chains = specs
        .into_par_iter()
        .map(|chain| chain.into_iter().map(sign).collect())
        .collect();
    (chains, started.elapsed())
}
