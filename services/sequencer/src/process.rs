//! From a batch of raw messages to a block's content and its effects on pack state.

use std::collections::HashSet;
use std::sync::Arc;

use pedigree_core::Hash;
use pedigree_core::event::{Event, EventError, check_envelope, event_id};
use pedigree_core::participant::Registry;
use pedigree_core::pb::{EventOutcome, RejectCode, Rejection, SignedEnvelope, event_outcome};
use pedigree_core::state::{BlockContext, WorkingSet, apply, pack_key};
use pedigree_store::Store;
use prost::Message;
use rayon::prelude::*;

use crate::batch::Raw;

/// A message after the stateless checks.
pub enum Checked {
    Valid(Box<(SignedEnvelope, Event)>),
    Invalid(Rejection),
}

impl Checked {
    fn id(&self) -> &[u8] {
        match self {
            Checked::Valid(v) => &v.1.id,
            Checked::Invalid(r) => &r.event_id,
        }
    }
}

fn rejection(id: Hash, code: RejectCode, reason: String) -> Rejection {
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
            return Checked::Invalid(rejection(
                event_id(raw),
                RejectCode::Malformed,
                format!("not an envelope: {e}"),
            ));
        }
    };
    match check_envelope(&envelope, registry) {
        Ok(event) => Checked::Valid(Box::new((envelope, event))),
        Err(e) => Checked::Invalid(reject_event(&envelope, &e)),
    }
}

fn reject_event(envelope: &SignedEnvelope, error: &EventError) -> Rejection {
    rejection(event_id(&envelope.payload), error.reject_code(), error.to_string())
}

/// Checks every message on the rayon pool (signature checks dominate the sequencer's CPU time).
pub async fn check_all(batch: Vec<Raw>, registry: Arc<Registry>) -> anyhow::Result<Vec<Checked>> {
    Ok(tokio::task::spawn_blocking(move || batch.par_iter().map(|r| check(&r.payload, &registry)).collect()).await?)
}

/// The outcome of applying a batch.
pub struct Applied {
    pub events: Vec<SignedEnvelope>,
    pub rejected: Vec<Rejection>,
    pub outcomes: Vec<(Hash, EventOutcome)>,
    /// Where the batch is applied: the block's height and time (also the time the block is sealed with).
    pub at: BlockContext,
    pub packs: WorkingSet,
}

/// Drops events that already have an outcome (an envelope sent twice, or a batch read again after a crash), loads
/// the packs and products the rest touch (two MGETs), and applies them in order at `at`.
pub async fn apply_batch(checked: Vec<Checked>, store: &Store, at: BlockContext) -> anyhow::Result<Applied> {
    let fresh = drop_decided(checked, store).await?;
    let mut packs = WorkingSet::default();
    let (mut keys, mut gtins) = (HashSet::new(), HashSet::new());
    for checked in &fresh {
        if let Checked::Valid(v) = checked {
            let gtin = v.1.body.gtin();
            gtins.insert(gtin.as_str().to_string());
            keys.extend(v.1.body.serials().iter().map(|s| pack_key(gtin, s)));
        }
    }
    let (keys, gtins): (Vec<String>, Vec<String>) = (keys.into_iter().collect(), gtins.into_iter().collect());
    let (pack_records, product_records) = tokio::try_join!(store.packs(&keys), store.products(&gtins))?;
    for (key, record) in keys.into_iter().zip(pack_records) {
        packs.load(key, record);
    }
    for (gtin, record) in gtins.into_iter().zip(product_records) {
        packs.load_product(gtin, record);
    }
    let mut applied = Applied {
        events: vec![],
        rejected: vec![],
        outcomes: vec![],
        at,
        packs,
    };
    for item in fresh {
        record(&mut applied, item, at);
    }
    Ok(applied)
}

fn record(applied: &mut Applied, item: Checked, at: BlockContext) {
    let height = at.height;
    let rejected = match item {
        Checked::Valid(valid) => {
            let (envelope, event) = *valid;
            match apply(&event, at, &mut applied.packs) {
                Ok(()) => {
                    let outcome = EventOutcome {
                        outcome: Some(event_outcome::Outcome::CommittedHeight(height)),
                        height,
                    };
                    applied.outcomes.push((event.id, outcome));
                    applied.events.push(envelope);
                    return;
                }
                Err(refusal) => rejection(event.id, refusal.code, refusal.reason),
            }
        }
        Checked::Invalid(rejection) => rejection,
    };
    let id: Hash = rejected.event_id.as_slice().try_into().unwrap_or_default();
    let outcome = EventOutcome {
        outcome: Some(event_outcome::Outcome::Rejected(rejected.clone())),
        height,
    };
    applied.outcomes.push((id, outcome));
    applied.rejected.push(rejected);
}

async fn drop_decided(checked: Vec<Checked>, store: &Store) -> anyhow::Result<Vec<Checked>> {
    let mut seen_here = HashSet::with_capacity(checked.len());
    let unique: Vec<Checked> = checked
        .into_iter()
        .filter(|c| seen_here.insert(c.id().to_vec()))
        .collect();
    let ids: Vec<Hash> = unique.iter().map(|c| c.id().try_into().unwrap_or_default()).collect();
    let decided = store.events_seen(&ids).await?;
    Ok(unique
        .into_iter()
        .zip(decided)
        .filter(|(_, d)| !d)
        .map(|(c, _)| c)
        .collect())
}
