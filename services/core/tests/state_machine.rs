//! The custody state machine (`state::apply`), rule by rule, then model-checked against a small reference model
//! over random event sequences.
//!
//! Events are built directly (no signatures): `apply` only sees validated events, and roles are the envelope
//! check's business, so the signer's role here is irrelevant.

mod support;

use std::collections::HashMap;

use pedigree_core::Hash;
use pedigree_core::context::BlockContext;
use pedigree_core::event::{Body, Event, Line};
use pedigree_core::gs1::{Expiry, Gtin, Lot, Serial};
use pedigree_core::pack_key::PackKey;
use pedigree_core::participant::Role;
use pedigree_core::pb::{PackRecord, PackStatus, RejectCode};
use pedigree_core::refusal::Refusal;
use pedigree_core::state::{WorkingSet, apply};
use proptest::prelude::*;

const GTIN: &str = "09506000134352";
const OTHER_GTIN: &str = "04012345678901";
const LOT: &str = "LOT-7";
const EXPIRY: &str = "271231";

/// Block time of the tests: 2026-01-01, before every expiry used here.
const NOW_MS: i64 = 1_767_225_600_000;

fn gtin() -> Gtin {
    Gtin::parse(GTIN).unwrap()
}

fn serials(names: &[&str]) -> Vec<Serial> {
    names.iter().map(|s| Serial::parse(s).unwrap()).collect()
}

/// A distinct, arbitrary event id.
fn id(n: u64) -> Hash {
    let mut id = [0xAB; 32];
    id[..8].copy_from_slice(&n.to_be_bytes());
    id
}

fn event(n: u64, signer: &str, body: Body) -> Event {
    Event {
        id: id(n),
        signer: signer.to_string(),
        // Roles do not matter to `apply`; any will do.
        signer_role: Role::Distributor,
        timestamp_ms: 1_700_000_000_000 + n as i64,
        chain_id: [0; 32],
        body,
    }
}

fn commission(n: u64, signer: &str, names: &[&str]) -> Event {
    let body = Body::Commission {
        gtin: gtin(),
        lot: Lot::parse(LOT).unwrap(),
        expiry: Expiry::parse(EXPIRY).unwrap(),
        serials: serials(names),
        sources: Vec::new(),
    };
    event(n, signer, body)
}

fn ship(n: u64, signer: &str, names: &[&str], receiver: &str) -> Event {
    let body = Body::Ship {
        lines: vec![Line {
            gtin: gtin(),
            serials: serials(names),
        }],
        containers: Vec::new(),
        receiver: receiver.into(),
        documents: None,
        owner: None,
    };
    event(n, signer, body)
}

fn receive(n: u64, signer: &str, names: &[&str], sender: &str) -> Event {
    let body = Body::Receive {
        lines: vec![Line {
            gtin: gtin(),
            serials: serials(names),
        }],
        refused: Vec::new(),
        over: Vec::new(),
        containers: Vec::new(),
        sender: sender.into(),
    };
    event(n, signer, body)
}

fn dispense(n: u64, signer: &str, names: &[&str]) -> Event {
    event(
        n,
        signer,
        Body::Dispense {
            gtin: gtin(),
            serials: serials(names),
        },
    )
}

fn key(serial: &str) -> PackKey {
    PackKey::new(&gtin(), &Serial::parse(serial).unwrap())
}

fn pack<'a>(packs: &'a WorkingSet, serial: &str) -> &'a PackRecord {
    packs
        .get(&key(serial))
        .unwrap_or_else(|| panic!("pack {serial} missing"))
}

/// A working set where `names` were looked up and do not exist, as the sequencer loads it.
fn loaded_empty(names: &[&str]) -> WorkingSet {
    let mut packs = WorkingSet::default();
    for name in names {
        packs.load(key(name), None);
    }
    packs
}

/// Applies `event` at height `n`, which must be accepted.
fn accept(packs: &mut WorkingSet, event: &Event, height: u64) {
    support::registered_first(packs, event, BlockContext::new(height, NOW_MS));
    apply(event, BlockContext::new(height, NOW_MS), packs).unwrap_or_else(|r| panic!("{event:?} refused: {r:?}"));
}

/// Applies `event`, which must be refused with `code` without changing anything; returns the refusal.
fn refuse(packs: &mut WorkingSet, event: &Event, code: RejectCode) -> Refusal {
    support::registered_first(packs, event, BlockContext::new(99, NOW_MS));
    let before = packs.clone();
    let refusal = apply(event, BlockContext::new(99, NOW_MS), packs).expect_err("event should be refused");
    assert_eq!(refusal.code, code, "{}", refusal.reason);
    assert_eq!(*packs, before, "a refused event changed the working set");
    refusal
}

/// S1 commissioned by m at height 1 (event 1), shipped to d1 at height 2 (event 2).
fn in_transit_to_d1() -> WorkingSet {
    let mut packs = loaded_empty(&["S1"]);
    accept(&mut packs, &commission(1, "m", &["S1"]), 1);
    accept(&mut packs, &ship(2, "m", &["S1"], "d1"), 2);
    packs
}

/// S1 commissioned by m, shipped to p1 and received by p1 (events 1 to 3).
fn held_by_p1() -> WorkingSet {
    let mut packs = in_transit_to_d1();
    accept(&mut packs, &receive(3, "d1", &["S1"], "m"), 3);
    accept(&mut packs, &ship(4, "d1", &["S1"], "p1"), 4);
    accept(&mut packs, &receive(5, "p1", &["S1"], "d1"), 5);
    packs
}

fn dispensed_by_p1() -> WorkingSet {
    let mut packs = held_by_p1();
    accept(&mut packs, &dispense(6, "p1", &["S1"]), 6);
    packs
}

#[test]
fn pack_key_is_gtin_then_serial() {
    let key = key("AB-1");
    assert_eq!(key.as_str(), format!("{GTIN}AB-1"));
    assert_eq!((key.gtin(), key.serial()), (GTIN, "AB-1"));
}

#[test]
fn commission_creates_active_packs_held_by_the_signer() {
    let mut packs = loaded_empty(&["S1", "S2"]);
    accept(&mut packs, &commission(1, "m", &["S1", "S2"]), 7);
    for serial in ["S1", "S2"] {
        let record = pack(&packs, serial);
        assert_eq!(record.status(), PackStatus::Active);
        assert_eq!(record.holder, "m");
        assert_eq!(record.receiver, "");
        assert_eq!(record.lot, LOT);
        assert_eq!(record.expiry, EXPIRY);
        assert_eq!(record.last_event_id, id(1).to_vec());
        assert_eq!(record.last_height, 7);
    }
}

#[test]
fn commission_works_on_keys_that_were_never_loaded() {
    let mut packs = WorkingSet::default();
    accept(&mut packs, &commission(1, "m", &["S1"]), 1);
    assert_eq!(pack(&packs, "S1").holder, "m");
}

#[test]
fn commission_of_an_existing_serial_is_refused_and_changes_nothing() {
    let mut packs = loaded_empty(&["S1", "S2", "S3"]);
    accept(&mut packs, &commission(1, "m", &["S1"]), 1);
    // S2 and S3 are new, S1 exists: the whole event is refused.
    let refusal = refuse(
        &mut packs,
        &commission(2, "m", &["S2", "S1", "S3"]),
        RejectCode::PackExists,
    );
    assert!(refusal.reason.contains("S1"), "{}", refusal.reason);
    assert!(packs.get(&key("S2")).is_none());
    assert!(packs.get(&key("S3")).is_none());
    assert_eq!(pack(&packs, "S1").last_event_id, id(1).to_vec());
}

#[test]
fn commission_of_a_serial_found_in_storage_is_refused() {
    let mut packs = WorkingSet::default();
    let mut stored = PackRecord {
        lot: "OLD".into(),
        expiry: "250101".into(),
        holder: "d2".into(),
        receiver: "p2".into(),
        last_event_id: id(50).to_vec(),
        last_height: 3,
        ..PackRecord::default()
    };
    stored.set_status(PackStatus::InTransit);
    packs.load(key("S1"), Some(stored));
    refuse(&mut packs, &commission(1, "m", &["S1"]), RejectCode::PackExists);
}

#[test]
fn the_same_serial_under_another_gtin_is_another_pack() {
    let mut packs = WorkingSet::default();
    accept(&mut packs, &commission(1, "m", &["S1"]), 1);
    let mut other = commission(2, "m", &["S1"]);
    if let Body::Commission { gtin, .. } = &mut other.body {
        *gtin = Gtin::parse(OTHER_GTIN).unwrap();
    }
    accept(&mut packs, &other, 2);
    let other_key = PackKey::new(&Gtin::parse(OTHER_GTIN).unwrap(), &Serial::parse("S1").unwrap());
    assert_eq!(packs.get(&other_key).unwrap().last_event_id, id(2).to_vec());
    assert_eq!(pack(&packs, "S1").last_event_id, id(1).to_vec());
}

#[test]
fn ship_by_the_holder_puts_the_pack_in_transit_to_the_receiver() {
    let packs = in_transit_to_d1();
    let record = pack(&packs, "S1");
    assert_eq!(record.status(), PackStatus::InTransit);
    assert_eq!(record.holder, "m", "the sender stays the holder while in transit");
    assert_eq!(record.receiver, "d1");
    assert_eq!(record.lot, LOT);
    assert_eq!(record.expiry, EXPIRY);
    assert_eq!(record.last_event_id, id(2).to_vec());
    assert_eq!(record.last_height, 2);
}

#[test]
fn ship_by_someone_other_than_the_holder_is_refused() {
    let mut packs = loaded_empty(&["S1"]);
    accept(&mut packs, &commission(1, "m", &["S1"]), 1);
    let refusal = refuse(&mut packs, &ship(2, "d1", &["S1"], "d2"), RejectCode::NotHolder);
    assert!(refusal.reason.contains("S1"), "{}", refusal.reason);
}

#[test]
fn ship_of_a_pack_in_transit_is_refused_even_for_its_sender_or_receiver() {
    let mut packs = in_transit_to_d1();
    refuse(&mut packs, &ship(3, "m", &["S1"], "d2"), RejectCode::NotHolder);
    refuse(&mut packs, &ship(3, "d1", &["S1"], "d2"), RejectCode::NotHolder);
}

#[test]
fn receive_by_the_named_receiver_makes_it_the_holder() {
    let mut packs = in_transit_to_d1();
    accept(&mut packs, &receive(3, "d1", &["S1"], "m"), 5);
    let record = pack(&packs, "S1");
    assert_eq!(record.status(), PackStatus::Active);
    assert_eq!(record.holder, "d1");
    assert_eq!(record.receiver, "", "the receiver is cleared once received");
    assert_eq!(record.lot, LOT);
    assert_eq!(record.last_event_id, id(3).to_vec());
    assert_eq!(record.last_height, 5);
}

#[test]
fn receive_by_another_party_than_the_named_receiver_is_refused() {
    let mut packs = in_transit_to_d1();
    refuse(&mut packs, &receive(3, "d2", &["S1"], "m"), RejectCode::WrongReceiver);
    // Not even the sender can take it back by "receiving" it.
    refuse(&mut packs, &receive(3, "m", &["S1"], "m"), RejectCode::WrongReceiver);
}

#[test]
fn receive_naming_the_wrong_sender_is_refused() {
    let mut packs = in_transit_to_d1();
    refuse(&mut packs, &receive(3, "d1", &["S1"], "d2"), RejectCode::NotHolder);
}

#[test]
fn receive_of_a_pack_not_in_transit_is_refused() {
    let mut packs = loaded_empty(&["S1"]);
    accept(&mut packs, &commission(1, "m", &["S1"]), 1);
    refuse(&mut packs, &receive(2, "d1", &["S1"], "m"), RejectCode::NotInTransit);
    // Received once, it cannot be received again.
    let mut packs = in_transit_to_d1();
    accept(&mut packs, &receive(3, "d1", &["S1"], "m"), 3);
    refuse(&mut packs, &receive(4, "d1", &["S1"], "m"), RejectCode::NotInTransit);
}

#[test]
fn dispense_by_the_holder_marks_the_pack_dispensed() {
    let packs = dispensed_by_p1();
    let record = pack(&packs, "S1");
    assert_eq!(record.status(), PackStatus::Dispensed);
    assert_eq!(record.holder, "p1");
    assert_eq!(record.receiver, "");
    assert_eq!(record.last_event_id, id(6).to_vec());
    assert_eq!(record.last_height, 6);
}

#[test]
fn dispense_by_someone_other_than_the_holder_is_refused() {
    let mut packs = held_by_p1();
    refuse(&mut packs, &dispense(6, "p2", &["S1"]), RejectCode::NotHolder);
    refuse(&mut packs, &dispense(6, "d1", &["S1"]), RejectCode::NotHolder);
}

#[test]
fn dispense_of_a_pack_in_transit_is_refused() {
    let mut packs = in_transit_to_d1();
    refuse(&mut packs, &dispense(3, "m", &["S1"]), RejectCode::NotHolder);
    refuse(&mut packs, &dispense(3, "d1", &["S1"]), RejectCode::NotHolder);
}

#[test]
fn a_dispensed_pack_never_moves_again() {
    let mut packs = dispensed_by_p1();
    refuse(&mut packs, &ship(7, "p1", &["S1"], "p2"), RejectCode::AlreadyDispensed);
    refuse(
        &mut packs,
        &receive(7, "p1", &["S1"], "d1"),
        RejectCode::AlreadyDispensed,
    );
    refuse(
        &mut packs,
        &receive(7, "p2", &["S1"], "p1"),
        RejectCode::AlreadyDispensed,
    );
    // The dispensing pharmacy repeating itself is told so (EMVS answers a repeated supply at the same location
    // without a falsification alert); anyone else is refused as a dispensed pack.
    refuse(
        &mut packs,
        &dispense(7, "p1", &["S1"]),
        RejectCode::AlreadyDispensedByYou,
    );
    refuse(&mut packs, &dispense(7, "p2", &["S1"]), RejectCode::AlreadyDispensed);
}

#[test]
fn commission_of_a_dispensed_serial_is_refused_as_existing() {
    // Commission is checked against existence before status: a dispensed serial "exists".
    let mut packs = dispensed_by_p1();
    refuse(&mut packs, &commission(7, "m", &["S1"]), RejectCode::PackExists);
}

#[test]
fn moving_an_unknown_pack_is_refused() {
    let mut packs = loaded_empty(&["S9"]);
    refuse(&mut packs, &ship(1, "m", &["S9"], "d1"), RejectCode::UnknownPack);
    refuse(&mut packs, &receive(1, "d1", &["S9"], "m"), RejectCode::UnknownPack);
    refuse(&mut packs, &dispense(1, "p1", &["S9"]), RejectCode::UnknownPack);
    // Never loaded at all behaves the same.
    let mut packs = WorkingSet::default();
    refuse(&mut packs, &ship(1, "m", &["S9"], "d1"), RejectCode::UnknownPack);
}

#[test]
fn one_bad_serial_refuses_the_whole_event() {
    let mut packs = loaded_empty(&["S1", "S2", "S3"]);
    accept(&mut packs, &commission(1, "m", &["S1", "S2"]), 1);
    let refusal = refuse(
        &mut packs,
        &ship(2, "m", &["S1", "S3", "S2"], "d1"),
        RejectCode::UnknownPack,
    );
    assert!(refusal.reason.contains("S3"), "{}", refusal.reason);
    assert_eq!(pack(&packs, "S1").status(), PackStatus::Active);
    assert_eq!(pack(&packs, "S2").status(), PackStatus::Active);
}

#[test]
fn the_first_failing_serial_is_reported() {
    let mut packs = loaded_empty(&["S1", "S2", "S3"]);
    accept(&mut packs, &commission(1, "m", &["S1"]), 1);
    accept(&mut packs, &ship(2, "m", &["S1"], "d1"), 2);
    // S2 is unknown and S1 is in transit: S2 comes first in the event.
    let refusal = refuse(&mut packs, &dispense(3, "m", &["S2", "S1"]), RejectCode::UnknownPack);
    assert!(refusal.reason.contains("S2"), "{}", refusal.reason);
    let refusal = refuse(&mut packs, &dispense(3, "m", &["S1", "S2"]), RejectCode::NotHolder);
    assert!(refusal.reason.contains("S1"), "{}", refusal.reason);
}

#[test]
fn changes_list_each_changed_pack_once_in_first_change_order() {
    let mut packs = loaded_empty(&["S1", "S2", "S3", "S4"]);
    packs.load(
        key("S5"),
        Some(PackRecord {
            holder: "x".into(),
            ..PackRecord::default()
        }),
    );
    assert_eq!(packs.change_count(), 0);
    accept(&mut packs, &commission(1, "m", &["S2", "S1"]), 1);
    accept(&mut packs, &ship(2, "m", &["S1"], "d1"), 1);
    // A refused event adds nothing.
    refuse(&mut packs, &ship(3, "m", &["S4"], "d1"), RejectCode::UnknownPack);
    accept(&mut packs, &commission(4, "m", &["S3"]), 1);
    accept(&mut packs, &ship(5, "m", &["S2"], "d2"), 2);
    let changed: Vec<(PackKey, Vec<u8>)> = packs
        .changes()
        .map(|(k, r)| (k.clone(), r.last_event_id.clone()))
        .collect();
    assert_eq!(
        changed,
        vec![
            (key("S2"), id(5).to_vec()),
            (key("S1"), id(2).to_vec()),
            (key("S3"), id(4).to_vec())
        ],
        "each changed pack once, in first-change order, with its latest record"
    );
    assert_eq!(packs.change_count(), 3);
}

// ---------------------------------------------------------------------------------------------------------------
// Model check.

const PARTIES: [&str; 5] = ["m", "d1", "d2", "p1", "p2"];
const SERIALS: [&str; 3] = ["A", "B", "C"];

/// One generated step. `guided` steps take signer and counterparty from the model's view of the first serial,
/// so that plausible custody chains (ship, receive, dispense) happen often rather than by luck.
#[derive(Clone, Debug)]
struct Op {
    kind: u8,
    signer: usize,
    counterparty: usize,
    /// Non-empty subset of `SERIALS`, as a bit mask.
    mask: u8,
    reversed: bool,
    guided: bool,
}

fn op() -> impl Strategy<Value = Op> {
    (
        0u8..4,
        0..PARTIES.len(),
        0..PARTIES.len(),
        1u8..8,
        any::<bool>(),
        prop::bool::weighted(0.6),
    )
        .prop_map(|(kind, signer, counterparty, mask, reversed, guided)| Op {
            kind,
            signer,
            counterparty,
            mask,
            reversed,
            guided,
        })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Active,
    InTransit,
    Dispensed,
}

/// The reference model's view of one pack.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ModelPack {
    status: Status,
    /// Who has custody: the commissioner, then each party that received it.
    holder: String,
    /// Named receiver while in transit, else empty.
    receiver: String,
    last_event: Hash,
    last_height: u64,
    /// Who commissioned it: the first commissioner of the GTIN owns the product.
    commissioner: String,
}

type Model = HashMap<&'static str, ModelPack>;

/// The reference rules, written independently of `state.rs`: the next state of each serial or the refusal code.
fn model_step(model: &Model, kind: u8, signer: &str, other: &str, names: &[&'static str]) -> Result<Model, RejectCode> {
    let mut next = model.clone();
    if kind == 0 && model.values().next().is_some_and(|p| p.commissioner != signer) {
        return Err(RejectCode::NotProductOwner);
    }
    for name in names {
        let current = model.get(name);
        let new = match (kind, current) {
            (0, Some(_)) => return Err(RejectCode::PackExists),
            (0, None) => ModelPack {
                status: Status::Active,
                holder: signer.into(),
                receiver: String::new(),
                last_event: [0; 32],
                last_height: 0,
                commissioner: signer.into(),
            },
            (_, None) => return Err(RejectCode::UnknownPack),
            (3, Some(p)) if p.status == Status::Dispensed && p.holder == signer => {
                return Err(RejectCode::AlreadyDispensedByYou);
            }
            (_, Some(p)) if p.status == Status::Dispensed => return Err(RejectCode::AlreadyDispensed),
            // ship
            (1, Some(p)) => {
                if p.status != Status::Active || p.holder != signer {
                    return Err(RejectCode::NotHolder);
                }
                ModelPack {
                    status: Status::InTransit,
                    receiver: other.into(),
                    ..p.clone()
                }
            }
            // receive
            (2, Some(p)) => {
                if p.status != Status::InTransit {
                    return Err(RejectCode::NotInTransit);
                }
                if p.receiver != signer {
                    return Err(RejectCode::WrongReceiver);
                }
                if p.holder != other {
                    return Err(RejectCode::NotHolder);
                }
                ModelPack {
                    status: Status::Active,
                    holder: signer.into(),
                    receiver: String::new(),
                    ..p.clone()
                }
            }
            // dispense
            (_, Some(p)) => {
                if p.status != Status::Active || p.holder != signer {
                    return Err(RejectCode::NotHolder);
                }
                ModelPack {
                    status: Status::Dispensed,
                    ..p.clone()
                }
            }
        };
        next.insert(name, new);
    }
    Ok(next)
}

/// Turns a generated op into concrete (kind, signer, counterparty, serials) given the model.
fn concretise(op: &Op, model: &Model) -> (u8, String, String, Vec<&'static str>) {
    let mut names: Vec<&'static str> = SERIALS
        .iter()
        .enumerate()
        .filter(|(i, _)| op.mask & (1 << i) != 0)
        .map(|(_, s)| *s)
        .collect();
    if op.reversed {
        names.reverse();
    }
    let mut signer = PARTIES[op.signer].to_string();
    let mut other = PARTIES[op.counterparty].to_string();
    if op.guided
        && let Some(p) = model.get(names[0])
    {
        match op.kind {
            1 | 3 => signer = p.holder.clone(),
            2 if p.status == Status::InTransit => {
                signer = p.receiver.clone();
                other = p.holder.clone();
            }
            _ => {}
        }
    }
    (op.kind, signer, other, names)
}

fn build(n: u64, kind: u8, signer: &str, other: &str, names: &[&str]) -> Event {
    match kind {
        0 => commission(n, signer, names),
        1 => ship(n, signer, names, other),
        2 => receive(n, signer, names, other),
        _ => dispense(n, signer, names),
    }
}

fn status_of(record: &PackRecord) -> Status {
    match record.status() {
        PackStatus::Active => Status::Active,
        PackStatus::InTransit => Status::InTransit,
        PackStatus::Dispensed => Status::Dispensed,
        PackStatus::Unspecified | PackStatus::Decommissioned => panic!("not produced by this model: {record:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn apply_agrees_with_the_reference_model(ops in prop::collection::vec(op(), 1..60)) {
        let mut packs = loaded_empty(&SERIALS);
        let mut model = Model::new();
        let mut dispensed: HashMap<&str, PackRecord> = HashMap::new();
        for (step, op) in ops.iter().enumerate() {
            let n = step as u64 + 1;
            let (kind, signer, other, names) = concretise(op, &model);
            let event = build(n, kind, &signer, &other, &names);
            support::registered_first(&mut packs, &event, BlockContext::new(n, NOW_MS));
            let before = packs.clone();
            let outcome = apply(&event, BlockContext::new(n, NOW_MS), &mut packs);
            let expected = model_step(&model, kind, &signer, &other, &names);
            match (outcome, expected) {
                (Ok(()), Ok(mut next)) => {
                    for name in &names {
                        let p = next.get_mut(name).unwrap();
                        p.last_event = id(n);
                        p.last_height = n;
                    }
                    model = next;
                }
                (Err(refusal), Err(code)) => {
                    prop_assert_eq!(refusal.code, code, "step {}: {:?}", step, event);
                    // (a) a refused event leaves the working set exactly as it was.
                    prop_assert_eq!(&packs, &before, "step {}: refused event changed state", step);
                }
                (got, want) => {
                    let want = want.map(|_| ());
                    return Err(TestCaseError::fail(format!("step {step}: apply gave {got:?}, model expected {want:?} for {event:?}")));
                }
            }
            for name in SERIALS {
                let record = packs.get(&key(name));
                let modelled = model.get(name);
                prop_assert_eq!(record.is_some(), modelled.is_some(), "step {}: existence of {}", step, name);
                let (Some(record), Some(modelled)) = (record, modelled) else { continue };
                // (b) once dispensed, a pack never changes again.
                if let Some(frozen) = dispensed.get(name) {
                    prop_assert_eq!(record, frozen, "step {}: dispensed pack {} changed", step, name);
                }
                if record.status() == PackStatus::Dispensed {
                    dispensed.entry(name).or_insert_with(|| record.clone());
                }
                // (c) in transit iff a receiver is named; the holder is the last party to take custody.
                prop_assert_eq!(
                    record.status() == PackStatus::InTransit,
                    !record.receiver.is_empty(),
                    "step {}: {} {:?}", step, name, record
                );
                prop_assert_eq!(status_of(record), modelled.status, "step {}: status of {}", step, name);
                prop_assert_eq!(&record.holder, &modelled.holder, "step {}: holder of {}", step, name);
                prop_assert_eq!(&record.receiver, &modelled.receiver, "step {}: receiver of {}", step, name);
                prop_assert_eq!(&record.last_event_id, &modelled.last_event.to_vec(), "step {}: last event of {}", step, name);
                prop_assert_eq!(record.last_height, modelled.last_height, "step {}: last height of {}", step, name);
                prop_assert_eq!(&record.lot, LOT);
                prop_assert_eq!(&record.expiry, EXPIRY);
            }
            // Every changed pack is listed exactly once.
            let changed: Vec<&str> = packs.changes().map(|(k, _)| k.as_str()).collect();
            let mut unique = changed.clone();
            unique.sort_unstable();
            unique.dedup();
            prop_assert_eq!(unique.len(), changed.len(), "step {}: duplicate in changes {:?}", step, changed);
            prop_assert_eq!(changed.len(), model.len(), "step {}: every existing pack was created here", step);
        }
    }
}
