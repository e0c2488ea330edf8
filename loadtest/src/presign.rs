//! Pre-signing: every event of a run is built and signed before the timed phase (signing is the client's cost,
//! not the system's), in parallel on every core.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use pedigree_core::Hash;
use pedigree_core::decode::decode_payload;
use pedigree_core::envelope::{new_payload, sign_payload};
use pedigree_core::kind::EventKind;
use pedigree_core::participant::Role;
use pedigree_core::pb::{SignedEnvelope, event_payload::Body};
use rayon::prelude::*;

use crate::parties::Party;

/// An event to sign: who signs what.
pub struct Spec {
    pub signer: Arc<Party>,
    pub body: Body,
    /// Packs inside the containers the event moves whole (a pallet shipped): counted as moved.
    pub inside: u32,
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

/// Signs one spec; the event is decoded back (as the servers will) for its kind and pack count.
pub fn sign(spec: Spec) -> anyhow::Result<Signed> {
    let envelope = sign_payload(
        &spec.signer.key,
        &new_payload(&spec.signer.chain_id, &spec.signer.id, spec.body),
    );
    let inside = spec.inside;
    let event = decode_payload(&envelope.payload, spec.signer.role)
        .with_context(|| format!("the load tester built an invalid event for {}", spec.signer.id))?;
    Ok(Signed {
        id: event.id,
        kind: event.body.kind(),
        role: spec.signer.role,
        packs: u32::try_from(event.body.lines().iter().map(|(_, s)| s.len()).sum::<usize>())
            .unwrap_or(u32::MAX)
            .saturating_add(inside),
        envelope,
    })
}

/// A sequence of events that must be submitted in order, each after the previous one was acknowledged.
pub type Chain = Vec<Signed>;

/// Signs chains of specs in parallel; returns them and the time it took.
pub fn sign_chains(specs: Vec<Vec<Spec>>) -> anyhow::Result<(Vec<Chain>, Duration)> {
    let started = Instant::now();
    let chains = specs
        .into_par_iter()
        .map(|chain| chain.into_iter().map(sign).collect())
        .collect::<anyhow::Result<_>>()?;
    Ok((chains, started.elapsed()))
}
