//! The custody state machine: which event may move which pack, and where it ends up.
//!
//! Rules (one event is applied whole or not at all):
//! - commission creates packs held by the manufacturer; a serial that exists is refused;
//! - ship is for the current holder of an active pack, to a named receiver; the pack is then in transit;
//! - receive is for the named receiver of a pack in transit, naming its sender;
//! - dispense is for a pharmacy holding an active pack; a dispensed pack never moves again.

use std::collections::HashMap;

use pedigree_gs1::{Gtin, Serial};

use crate::event::{Body, Event};
use crate::pb::{PackRecord, PackStatus, RejectCode};

/// Storage key of a pack: the 14-digit GTIN followed by the serial (unambiguous since the GTIN has a fixed length).
pub fn pack_key(gtin: &Gtin, serial: &Serial) -> String {
    let mut key = String::with_capacity(14 + serial.as_str().len());
    key.push_str(gtin.as_str());
    key.push_str(serial.as_str());
    key
}

/// Why the state machine refused an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: RejectCode,
    pub reason: String,
}

impl Refusal {
    fn new(code: RejectCode, serial: &Serial, detail: impl std::fmt::Display) -> Self {
        Self {
            code,
            reason: format!("serial {}: {detail}", serial.as_str()),
        }
    }
}

/// The packs an batch of events touches: loaded before applying, written back after.
/// A key mapped to `None` was looked up and does not exist.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkingSet {
    packs: HashMap<String, Option<PackRecord>>,
    /// Keys changed since loading, in first-change order (so writes are deterministic).
    dirty: Vec<String>,
}

impl WorkingSet {
    /// Records what storage holds for `key` (call once per key before applying events).
    pub fn load(&mut self, key: String, record: Option<PackRecord>) {
        self.packs.insert(key, record);
    }

    pub fn get(&self, key: &str) -> Option<&PackRecord> {
        self.packs.get(key).and_then(Option::as_ref)
    }

    fn put(&mut self, key: String, record: PackRecord) {
        if !matches!(self.packs.get(&key), Some(Some(old)) if *old == record) && !self.dirty.contains(&key) {
            self.dirty.push(key.clone());
        }
        self.packs.insert(key, Some(record));
    }

    /// Changed packs, in first-change order.
    pub fn changes(&self) -> impl Iterator<Item = (&str, &PackRecord)> {
        self.dirty
            .iter()
            .filter_map(|k| self.packs.get(k).and_then(Option::as_ref).map(|r| (k.as_str(), r)))
    }

    pub fn change_count(&self) -> usize {
        self.dirty.len()
    }
}

/// Applies `event` (sealed in block `height`) to the working set, or refuses it and changes nothing.
pub fn apply(event: &Event, height: u64, packs: &mut WorkingSet) -> Result<(), Refusal> {
    let gtin = event.body.gtin();
    let mut updates = Vec::with_capacity(event.body.serials().len());
    for serial in event.body.serials() {
        let key = pack_key(gtin, serial);
        let next = transition(event, serial, packs.get(&key))?;
        updates.push((key, next));
    }
    for (key, mut record) in updates {
        record.last_event_id = event.id.to_vec();
        record.last_height = height;
        packs.put(key, record);
    }
    Ok(())
}

/// The new state of one pack under `event`, from its current state.
fn transition(event: &Event, serial: &Serial, current: Option<&PackRecord>) -> Result<PackRecord, Refusal> {
    let signer = event.signer.as_str();
    let Body::Commission { lot, expiry, .. } = &event.body else {
        let pack = current.ok_or_else(|| Refusal::new(RejectCode::UnknownPack, serial, "not commissioned"))?;
        return move_pack(event, serial, pack);
    };
    if current.is_some() {
        return Err(Refusal::new(RejectCode::PackExists, serial, "already commissioned"));
    }
    Ok(PackRecord {
        lot: lot.as_str().to_string(),
        expiry: expiry.as_str().to_string(),
        status: PackStatus::Active as i32,
        holder: signer.to_string(),
        ..PackRecord::default()
    })
}

fn move_pack(event: &Event, serial: &Serial, pack: &PackRecord) -> Result<PackRecord, Refusal> {
    let signer = event.signer.as_str();
    let status = pack.status();
    if status == PackStatus::Dispensed {
        return Err(Refusal::new(RejectCode::AlreadyDispensed, serial, "already dispensed"));
    }
    let mut next = pack.clone();
    match &event.body {
        Body::Commission { .. } => unreachable!("commission is handled by transition"),
        Body::Ship { receiver, .. } => {
            require_active_holder(pack, signer, serial)?;
            next.status = PackStatus::InTransit as i32;
            next.receiver = receiver.clone();
        }
        Body::Receive { sender, .. } => {
            if status != PackStatus::InTransit {
                return Err(Refusal::new(RejectCode::NotInTransit, serial, "not in transit"));
            }
            if pack.receiver != signer {
                let detail = format!("shipped to '{}', not to '{signer}'", pack.receiver);
                return Err(Refusal::new(RejectCode::WrongReceiver, serial, detail));
            }
            if pack.holder != *sender {
                let detail = format!("shipped by '{}', not by '{sender}'", pack.holder);
                return Err(Refusal::new(RejectCode::NotHolder, serial, detail));
            }
            next.status = PackStatus::Active as i32;
            next.holder = signer.to_string();
            next.receiver.clear();
        }
        Body::Dispense { .. } => {
            require_active_holder(pack, signer, serial)?;
            next.status = PackStatus::Dispensed as i32;
        }
    }
    Ok(next)
}

fn require_active_holder(pack: &PackRecord, signer: &str, serial: &Serial) -> Result<(), Refusal> {
    if pack.status() == PackStatus::InTransit {
        let detail = format!("in transit to '{}'", pack.receiver);
        return Err(Refusal::new(RejectCode::NotHolder, serial, detail));
    }
    if pack.holder != signer {
        let detail = format!("held by '{}', not by '{signer}'", pack.holder);
        return Err(Refusal::new(RejectCode::NotHolder, serial, detail));
    }
    Ok(())
}
