//! Lifecycle rules of the state machine that depend on time and on product state: undo windows, expiry at
//! dispense, stolen and destroyed packs, product ownership, recalls and withdrawals.

mod support;

use pedigree_core::context::BlockContext;
use pedigree_core::event::{Body, Event, Line};
use pedigree_core::gs1::{Expiry, Gtin, Lot, Serial};
use pedigree_core::pack_key::PackKey;
use pedigree_core::participant::Role;
use pedigree_core::pb::{DecommissionReason, PackStatus, RejectCode};
use pedigree_core::state::{WorkingSet, apply};
use pedigree_core::transition::UNDO_WINDOW_MS;

/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600_000;
const DAY: i64 = 86_400_000;

fn gtin() -> Gtin {
    Gtin::parse("09506000134352").unwrap()
}

fn serials(names: &[&str]) -> Vec<Serial> {
    names.iter().map(|s| Serial::parse(s).unwrap()).collect()
}

fn event(n: u8, signer: &str, body: Body) -> Event {
    Event {
        id: [n; 32],
        signer: signer.into(),
        signer_role: Role::Pharmacy,
        timestamp_ms: 0,
        chain_id: [0; 32],
        body,
    }
}

fn at(n: u64, time_ms: i64) -> BlockContext {
    BlockContext::new(n, time_ms)
}

/// A pack S1 (expiring end of 2026) held by pharmacy "p", commissioned by "m" at T0.
fn held_by_pharmacy(expiry: &str) -> WorkingSet {
    let mut ws = WorkingSet::default();
    let g = gtin();
    let body = Body::Commission {
        gtin: g.clone(),
        lot: Lot::parse("L1").unwrap(),
        expiry: Expiry::parse(expiry).unwrap(),
        serials: serials(&["S1", "S2"]),
        sources: Vec::new(),
    };
    let commission = event(1, "m", body);
    support::registered_first(&mut ws, &commission, at(1, T0));
    apply(&commission, at(1, T0), &mut ws).unwrap();
    let ship = Body::Ship {
        lines: vec![Line {
            gtin: g.clone(),
            serials: serials(&["S1", "S2"]),
        }],
        containers: Vec::new(),
        receiver: "p".into(),
        documents: None,
        owner: None,
    };
    apply(&event(2, "m", ship), at(2, T0), &mut ws).unwrap();
    let receive = Body::Receive {
        lines: vec![Line {
            gtin: g,
            serials: serials(&["S1", "S2"]),
        }],
        refused: Vec::new(),
        over: Vec::new(),
        containers: Vec::new(),
        sender: "m".into(),
    };
    apply(&event(3, "p", receive), at(3, T0), &mut ws).unwrap();
    ws
}

fn refused(ws: &mut WorkingSet, e: &Event, when: BlockContext) -> RejectCode {
    let before = ws.clone();
    let refusal = apply(e, when, ws).expect_err("should be refused");
    assert_eq!(*ws, before, "a refused event changed state");
    refusal.code
}

fn dispense(n: u8, who: &str) -> Event {
    event(
        n,
        who,
        Body::Dispense {
            gtin: gtin(),
            serials: serials(&["S1"]),
        },
    )
}

fn undo(n: u8, who: &str) -> Event {
    event(
        n,
        who,
        Body::Undo {
            gtin: gtin(),
            serials: serials(&["S1"]),
        },
    )
}

fn decommission(n: u8, who: &str, reason: DecommissionReason) -> Event {
    event(
        n,
        who,
        Body::Decommission {
            gtin: gtin(),
            serials: serials(&["S1"]),
            reason,
        },
    )
}

fn status(ws: &WorkingSet) -> PackStatus {
    ws.get(&PackKey::new(&gtin(), &serials(&["S1"])[0])).unwrap().status()
}

#[test]
fn a_dispense_can_be_undone_within_ten_days_and_not_after() {
    let mut ws = held_by_pharmacy("261231");
    apply(&dispense(4, "p"), at(4, T0), &mut ws).unwrap();
    assert_eq!(
        refused(&mut ws, &undo(5, "p"), at(5, T0 + UNDO_WINDOW_MS + 1)),
        RejectCode::UndoWindowPassed
    );
    apply(&undo(5, "p"), at(5, T0 + UNDO_WINDOW_MS), &mut ws).unwrap();
    assert_eq!(status(&ws), PackStatus::Active);
}

#[test]
fn only_the_party_that_dispensed_may_undo() {
    let mut ws = held_by_pharmacy("261231");
    apply(&dispense(4, "p"), at(4, T0), &mut ws).unwrap();
    assert_eq!(
        refused(&mut ws, &undo(5, "q"), at(5, T0 + DAY)),
        RejectCode::UndoNotAllowed
    );
}

#[test]
fn undo_of_an_active_pack_is_refused() {
    let mut ws = held_by_pharmacy("261231");
    assert_eq!(refused(&mut ws, &undo(5, "p"), at(5, T0)), RejectCode::UndoNotAllowed);
}

#[test]
fn stolen_and_destroyed_packs_cannot_be_reactivated_but_samples_can() {
    for (reason, code) in [
        (DecommissionReason::Stolen, Some(RejectCode::UndoNotAllowed)),
        (DecommissionReason::Destroyed, Some(RejectCode::UndoNotAllowed)),
        (DecommissionReason::Sample, None),
    ] {
        let mut ws = held_by_pharmacy("261231");
        apply(&decommission(4, "p", reason), at(4, T0), &mut ws).unwrap();
        assert_eq!(status(&ws), PackStatus::Decommissioned);
        match code {
            Some(code) => assert_eq!(refused(&mut ws, &undo(5, "p"), at(5, T0 + DAY)), code),
            None => apply(&undo(5, "p"), at(5, T0 + DAY), &mut ws).unwrap(),
        }
    }
}

#[test]
fn an_expired_pack_is_not_dispensed_and_not_reactivated() {
    let mut ws = held_by_pharmacy("260100");
    // 2026-01-31 is the last valid day of "260100".
    apply(&dispense(4, "p"), at(4, T0 + 30 * DAY), &mut ws).unwrap();
    assert_eq!(
        refused(&mut ws, &undo(5, "p"), at(5, T0 + 31 * DAY)),
        RejectCode::Expired
    );
    let mut ws = held_by_pharmacy("260100");
    assert_eq!(
        refused(&mut ws, &dispense(4, "p"), at(4, T0 + 31 * DAY)),
        RejectCode::Expired
    );
}

#[test]
fn the_same_pharmacy_dispensing_twice_is_told_so() {
    let mut ws = held_by_pharmacy("261231");
    apply(&dispense(4, "p"), at(4, T0), &mut ws).unwrap();
    assert_eq!(
        refused(&mut ws, &dispense(5, "p"), at(5, T0)),
        RejectCode::AlreadyDispensedByYou
    );
    assert_eq!(
        refused(&mut ws, &dispense(5, "q"), at(5, T0)),
        RejectCode::AlreadyDispensed
    );
}

#[test]
fn recall_and_withdraw_belong_to_the_product_owner_and_stop_supply() {
    let mut ws = held_by_pharmacy("261231");
    let recall = |who: &str, lot: &str| {
        event(
            9,
            who,
            Body::Recall {
                gtin: gtin(),
                lot: Lot::parse(lot).unwrap(),
            },
        )
    };
    assert_eq!(
        refused(&mut ws, &recall("other-mfr", "L1"), at(4, T0)),
        RejectCode::NotProductOwner
    );
    apply(&recall("m", "L9"), at(4, T0), &mut ws).unwrap();
    apply(&dispense(5, "p"), at(5, T0), &mut ws).unwrap();
    apply(&undo(6, "p"), at(6, T0), &mut ws).unwrap();
    apply(&recall("m", "L1"), at(7, T0), &mut ws).unwrap();
    assert_eq!(refused(&mut ws, &dispense(8, "p"), at(8, T0)), RejectCode::Recalled);
    assert_eq!(
        ws.product(gtin().as_str()).unwrap().recalled_lots,
        vec!["L9".to_string(), "L1".to_string()]
    );
    apply(&event(9, "m", Body::Withdraw { gtin: gtin() }), at(9, T0), &mut ws).unwrap();
    assert!(ws.product(gtin().as_str()).unwrap().withdrawn);
    let other = Body::Commission {
        gtin: gtin(),
        lot: Lot::parse("L2").unwrap(),
        expiry: Expiry::parse("271231").unwrap(),
        serials: serials(&["S9"]),
        sources: Vec::new(),
    };
    assert_eq!(
        refused(&mut ws, &event(10, "m", other), at(10, T0)),
        RejectCode::Withdrawn
    );
}

#[test]
fn another_manufacturer_cannot_commission_an_owned_gtin() {
    let mut ws = held_by_pharmacy("261231");
    let body = Body::Commission {
        gtin: gtin(),
        lot: Lot::parse("X").unwrap(),
        expiry: Expiry::parse("271231").unwrap(),
        serials: serials(&["Z1"]),
        sources: Vec::new(),
    };
    assert_eq!(
        refused(&mut ws, &event(9, "intruder", body), at(9, T0)),
        RejectCode::NotProductOwner
    );
}

#[test]
fn a_return_goes_only_to_the_party_the_pack_came_from() {
    let mut ws = held_by_pharmacy("261231");
    let back = |to: &str| {
        event(
            4,
            "p",
            Body::Return {
                gtin: gtin(),
                serials: serials(&["S1"]),
                receiver: to.into(),
            },
        )
    };
    assert_eq!(
        refused(&mut ws, &back("d2"), at(4, T0)),
        RejectCode::WrongReturnReceiver
    );
    apply(&back("m"), at(4, T0), &mut ws).unwrap();
    assert_eq!(status(&ws), PackStatus::InTransit);
}
