//! The custody state machine: which event may move which pack, and where it ends up.
//!
//! Rules (one event is applied whole or not at all; per-pack rules are in [`crate::transition`]):
//! - a product is registered by the owner of the GS1 company prefix it is under (checked by the envelope gate) and
//!   owned by it; only its owner changes its data or hands it to a new owner (with that owner's consent);
//! - commission creates packs of a registered product, by its owner (a repackager for its own products), held by the
//!   signer; a serial that exists is refused;
//! - ship is for the current holder of an active pack, to a named receiver; the pack is then in transit;
//! - receive is for the named receiver of a pack in transit, naming its sender;
//! - void shipment is for the sender of a pack still in transit to the receiver it names: the pack is active again,
//!   held by the sender;
//! - dispense is for a pharmacy holding an active, unexpired pack of a lot neither recalled nor withdrawn;
//! - decommission (with a reason) is for the holder of an active pack;
//! - undo reverts a dispense or decommission, by the party that made it, within 10 days, never for stolen,
//!   destroyed, recalled, withdrawn or expired packs;
//! - return sends a pharmacy's active pack back to the distributor it came from (a saleable return);
//! - recall (a lot) and withdraw (a product) are the product owner's, and irreversible;
//! - a dispensed or decommissioned pack moves no more (short of an undo);
//! - packs and containers go into containers and out again, and containers ship and receive whole, by the rules of
//!   [`crate::aggregation`]; a pack inside a container moves only with it.

use std::collections::HashMap;

use pedigree_gs1::{Gtin, Serial};

use crate::aggregation::{apply_aggregation, moved_containers, write_containers};
use crate::context::BlockContext;
use crate::event::{Body, Event};
use crate::governance::apply_governance;
use crate::history::{Item, Link, container_digest, encode_links, pack_digest};
use crate::pack_key::PackKey;
use crate::participant::Registry;
use crate::pb::{ContainerRecord, PackRecord, ProductRecord, RejectCode};
use crate::refusal::Refusal;
use crate::transition::{refuse_receipt, repackage_source, transition};

/// Packs and products touched by a batch of events: loaded before applying, written back after. A key mapped to
/// no record was looked up and does not exist.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkingSet {
    // foldhash: the maps are keyed by serials that participants choose, so the hasher is seeded per process (no
    // precomputed collisions), and it is several times cheaper than SipHash on the 30-byte pack keys of a bulk block.
    packs: HashMap<PackKey, Slot, foldhash::fast::RandomState>,
    products: HashMap<String, Option<ProductRecord>, foldhash::fast::RandomState>,
    /// Containers by element string ([`crate::container::ContainerKey::element`]).
    containers: HashMap<String, Option<ContainerRecord>, foldhash::fast::RandomState>,
    /// Keys changed since loading, in first-change order (so writes are deterministic).
    dirty: Vec<PackKey>,
    dirty_products: Vec<String>,
    dirty_containers: Vec<String>,
    /// Every change of a pack or container that existed before it: where its previous event was
    /// ([`crate::history`]), in the order applied.
    links: Vec<Link>,
}

/// One pack of the working set.
#[derive(Clone, Debug, PartialEq)]
struct Slot {
    record: Option<PackRecord>,
    /// Whether storage held the pack when it was loaded (unknown counts as held: never "created").
    existed: bool,
    dirty: bool,
}

impl WorkingSet {
    /// Records what storage holds for pack `key` (call once per key before applying events).
    pub fn load(&mut self, key: PackKey, record: Option<PackRecord>) {
        let existed = record.is_some();
        self.packs.insert(
            key,
            Slot {
                record,
                existed,
                dirty: false,
            },
        );
    }

    /// Records what storage holds for product `gtin`.
    pub fn load_product(&mut self, gtin: String, record: Option<ProductRecord>) {
        self.products.insert(gtin, record);
    }

    /// Records what storage holds for the container with element string `element`.
    pub fn load_container(&mut self, element: String, record: Option<ContainerRecord>) {
        self.containers.insert(element, record);
    }

    /// Whether container `element` was loaded (a loaded container may not exist).
    pub fn is_container_loaded(&self, element: &str) -> bool {
        self.containers.contains_key(element)
    }

    pub fn container(&self, element: &str) -> Option<&ContainerRecord> {
        self.containers.get(element).and_then(Option::as_ref)
    }

    pub(crate) fn put_container(&mut self, element: String, record: ContainerRecord) {
        let at = (record.last_height, record.last_index);
        let prev = self
            .containers
            .get(&element)
            .and_then(Option::as_ref)
            .map(|before| (before.last_height, before.last_index));
        if prev != Some(at) {
            self.links.push(Link {
                at,
                item: Item::Digest(container_digest(&element)),
                prev,
            });
        }
        if !self.dirty_containers.contains(&element) {
            self.dirty_containers.push(element.clone());
        }
        self.containers.insert(element, Some(record));
    }

    /// Changed containers, in first-change order.
    pub fn container_changes(&self) -> impl Iterator<Item = (&str, &ContainerRecord)> {
        self.dirty_containers
            .iter()
            .filter_map(|c| self.container(c).map(|r| (c.as_str(), r)))
    }

    /// The record of container `element` if this working set changed it.
    pub fn changed_container(&self, element: &str) -> Option<&ContainerRecord> {
        if self.dirty_containers.iter().any(|c| c == element) {
            self.container(element)
        } else {
            None
        }
    }

    /// Whether `key` was loaded (a loaded key may map to no pack).
    pub fn is_loaded(&self, key: &PackKey) -> bool {
        self.packs.contains_key(key)
    }

    pub fn get(&self, key: &PackKey) -> Option<&PackRecord> {
        self.packs.get(key).and_then(|s| s.record.as_ref())
    }

    pub fn product(&self, gtin: &str) -> Option<&ProductRecord> {
        self.products.get(gtin).and_then(Option::as_ref)
    }

    pub(crate) fn put(&mut self, key: PackKey, record: PackRecord) {
        match self.packs.get_mut(&key) {
            Some(slot) => {
                let at = (record.last_height, record.last_index);
                if let Some(before) = &slot.record {
                    let prev = (before.last_height, before.last_index);
                    if prev != at {
                        // Named by its place among the changed packs when it takes one now (hashed only if the
                        // links list it); a pack changed before in this block is hashed here.
                        let item = if slot.dirty {
                            Item::Digest(pack_digest(&key))
                        } else {
                            Item::ChangedPack(self.dirty.len())
                        };
                        self.links.push(Link {
                            at,
                            item,
                            prev: Some(prev),
                        });
                    }
                } else {
                    self.links.push(Link {
                        at,
                        item: Item::ChangedPack(self.dirty.len()),
                        prev: None,
                    });
                }
                if !slot.dirty && slot.record.as_ref() != Some(&record) {
                    slot.dirty = true;
                    self.dirty.push(key);
                }
                slot.record = Some(record);
            }
            None => {
                self.links.push(Link {
                    at: (record.last_height, record.last_index),
                    item: Item::ChangedPack(self.dirty.len()),
                    prev: None,
                });
                self.dirty.push(key.clone());
                let slot = Slot {
                    record: Some(record),
                    existed: true,
                    dirty: true,
                };
                self.packs.insert(key, slot);
            }
        }
    }

    pub(crate) fn put_product(&mut self, gtin: &str, record: ProductRecord) {
        if !self.dirty_products.iter().any(|g| g == gtin) {
            self.dirty_products.push(gtin.to_string());
        }
        self.products.insert(gtin.to_string(), Some(record));
    }

    /// Changed packs, in first-change order.
    pub fn changes(&self) -> impl Iterator<Item = (&PackKey, &PackRecord)> {
        self.dirty.iter().filter_map(|k| self.get(k).map(|r| (k, r)))
    }

    /// Changed products, in first-change order.
    pub fn product_changes(&self) -> impl Iterator<Item = (&str, &ProductRecord)> {
        self.dirty_products
            .iter()
            .filter_map(|g| self.product(g).map(|r| (g.as_str(), r)))
    }

    /// The record of pack `key` if this working set changed it.
    pub fn changed(&self, key: &PackKey) -> Option<&PackRecord> {
        self.packs.get(key).filter(|s| s.dirty).and_then(|s| s.record.as_ref())
    }

    /// The record of product `gtin` if this working set changed it.
    pub fn changed_product(&self, gtin: &str) -> Option<&ProductRecord> {
        if self.dirty_products.iter().any(|g| g == gtin) {
            self.product(gtin)
        } else {
            None
        }
    }

    /// Whether changed pack `key` is new (did not exist when loaded).
    pub fn is_created(&self, key: &PackKey) -> bool {
        self.packs.get(key).is_some_and(|s| s.dirty && !s.existed)
    }

    /// The back links of the changes applied, encoded as Redis keeps them ([`crate::history`]).
    pub fn encoded_links(&self) -> Vec<u8> {
        encode_links(&self.links, |i| pack_digest(&self.dirty[i]))
    }

    pub fn change_count(&self) -> usize {
        self.dirty.len()
    }
}

/// What an event needs loaded that a working set does not hold yet: packs, products and containers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    pub packs: Vec<PackKey>,
    pub products: Vec<String>,
    pub containers: Vec<String>,
}

impl Needs {
    pub fn is_empty(&self) -> bool {
        self.packs.is_empty() && self.products.is_empty() && self.containers.is_empty()
    }
}

impl WorkingSet {
    /// What `event` reads that is not loaded. An unpack of everything in a container also reads what the container
    /// holds, known only once the container is loaded: load what this returns until it returns nothing.
    pub fn needs(&self, event: &Event) -> Needs {
        let mut needs = Needs::default();
        if event.body.is_governance() {
            return needs;
        }
        let product = |gtin: &str, needs: &mut Needs| {
            if !self.products.contains_key(gtin) && !needs.products.iter().any(|g| g == gtin) {
                needs.products.push(gtin.to_string());
            }
        };
        if let Some(gtin) = event.body.gtin() {
            product(gtin.as_str(), &mut needs);
        }
        for (gtin, serials) in event.body.lines() {
            product(gtin.as_str(), &mut needs);
            needs.packs.extend(
                serials
                    .iter()
                    .map(|s| PackKey::new(gtin, s))
                    .filter(|k| !self.is_loaded(k)),
            );
        }
        for key in event.body.containers() {
            let element = key.element();
            if let Some(gtin) = key.case_gtin() {
                product(gtin.as_str(), &mut needs);
            }
            if !self.is_container_loaded(&element) {
                needs.containers.push(element);
            }
        }
        if let Body::Unpack { parent, .. } = &event.body
            && event.body.unpacks_everything()
            && let Some(record) = self.container(&parent.element())
        {
            needs.packs.extend(
                record
                    .packs
                    .iter()
                    .filter_map(|k| PackKey::parse(k).ok())
                    .filter(|k| !self.is_loaded(k)),
            );
            needs.containers.extend(
                record
                    .containers
                    .iter()
                    .filter(|c| !self.is_container_loaded(c))
                    .cloned(),
            );
        }
        needs
    }
}

/// Applies a custody event at `at` to the working set, or refuses it and changes nothing. Governance events touch
/// no pack: they are [`apply_governance`]'s.
pub fn apply(event: &Event, at: BlockContext, packs: &mut WorkingSet) -> Result<(), Refusal> {
    if event.body.is_governance() {
        return Ok(());
    }
    if matches!(event.body, Body::Pack { .. } | Body::Unpack { .. }) {
        return apply_aggregation(event, at, packs);
    }
    // Containers a shipment or receipt moves: checked first, written only once its packs are.
    let containers = moved_containers(event, packs)?;
    apply_packs(event, at, packs)?;
    write_containers(at, containers, packs);
    Ok(())
}

/// The pack- and product-level part of a custody event.
fn apply_packs(event: &Event, at: BlockContext, packs: &mut WorkingSet) -> Result<(), Refusal> {
    let Some(gtin) = event.body.gtin() else {
        // Shipments and receipts: packs of several GTINs, and packs refused back to the sender.
        let mut updates = Vec::new();
        let refused = match &event.body {
            Body::Receive { refused, sender, .. } => {
                for line in refused {
                    for serial in &line.serials {
                        let key = PackKey::new(&line.gtin, serial);
                        let pack = packs
                            .get(&key)
                            .ok_or_else(|| Refusal::new(RejectCode::UnknownPack, serial, "not commissioned"))?;
                        updates.push((key, refuse_receipt(pack, &event.signer, sender, serial)?));
                    }
                }
                refused.len()
            }
            _ => 0,
        };
        let lines = event.body.lines();
        for &(gtin, serials) in &lines[..lines.len() - refused] {
            let product = packs.product(gtin.as_str()).cloned();
            updates.extend(pack_updates(event, (gtin, serials), at, product.as_ref(), packs)?);
        }
        return write_packs(event, at, updates, packs);
    };
    if let Some(product) = product_change(event, at, gtin, packs.product(gtin.as_str()))? {
        if event.body.serials().is_empty() {
            packs.put_product(gtin.as_str(), product);
            return Ok(());
        }
        // A commission's product record is written only if every pack of it is accepted.
        let mut updates = pack_updates(event, (gtin, event.body.serials()), at, Some(&product), packs)?;
        updates.extend(repackaged_sources(event, at, packs)?);
        packs.put_product(gtin.as_str(), product);
        return write_packs(event, at, updates, packs);
    }
    let product = packs.product(gtin.as_str()).cloned();
    let mut updates = pack_updates(event, (gtin, event.body.serials()), at, product.as_ref(), packs)?;
    updates.extend(repackaged_sources(event, at, packs)?);
    write_packs(event, at, updates, packs)
}

/// The source packs of a repackager's commission, decommissioned as repackaged (none for other events).
fn repackaged_sources(
    event: &Event,
    at: BlockContext,
    packs: &WorkingSet,
) -> Result<Vec<(PackKey, PackRecord)>, Refusal> {
    let Body::Commission { sources, expiry, .. } = &event.body else {
        return Ok(Vec::new());
    };
    let mut updates = Vec::new();
    for line in sources {
        for serial in &line.serials {
            let key = PackKey::new(&line.gtin, serial);
            updates.push((
                key.clone(),
                repackage_source(event, serial, packs.get(&key), expiry, at)?,
            ));
        }
    }
    Ok(updates)
}

/// Applies any event: a governance event to the registry, a custody event to the working set.
pub fn apply_event(
    event: &Event,
    at: BlockContext,
    packs: &mut WorkingSet,
    registry: &mut Registry,
) -> Result<(), Refusal> {
    if event.body.is_governance() {
        apply_governance(event, at, registry)
    } else {
        apply(event, at, packs)
    }
}

fn pack_updates(
    event: &Event,
    (gtin, serials): (&Gtin, &[Serial]),
    at: BlockContext,
    product: Option<&ProductRecord>,
    packs: &WorkingSet,
) -> Result<Vec<(PackKey, PackRecord)>, Refusal> {
    let mut updates = Vec::with_capacity(serials.len());
    for serial in serials {
        let key = PackKey::new(gtin, serial);
        let next = transition(event, serial, packs.get(&key), product, at)?;
        updates.push((key, next));
    }
    Ok(updates)
}

fn write_packs(
    event: &Event,
    at: BlockContext,
    updates: Vec<(PackKey, PackRecord)>,
    packs: &mut WorkingSet,
) -> Result<(), Refusal> {
    for (key, mut record) in updates {
        record.last_event_id = event.id.to_vec();
        record.last_height = at.height;
        record.last_index = at.index;
        packs.put(key, record);
    }
    Ok(())
}

/// The new product record an event makes, if it changes the product (registration, transfer, recall, withdraw).
fn product_change(
    event: &Event,
    at: BlockContext,
    gtin: &Gtin,
    current: Option<&ProductRecord>,
) -> Result<Option<ProductRecord>, Refusal> {
    let signer = event.signer.as_str();
    let owned = |p: &ProductRecord| {
        if p.owner == signer {
            Ok(p.clone())
        } else {
            Err(Refusal::product(
                RejectCode::NotProductOwner,
                gtin,
                format!("owned by '{}', not by '{signer}'", p.owner),
            ))
        }
    };
    let case_level = || {
        Err(Refusal::product(
            RejectCode::CaseGtin,
            gtin,
            "a case-level gtin (it names cases): packs are not commissioned under it",
        ))
    };
    match (&event.body, current) {
        (Body::RegisterProduct { master, .. }, None) => Ok(Some(ProductRecord {
            owner: signer.to_string(),
            master: Some(product_master(master, at.height)),
            ..Default::default()
        })),
        (Body::RegisterProduct { .. }, Some(p)) if p.case_level => case_level(),
        (Body::RegisterProduct { master, .. }, Some(p)) => {
            let mut next = owned(p)?;
            let first = p.master.as_ref().map_or(at.height, |m| m.registered_height);
            next.master = Some(product_master(master, first));
            Ok(Some(next))
        }
        (Body::TransferProduct { .. }, None) => Err(Refusal::product(
            RejectCode::ProductNotRegistered,
            gtin,
            "not registered: nothing to transfer",
        )),
        (
            Body::TransferProduct {
                new_owner, sequence, ..
            },
            Some(p),
        ) => {
            let mut next = owned(p)?;
            if *sequence != p.transfers {
                return Err(Refusal::product(
                    RejectCode::TransferConsent,
                    gtin,
                    format!(
                        "the consent is for transfer {sequence}, the product changed owner {} times",
                        p.transfers
                    ),
                ));
            }
            next.owner.clone_from(new_owner);
            next.transfers += 1;
            Ok(Some(next))
        }
        (Body::Commission { .. }, Some(p)) if p.case_level => case_level(),
        (Body::Commission { .. }, p) if p.is_none_or(|p| p.master.is_none()) => Err(Refusal::product(
            RejectCode::ProductNotRegistered,
            gtin,
            "not registered: its owner registers it (RegisterProduct) before packs are commissioned",
        )),
        (Body::Commission { .. }, Some(p)) => owned(p).map(|_| None),
        (Body::Recall { .. } | Body::Withdraw { .. }, None) => {
            Err(Refusal::product(RejectCode::UnknownProduct, gtin, "not registered"))
        }
        (Body::Recall { lot, .. }, Some(p)) => {
            let mut next = owned(p)?;
            if !next.recalled_lots.iter().any(|l| l == lot.as_str()) {
                next.recalled_lots.push(lot.as_str().to_string());
            }
            Ok(Some(next))
        }
        (Body::Withdraw { .. }, Some(p)) => Ok(Some(ProductRecord {
            withdrawn: true,
            ..owned(p)?
        })),
        _ => Ok(None),
    }
}

/// The stored master data of a registration at `registered_height`.
fn product_master(data: &crate::product::ProductData, registered_height: u64) -> crate::pb::ProductMaster {
    crate::pb::ProductMaster {
        name: data.name.clone(),
        strength: data.strength.clone(),
        dosage_form: data.dosage_form.clone(),
        pack_size: data.pack_size,
        national_codes: data
            .national_codes
            .iter()
            .map(|(system, code)| crate::pb::NationalCode {
                system: system.clone(),
                code: code.clone(),
            })
            .collect(),
        markets: data.markets.clone(),
        registered_height,
        links: data.links.clone(),
    }
}
