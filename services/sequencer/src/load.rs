//! Loading what a batch needs before the rules apply: events that already have an outcome are dropped (an envelope
//! sent twice, or a batch read again after a crash), then the packs, products and containers the rest touch are
//! read, in two round trips (more for an unpack of everything in a container). Under a backlog Redis may be one block behind the canonical tip (its write still held by
//! [`crate::write_behind::WriteBehind`]): that block's decided events, packs and products are laid over what Redis
//! returns.

use std::collections::HashSet;

use foldhash::fast::RandomState;
use pedigree_core::Hash;
use pedigree_core::event::Event;
use pedigree_core::pack_key::PackKey;
use pedigree_core::participant::Registry;
use pedigree_core::state::WorkingSet;
use pedigree_store::Store;

use crate::apply::Applied;
use crate::recheck::Checked;

/// Events to apply, with the packs and products they touch loaded.
pub struct Prepared {
    pub(crate) fresh: Vec<Checked>,
    pub(crate) packs: WorkingSet,
}

impl Prepared {
    /// Whether the batch holds a governance event: applying it may change the registry mid-batch, and then events
    /// after it are checked again and their packs loaded from Redis while applying.
    pub fn has_governance(&self) -> bool {
        self.fresh.iter().any(|c| match c {
            Checked::Valid(v) => v.1.body.is_governance(),
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

/// Loads the packs, products and containers `events` touch that the working set does not hold yet (one round trip
/// of MGETs, and one more per level of an unpack of everything in a container); those `before` changed come from it
/// instead.
pub(crate) async fn load<'a>(
    events: impl Iterator<Item = &'a Event>,
    store: &Store,
    registry: &Registry,
    before: Option<&Applied>,
    packs: &mut WorkingSet,
) -> anyhow::Result<()> {
    let mut events: Vec<&Event> = events.collect();
    loop {
        // Keys of a bulk block: tens of thousands of participant-chosen serials (a seeded fast hash, see WorkingSet).
        let mut keys = HashSet::with_hasher(RandomState::default());
        let (mut gtins, mut containers) = (HashSet::new(), HashSet::new());
        for event in &events {
            let needs = packs.needs(event);
            keys.extend(needs.packs);
            gtins.extend(needs.products);
            containers.extend(needs.containers);
        }
        if keys.is_empty() && gtins.is_empty() && containers.is_empty() {
            return Ok(());
        }
        let (mut keys, mut gtins, mut containers): (Vec<PackKey>, Vec<String>, Vec<String>) = (
            keys.into_iter().collect(),
            gtins.into_iter().collect(),
            containers.into_iter().collect(),
        );
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
            containers.retain(|element| match before.packs.changed_container(element) {
                Some(record) => {
                    packs.load_container(element.clone(), Some(record.clone()));
                    false
                }
                None => true,
            });
        }
        let (pack_records, product_records, container_records) = tokio::try_join!(
            store.packs(&keys, registry),
            store.products(&gtins),
            store.containers(&containers, registry)
        )?;
        for (key, record) in keys.into_iter().zip(pack_records) {
            packs.load(key, record);
        }
        for (gtin, record) in gtins.into_iter().zip(product_records) {
            packs.load_product(gtin, record);
        }
        for (element, record) in containers.into_iter().zip(container_records) {
            packs.load_container(element, record);
        }
        // Only an unpack of everything needs another round (what its container holds is known now).
        events.retain(|e| e.body.unpacks_everything());
    }
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
