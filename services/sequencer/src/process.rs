//! From a batch of raw messages to a block's content and its effects on pack state.

use std::collections::HashSet;
use std::sync::Arc;

use foldhash::fast::RandomState;

use pedigree_core::Hash;
use pedigree_core::context::BlockContext;
use pedigree_core::envelope::check_envelope;
use pedigree_core::event::{Event, EventError, event_id};
use pedigree_core::governance::apply_governance;
use pedigree_core::pack_key::PackKey;
use pedigree_core::participant::{ParticipantRecord, Registry};
use pedigree_core::pb::{EventOutcome, RejectCode, Rejection, SignedEnvelope, event_outcome};
use pedigree_core::state::{WorkingSet, apply};
use pedigree_store::Store;
use prost::Message;
use rayon::prelude::*;

use crate::batch::Raw;

/// A message after the stateless checks (against the registry at the start of the batch).
pub enum Checked {
    Valid(Box<(SignedEnvelope, Event)>),
    /// Refused; the envelope is kept when the refusal depends on the registry, so that a registry change earlier in
    /// the same batch can be taken into account.
    Invalid(Rejection, Option<Box<SignedEnvelope>>),
}

impl Checked {
    fn id(&self) -> &[u8] {
        match self {
            Checked::Valid(v) => &v.1.id,
            Checked::Invalid(r, _) => &r.event_id,
        }
    }

    /// Whether the outcome could differ under another registry.
    fn depends_on_registry(&self) -> bool {
        match self {
            Checked::Valid(_) => true,
            Checked::Invalid(_, envelope) => envelope.is_some(),
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
    /// The registry after the batch (the same `Arc` as before when no governance event applied).
    pub registry: Arc<Registry>,
    /// Records of the participants the batch changed; every participant's for block 1, so that Redis holds the
    /// whole registry and readers need only the genesis' trust anchors.
    pub participants: Vec<ParticipantRecord>,
}

/// Events to apply, with the packs and products they touch loaded.
pub struct Prepared {
    fresh: Vec<Checked>,
    packs: WorkingSet,
}

impl Prepared {
    /// Whether the batch holds a governance event: applying it may change the registry mid-batch, and then events
    /// after it are checked again and their packs loaded from Redis while applying.
    pub fn has_governance(&self) -> bool {
        self.fresh.iter().any(|c| match c {
            Checked::Valid(v) => v.1.body.gtin().is_none(),
            Checked::Invalid(..) => false,
        })
    }
}

/// Drops events that already have an outcome (an envelope sent twice, or a batch read again after a crash) and loads
/// the packs and products the rest touch (two MGETs). `before` is a block whose effects are not in Redis yet (Redis
/// is at its parent): its decided events, packs and products count as if they were.
pub async fn prepare(
    checked: Vec<Checked>,
    store: &Store,
    registry: &Registry,
    before: Option<&Applied>,
) -> anyhow::Result<Prepared> {
    let fresh = drop_decided(checked, store, before).await?;
    let mut packs = WorkingSet::default();
    let events = fresh.iter().filter_map(|c| match c {
        Checked::Valid(v) => Some(&v.1),
        Checked::Invalid(..) => None,
    });
    load(events, store, registry, before, &mut packs).await?;
    Ok(Prepared { fresh, packs })
}

/// Applies prepared events in order at `at`, starting from `registry` (the registry as of the parent block). Reads
/// Redis only when a governance event changed the registry mid-batch ([`Prepared::has_governance`]).
pub async fn apply_prepared(
    prepared: Prepared,
    store: &Store,
    at: BlockContext,
    registry: Arc<Registry>,
) -> anyhow::Result<Applied> {
    let mut applied = Applied::start(at, prepared.packs, registry);
    let mut registry_changed = false;
    for mut item in prepared.fresh {
        if registry_changed && item.depends_on_registry() {
            // A governance event earlier in this batch changed the registry: judge this event against it, as a
            // replay (and the audit), which go event by event, will.
            item = recheck(item, &applied.registry);
            if let Checked::Valid(v) = &item {
                load(
                    std::iter::once(&v.1),
                    store,
                    &applied.registry,
                    None,
                    &mut applied.packs,
                )
                .await?;
            }
        }
        registry_changed |= record(&mut applied, item, at);
    }
    applied.finish();
    Ok(applied)
}

/// [`apply_prepared`] for a batch without governance events (the registry cannot change, so nothing is read again):
/// pure CPU, for a blocking thread while Redis works on the previous block.
pub fn apply_ordinary(prepared: Prepared, at: BlockContext, registry: Arc<Registry>) -> Applied {
    debug_assert!(!prepared.has_governance());
    let mut applied = Applied::start(at, prepared.packs, registry);
    for item in prepared.fresh {
        record(&mut applied, item, at);
    }
    applied.finish();
    applied
}

impl Applied {
    fn start(at: BlockContext, packs: WorkingSet, registry: Arc<Registry>) -> Self {
        Self {
            events: vec![],
            rejected: vec![],
            outcomes: vec![],
            at,
            packs,
            registry,
            participants: vec![],
        }
    }

    fn finish(&mut self) {
        if self.registry.has_changes() {
            // Only here is the shared registry copied (and only when a governance event applied).
            self.participants = Arc::make_mut(&mut self.registry).take_changes();
        }
        if self.at.height == 1 {
            self.participants = self.registry.records();
        }
    }
}

/// [`prepare`] and [`apply_prepared`] on Redis as it is.
pub async fn apply_batch(
    checked: Vec<Checked>,
    store: &Store,
    at: BlockContext,
    registry: Arc<Registry>,
) -> anyhow::Result<Applied> {
    let prepared = prepare(checked, store, &registry, None).await?;
    apply_prepared(prepared, store, at, registry).await
}

fn recheck(item: Checked, registry: &Registry) -> Checked {
    match item {
        Checked::Valid(v) => check_decoded(v.0, registry),
        Checked::Invalid(_, Some(envelope)) => check_decoded(*envelope, registry),
        invalid => invalid,
    }
}

/// Loads the packs and products `events` touch that the working set does not hold yet (two MGETs); those `before`
/// changed come from it instead.
async fn load<'a>(
    events: impl Iterator<Item = &'a Event>,
    store: &Store,
    registry: &Registry,
    before: Option<&Applied>,
    packs: &mut WorkingSet,
) -> anyhow::Result<()> {
    // Keys of a bulk block: tens of thousands of participant-chosen serials (a seeded fast hash, see WorkingSet).
    let (mut keys, mut gtins) = (HashSet::with_hasher(RandomState::default()), HashSet::new());
    for event in events {
        let Some(gtin) = event.body.gtin() else { continue };
        if packs.product(gtin.as_str()).is_none() {
            gtins.insert(gtin.as_str().to_string());
        }
        keys.extend(
            event
                .body
                .serials()
                .iter()
                .map(|s| PackKey::new(gtin, s))
                .filter(|k| !packs.is_loaded(k)),
        );
    }
    let (mut keys, mut gtins): (Vec<PackKey>, Vec<String>) = (keys.into_iter().collect(), gtins.into_iter().collect());
    if let Some(before) = before {
        keys.retain(|key| match before.packs.changed(key) {
            Some(record) => {
                // As Redis would return it once the block is written: the event id is not stored.
                let mut record = record.clone();
                record.last_event_id.clear();
                packs.load(key.clone(), Some(record));
                false
            }
            None => true,
        });
        gtins.retain(|gtin| match before.packs.changed_product(gtin) {
            Some(record) => {
                packs.load_product(gtin.clone(), Some(record.clone()));
                false
            }
            None => true,
        });
    }
    let (pack_records, product_records) = tokio::try_join!(store.packs(&keys, registry), store.products(&gtins))?;
    for (key, record) in keys.into_iter().zip(pack_records) {
        packs.load(key, record);
    }
    for (gtin, record) in gtins.into_iter().zip(product_records) {
        packs.load_product(gtin, record);
    }
    Ok(())
}

/// Applies one checked event and records its outcome; returns whether it changed the registry.
fn record(applied: &mut Applied, item: Checked, at: BlockContext) -> bool {
    let height = at.height;
    let at = at.at_index(applied.events.len());
    let rejected = match item {
        Checked::Valid(valid) => {
            let (envelope, event) = *valid;
            let governance = event.body.gtin().is_none();
            let result = if governance {
                apply_governance(&event, at, Arc::make_mut(&mut applied.registry))
            } else {
                apply(&event, at, &mut applied.packs)
            };
            match result {
                Ok(()) => {
                    let outcome = EventOutcome {
                        outcome: Some(event_outcome::Outcome::CommittedHeight(height)),
                        height,
                    };
                    applied.outcomes.push((event.id, outcome));
                    applied.events.push(envelope);
                    return governance;
                }
                Err(refusal) => rejection(event.id, refusal.code, refusal.reason),
            }
        }
        Checked::Invalid(rejection, _) => rejection,
    };
    let id: Hash = rejected.event_id.as_slice().try_into().unwrap_or_default();
    let outcome = EventOutcome {
        outcome: Some(event_outcome::Outcome::Rejected(rejected.clone())),
        height,
    };
    applied.outcomes.push((id, outcome));
    applied.rejected.push(rejected);
    false
}

async fn drop_decided(checked: Vec<Checked>, store: &Store, before: Option<&Applied>) -> anyhow::Result<Vec<Checked>> {
    let mut seen_here = HashSet::with_capacity_and_hasher(checked.len(), RandomState::default());
    if let Some(before) = before {
        seen_here.extend(before.outcomes.iter().map(|(id, _)| id.to_vec()));
    }
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
