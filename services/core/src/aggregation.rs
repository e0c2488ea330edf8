//! Aggregation: packs and containers put into a container (`Pack`), taken out (`Unpack`), and containers shipped and
//! received whole.
//!
//! Rules (an event applies whole or not at all):
//! - the parent of a pack is created by the first pack naming it, held by the signer; a case id's GTIN must be a
//!   case-level one (never commissioned as packs), and is recorded as such;
//! - the signer must hold the parent and every child, all active and outermost (in no container), none closed; a
//!   child's record gets `parent` set and its custody fields (holder, where it came from) cleared: from then on its
//!   custody is its outermost container's, and it moves only with it ([`crate::transition`] refuses any event on a
//!   pack in a container);
//! - nesting is at most [`MAX_DEPTH`] levels of containers;
//! - an unpack is by the holder of the outermost, active parent; the children it names (all of them when it names
//!   none) take the parent's custody (holder, where it came from) and become outermost; an emptied container is
//!   closed for good;
//! - a shipment or receipt moves outermost containers like packs (active and held to ship; in transit to the
//!   signer, from the named sender, to receive); what is inside follows by inference, never rewritten.

use crate::container::{ContainerKey, MAX_DEPTH, bracketed};
use crate::context::BlockContext;
use crate::event::{Body, Event, Line};
use crate::pack_key::PackKey;
use crate::pb::{ContainerRecord, PackRecord, PackStatus, ProductRecord, RejectCode};
use crate::refusal::Refusal;
use crate::state::WorkingSet;
use crate::transition::{check_ship_owner, in_transit, owner_after_receipt, owner_of};

/// What an event does to containers and packs, computed before anything is written.
#[derive(Default)]
pub(crate) struct Effects {
    pub containers: Vec<(String, ContainerRecord)>,
    pub packs: Vec<(PackKey, PackRecord)>,
    pub product: Option<(String, ProductRecord)>,
}

/// Applies a pack or unpack event, or refuses it and changes nothing.
pub(crate) fn apply_aggregation(event: &Event, at: BlockContext, ws: &mut WorkingSet) -> Result<(), Refusal> {
    let effects = match &event.body {
        Body::Pack {
            parent,
            lines,
            containers,
        } => pack(event, parent, lines, containers, ws)?,
        Body::Unpack {
            parent,
            lines,
            containers,
        } => unpack(event, parent, lines, containers, ws)?,
        _ => return Ok(()),
    };
    write(event, at, effects, ws);
    Ok(())
}

/// The containers a shipment or receipt moves, with their new records (nothing written).
pub(crate) fn moved_containers(event: &Event, ws: &WorkingSet) -> Result<Vec<(String, ContainerRecord)>, Refusal> {
    let signer = event.signer.as_str();
    let mut moved = Vec::new();
    match &event.body {
        Body::Ship {
            containers,
            receiver,
            owner,
            ..
        } => {
            for key in containers {
                let mut next = outermost(ws, key)?.clone();
                held_active(&next, signer, key)?;
                check_ship_owner(owner_of(&next.holder, &next.owner), signer, owner.as_deref())
                    .map_err(|(code, detail)| Refusal::container(code, key, detail))?;
                next.set_status(PackStatus::InTransit);
                next.receiver = receiver.clone();
                moved.push((key.element(), next));
            }
        }
        Body::VoidShipment {
            containers, receiver, ..
        } => {
            for key in containers {
                let mut next = outermost(ws, key)?.clone();
                in_transit(next.status(), &next.holder, &next.receiver, signer, receiver)
                    .map_err(|(code, detail)| Refusal::container(code, key, detail))?;
                next.set_status(PackStatus::Active);
                next.receiver.clear();
                moved.push((key.element(), next));
            }
        }
        Body::Receive { containers, sender, .. } => {
            for key in containers {
                let mut next = outermost(ws, key)?.clone();
                in_transit(next.status(), &next.holder, &next.receiver, sender, signer)
                    .map_err(|(code, detail)| Refusal::container(code, key, detail))?;
                next.set_status(PackStatus::Active);
                next.owner = owner_after_receipt(owner_of(&next.holder, &next.owner), signer, event.signer_role);
                next.received_from = std::mem::take(&mut next.holder);
                next.holder = signer.to_string();
                next.receiver.clear();
                moved.push((key.element(), next));
            }
        }
        _ => {}
    }
    Ok(moved)
}

/// The record of an existing, open container that is in no other container.
fn outermost<'a>(ws: &'a WorkingSet, key: &ContainerKey) -> Result<&'a ContainerRecord, Refusal> {
    let record = ws
        .container(&key.element())
        .ok_or_else(|| Refusal::container(RejectCode::UnknownContainer, key, "never packed"))?;
    if record.closed {
        return Err(Refusal::container(
            RejectCode::ContainerClosed,
            key,
            "emptied and closed",
        ));
    }
    if !record.parent.is_empty() {
        let detail = format!("inside container {}: unpack it first", bracketed(&record.parent));
        return Err(Refusal::container(RejectCode::InContainer, key, detail));
    }
    Ok(record)
}

fn held_active(record: &ContainerRecord, signer: &str, key: &ContainerKey) -> Result<(), Refusal> {
    if record.status() == PackStatus::InTransit {
        let detail = format!("in transit to '{}'", record.receiver);
        return Err(Refusal::container(RejectCode::NotHolder, key, detail));
    }
    if record.holder != signer {
        let detail = format!("held by '{}', not by '{signer}'", record.holder);
        return Err(Refusal::container(RejectCode::NotHolder, key, detail));
    }
    Ok(())
}

fn pack(
    event: &Event,
    parent: &ContainerKey,
    lines: &[Line],
    children: &[ContainerKey],
    ws: &WorkingSet,
) -> Result<Effects, Refusal> {
    let signer = event.signer.as_str();
    let mut effects = Effects::default();
    let element = parent.element();
    let mut record = match ws.container(&element) {
        Some(_) => {
            let record = outermost(ws, parent)?.clone();
            held_active(&record, signer, parent)?;
            record
        }
        None => {
            effects.product = case_product(event, parent, ws)?;
            let mut record = ContainerRecord {
                holder: signer.to_string(),
                ..ContainerRecord::default()
            };
            record.set_status(PackStatus::Active);
            record
        }
    };
    // A container holds the goods of one owner: a new one takes its first child's.
    let mut owner: Option<String> = ws
        .container(&element)
        .map(|r| owner_of(&r.holder, &r.owner).to_string());
    let mut same_owner = |child_owner: &str, refusal: &dyn Fn(String) -> Refusal| match &owner {
        Some(o) if o != child_owner => Err(refusal(format!(
            "owned by '{child_owner}', the container's goods by '{o}'"
        ))),
        Some(_) => Ok(()),
        None => {
            owner = Some(child_owner.to_string());
            Ok(())
        }
    };
    for line in lines {
        for serial in &line.serials {
            let key = PackKey::new(&line.gtin, serial);
            let mut next = packable(ws, &key, signer)?.clone();
            same_owner(owner_of(&next.holder, &next.owner), &|d| {
                Refusal::pack(RejectCode::OwnerMismatch, &key, d)
            })?;
            next.parent.clone_from(&element);
            // Custody is the container's from now on (and a few bytes less per pack in the store).
            next.holder.clear();
            next.received_from.clear();
            next.owner.clear();
            record.packs.push(key.as_str().to_string());
            effects.packs.push((key, next));
        }
    }
    if !lines.is_empty() {
        record.depth = record.depth.max(1);
    }
    for child in children {
        let mut next = outermost(ws, child)?.clone();
        held_active(&next, signer, child)?;
        same_owner(owner_of(&next.holder, &next.owner), &|d| {
            Refusal::container(RejectCode::OwnerMismatch, child, d)
        })?;
        record.depth = record.depth.max(next.depth + 1);
        if record.depth > MAX_DEPTH {
            let detail = format!(
                "would nest containers {} levels deep, more than the {MAX_DEPTH} allowed",
                record.depth
            );
            return Err(Refusal::container(RejectCode::Nesting, parent, detail));
        }
        next.parent.clone_from(&element);
        next.holder.clear();
        next.received_from.clear();
        next.owner.clear();
        record.containers.push(child.element());
        effects.containers.push((child.element(), next));
    }
    if let Some(owner) = owner
        && owner != signer
    {
        record.owner = owner;
    }
    effects.containers.push((element, record));
    Ok(effects)
}

/// A new container named by a case id: its GTIN must be a case-level one (recorded as such the first time).
fn case_product(
    event: &Event,
    parent: &ContainerKey,
    ws: &WorkingSet,
) -> Result<Option<(String, ProductRecord)>, Refusal> {
    let Some(gtin) = parent.case_gtin() else {
        return Ok(None);
    };
    match ws.product(gtin.as_str()) {
        Some(p) if p.case_level => Ok(None),
        Some(_) => Err(Refusal::container(
            RejectCode::CaseGtin,
            parent,
            "its gtin is one packs are commissioned under, not a case-level gtin",
        )),
        None => Ok(Some((
            gtin.as_str().to_string(),
            ProductRecord {
                owner: event.signer.clone(),
                case_level: true,
                ..ProductRecord::default()
            },
        ))),
    }
}

/// The record of a pack the signer may put into a container: active, held by it, in no container.
fn packable<'a>(ws: &'a WorkingSet, key: &PackKey, signer: &str) -> Result<&'a PackRecord, Refusal> {
    let pack = ws
        .get(key)
        .ok_or_else(|| Refusal::pack(RejectCode::UnknownPack, key, "not commissioned"))?;
    match pack.suspect() {
        crate::pb::SuspectState::Quarantined => {
            return Err(Refusal::pack(RejectCode::Suspect, key, "quarantined as suspect"));
        }
        crate::pb::SuspectState::Illegitimate => {
            return Err(Refusal::pack(RejectCode::Illegitimate, key, "declared illegitimate"));
        }
        crate::pb::SuspectState::Unspecified => {}
    }
    match pack.status() {
        PackStatus::Dispensed => return Err(Refusal::pack(RejectCode::AlreadyDispensed, key, "dispensed")),
        PackStatus::Decommissioned => return Err(Refusal::pack(RejectCode::Decommissioned, key, "decommissioned")),
        PackStatus::InTransit => {
            let detail = format!("in transit to '{}'", pack.receiver);
            return Err(Refusal::pack(RejectCode::NotHolder, key, detail));
        }
        PackStatus::Active | PackStatus::Unspecified => {}
    }
    if !pack.parent.is_empty() {
        let detail = format!("already inside container {}", bracketed(&pack.parent));
        return Err(Refusal::pack(RejectCode::InContainer, key, detail));
    }
    if pack.holder != signer {
        let detail = format!("held by '{}', not by '{signer}'", pack.holder);
        return Err(Refusal::pack(RejectCode::NotHolder, key, detail));
    }
    Ok(pack)
}

fn unpack(
    event: &Event,
    parent: &ContainerKey,
    lines: &[Line],
    children: &[ContainerKey],
    ws: &WorkingSet,
) -> Result<Effects, Refusal> {
    let mut record = outermost(ws, parent)?.clone();
    held_active(&record, &event.signer, parent)?;
    let (packs, containers): (Vec<String>, Vec<String>) = if lines.is_empty() && children.is_empty() {
        (
            std::mem::take(&mut record.packs),
            std::mem::take(&mut record.containers),
        )
    } else {
        let packs: Vec<String> = lines
            .iter()
            .flat_map(|l| l.serials.iter().map(|s| PackKey::new(&l.gtin, s).into_string()))
            .collect();
        let containers: Vec<String> = children.iter().map(ContainerKey::element).collect();
        take(&mut record.packs, &packs, parent)?;
        take(&mut record.containers, &containers, parent)?;
        (packs, containers)
    };
    let mut effects = Effects::default();
    for key in packs {
        let key = PackKey::parse(&key)
            .map_err(|_| Refusal::container(RejectCode::NotInContainer, parent, "holds an invalid pack key"))?;
        let mut next = ws
            .get(&key)
            .ok_or_else(|| Refusal::pack(RejectCode::UnknownPack, &key, "not commissioned"))?
            .clone();
        next.parent.clear();
        next.set_status(PackStatus::Active);
        next.holder.clone_from(&record.holder);
        next.received_from.clone_from(&record.received_from);
        next.owner.clone_from(&record.owner);
        next.receiver.clear();
        effects.packs.push((key, next));
    }
    for element in containers {
        let mut next = ws
            .container(&element)
            .ok_or_else(|| Refusal::container(RejectCode::UnknownContainer, bracketed(&element), "never packed"))?
            .clone();
        next.parent.clear();
        next.set_status(PackStatus::Active);
        next.holder.clone_from(&record.holder);
        next.received_from.clone_from(&record.received_from);
        next.owner.clone_from(&record.owner);
        next.receiver.clear();
        effects.containers.push((element, next));
    }
    record.closed = record.packs.is_empty() && record.containers.is_empty();
    effects.containers.push((parent.element(), record));
    Ok(effects)
}

/// Removes `named` from `children`, each of which must be there.
fn take(children: &mut Vec<String>, named: &[String], parent: &ContainerKey) -> Result<(), Refusal> {
    for name in named {
        let Some(at) = children.iter().position(|c| c == name) else {
            let shown = ContainerKey::parse_element(name).map_or_else(
                |_| {
                    PackKey::parse(name)
                        .map_or_else(|_| name.clone(), |k| format!("(01){}(21){}", k.gtin(), k.serial()))
                },
                |k| k.to_string(),
            );
            return Err(Refusal::container(
                RejectCode::NotInContainer,
                parent,
                format!("{shown} is not inside it"),
            ));
        };
        children.remove(at);
    }
    Ok(())
}

fn write(event: &Event, at: BlockContext, effects: Effects, ws: &mut WorkingSet) {
    if let Some((gtin, product)) = effects.product {
        ws.put_product(&gtin, product);
    }
    for (key, mut record) in effects.packs {
        record.last_event_id = event.id.to_vec();
        record.last_height = at.height;
        record.last_index = at.index;
        ws.put(key, record);
    }
    write_containers(at, effects.containers, ws);
}

/// Writes container records changed by an event at `at`.
pub(crate) fn write_containers(at: BlockContext, containers: Vec<(String, ContainerRecord)>, ws: &mut WorkingSet) {
    for (element, mut record) in containers {
        record.last_height = at.height;
        record.last_index = at.index;
        ws.put_container(element, record);
    }
}
