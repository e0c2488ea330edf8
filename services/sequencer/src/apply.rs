//! Applying the custody rules to a batch whose packs are loaded ([`crate::load`]): each event in topic order is
//! committed (its pack and product changes recorded in the working set, governance events folded into the registry)
//! or refused with a code and reason; the result is a block's content and its effects.

use std::sync::Arc;

use pedigree_core::Hash;
use pedigree_core::context::BlockContext;
use pedigree_core::governance::apply_governance;
use pedigree_core::participant::{ParticipantRecord, Registry};
use pedigree_core::party_index::PartyEvents;
use pedigree_core::pb::{EventOutcome, Rejection, SignedEnvelope, event_outcome};
use pedigree_core::sequencer_keys::SequencerKeyRecord;
use pedigree_core::state::{WorkingSet, apply};
use pedigree_store::Store;

use crate::load::{Prepared, load, prepare};
use crate::recheck::{Checked, recheck, rejection};

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
    /// The sequencer key schedule, when the batch rotated the key.
    pub sequencer_keys: Option<Vec<SequencerKeyRecord>>,
    /// Where each accepted event goes in the lists of the participants it concerns.
    pub party_events: PartyEvents,
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
            sequencer_keys: None,
            party_events: PartyEvents::default(),
        }
    }

    fn finish(&mut self) {
        if self.registry.has_changes() {
            // Only here is the shared registry copied (and only when a governance event applied).
            let registry = Arc::make_mut(&mut self.registry);
            self.participants = registry.take_changes();
            self.sequencer_keys = registry.take_sequencer_change();
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

/// Applies one checked event and records its outcome; returns whether it changed the registry.
fn record(applied: &mut Applied, item: Checked, at: BlockContext) -> bool {
    let height = at.height;
    let at = at.at_index(applied.events.len());
    // Who may read the outcome: the signer the envelope names (looked up before the event changes the registry).
    let (rejected, signer) = match item {
        Checked::Valid(valid) => {
            let (envelope, event) = *valid;
            let signer = applied.registry.signer_index(&event.signer);
            let governance = event.body.is_governance();
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
                        signer_index: signer,
                    };
                    applied.outcomes.push((event.id, outcome));
                    let index = u32::try_from(applied.events.len()).unwrap_or(u32::MAX);
                    applied.party_events.record(&event, (height, index));
                    applied.events.push(envelope);
                    return governance;
                }
                Err(refusal) => (rejection(event.id, refusal.code, refusal.reason), signer),
            }
        }
        Checked::Invalid(rejection, envelope) => {
            let signer = envelope.map_or(0, |e| applied.registry.signer_index(&e.signer));
            (rejection, signer)
        }
    };
    let id: Hash = rejected.event_id.as_slice().try_into().unwrap_or_default();
    let outcome = EventOutcome {
        outcome: Some(event_outcome::Outcome::Rejected(rejected.clone())),
        height,
        signer_index: signer,
    };
    applied.outcomes.push((id, outcome));
    applied.rejected.push(rejected);
    false
}
