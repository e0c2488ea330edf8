//! The third-party logistics and repackager roles in the state machine, and over-deliveries: a 3PL holds stock its
//! client keeps owning (owner and possessor tracked apart, on packs and on containers), a repackager's commission
//! decommissions the packs it is made from, and packs delivered but not shipped are recorded and left as they are.

mod support;

use pedigree_core::container::ContainerKey;
use pedigree_core::context::BlockContext;
use pedigree_core::event::{Body, Event, Line};
use pedigree_core::gs1::{Expiry, Gtin, Lot, Serial, Sscc};
use pedigree_core::pack_key::PackKey;
use pedigree_core::participant::Role;
use pedigree_core::pb::{DecommissionReason, PackRecord, PackStatus, RejectCode};
use pedigree_core::state::{WorkingSet, apply};

/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600_000;

const MAKER: &str = "acme";
const LOGISTICS: &str = "depot";
const WHOLESALER: &str = "medline";
const REPACKAGER: &str = "repack";

fn gtin() -> Gtin {
    Gtin::parse("09506000134352").unwrap()
}

fn new_gtin() -> Gtin {
    Gtin::parse("09506000134369").unwrap()
}

fn serials(names: &[&str]) -> Vec<Serial> {
    names.iter().map(|s| Serial::parse(s).unwrap()).collect()
}

fn line(names: &[&str]) -> Vec<Line> {
    vec![Line {
        gtin: gtin(),
        serials: serials(names),
    }]
}

fn role_of(signer: &str) -> Role {
    match signer {
        MAKER => Role::Manufacturer,
        LOGISTICS => Role::ThirdPartyLogistics,
        REPACKAGER => Role::Repackager,
        _ => Role::Distributor,
    }
}

struct Chain {
    ws: WorkingSet,
    n: u64,
}

impl Chain {
    fn new() -> Self {
        let mut chain = Chain {
            ws: WorkingSet::default(),
            n: 0,
        };
        let body = Body::Commission {
            gtin: gtin(),
            lot: Lot::parse("L1").unwrap(),
            expiry: Expiry::parse("280630").unwrap(),
            serials: serials(&["S1", "S2", "S3"]),
            sources: Vec::new(),
        };
        chain.ok(MAKER, body);
        chain
    }

    fn event(&mut self, signer: &str, body: Body) -> (Event, BlockContext) {
        self.n += 1;
        let event = Event {
            id: [self.n as u8; 32],
            signer: signer.into(),
            signer_role: role_of(signer),
            timestamp_ms: 0,
            chain_id: [0; 32],
            body,
        };
        (event, BlockContext::new(self.n, T0))
    }

    fn ok(&mut self, signer: &str, body: Body) {
        let (event, at) = self.event(signer, body);
        support::registered_first(&mut self.ws, &event, at);
        apply(&event, at, &mut self.ws).unwrap_or_else(|r| panic!("refused: {r:?}"));
    }

    fn refused(&mut self, signer: &str, body: Body) -> RejectCode {
        let (event, at) = self.event(signer, body);
        support::registered_first(&mut self.ws, &event, at);
        let before = self.ws.clone();
        let refusal = apply(&event, at, &mut self.ws).expect_err("should be refused");
        assert_eq!(self.ws, before, "a refused event changed state");
        refusal.code
    }

    fn pack(&self, serial: &str) -> PackRecord {
        self.ws
            .get(&PackKey::new(&gtin(), &Serial::parse(serial).unwrap()))
            .unwrap()
            .clone()
    }

    fn ship(names: &[&str], to: &str, owner: Option<&str>) -> Body {
        Body::Ship {
            lines: line(names),
            containers: Vec::new(),
            receiver: to.into(),
            documents: None,
            owner: owner.map(String::from),
        }
    }

    fn receive(names: &[&str], from: &str) -> Body {
        Body::Receive {
            lines: line(names),
            refused: Vec::new(),
            over: Vec::new(),
            containers: Vec::new(),
            sender: from.into(),
        }
    }
}

#[test]
fn a_3pl_holds_stock_its_client_keeps_owning_and_ships_it_in_the_owners_name() {
    let mut c = Chain::new();
    let ship = Chain::ship(&["S1", "S2"], LOGISTICS, None);
    c.ok(MAKER, ship);
    c.ok(LOGISTICS, Chain::receive(&["S1", "S2"], MAKER));
    let held = c.pack("S1");
    assert_eq!((held.holder.as_str(), held.owner.as_str()), (LOGISTICS, MAKER));

    // The 3PL must say whose goods it ships, and say it right.
    let unnamed = Chain::ship(&["S1"], WHOLESALER, None);
    assert_eq!(c.refused(LOGISTICS, unnamed), RejectCode::OwnerMismatch);
    let wrong = Chain::ship(&["S1"], WHOLESALER, Some(WHOLESALER));
    assert_eq!(c.refused(LOGISTICS, wrong), RejectCode::OwnerMismatch);
    // The owner does not possess the goods: it cannot ship them.
    let by_owner = Chain::ship(&["S1"], WHOLESALER, None);
    assert_eq!(c.refused(MAKER, by_owner), RejectCode::NotHolder);

    let ship = Chain::ship(&["S1"], WHOLESALER, Some(MAKER));
    c.ok(LOGISTICS, ship);
    assert_eq!(c.pack("S1").owner, MAKER, "ownership does not move while in transit");
    c.ok(WHOLESALER, Chain::receive(&["S1"], LOGISTICS));
    let bought = c.pack("S1");
    assert_eq!(
        (
            bought.holder.as_str(),
            bought.owner.as_str(),
            bought.received_from.as_str()
        ),
        (WHOLESALER, "", LOGISTICS),
        "a buyer that receives takes ownership with possession"
    );
    // A shipment by an owner names no owner.
    let named = Chain::ship(&["S1"], MAKER, Some(MAKER));
    assert_eq!(c.refused(WHOLESALER, named), RejectCode::OwnerMismatch);
}

#[test]
fn a_container_at_a_3pl_keeps_its_owner_and_holds_one_owners_goods() {
    let mut c = Chain::new();
    let ship = Chain::ship(&["S1", "S2"], LOGISTICS, None);
    c.ok(MAKER, ship);
    c.ok(LOGISTICS, Chain::receive(&["S1", "S2"], MAKER));
    let pallet = ContainerKey::Sscc(Sscc::parse("006141410000000012").unwrap());
    c.ok(
        LOGISTICS,
        Body::Pack {
            parent: pallet.clone(),
            lines: line(&["S1", "S2"]),
            containers: Vec::new(),
        },
    );
    let record = c.ws.container(&pallet.element()).unwrap().clone();
    assert_eq!((record.holder.as_str(), record.owner.as_str()), (LOGISTICS, MAKER));
    assert_eq!(c.pack("S1").owner, "", "a packed pack's custody is its container's");

    // The maker's own S3 is the maker's, held by the maker: it cannot join the 3PL's pallet (wrong holder).
    let ship_pallet = |owner: Option<&str>| Body::Ship {
        lines: Vec::new(),
        containers: vec![pallet.clone()],
        receiver: WHOLESALER.into(),
        documents: None,
        owner: owner.map(String::from),
    };
    assert_eq!(c.refused(LOGISTICS, ship_pallet(None)), RejectCode::OwnerMismatch);
    c.ok(LOGISTICS, ship_pallet(Some(MAKER)));
    c.ok(
        WHOLESALER,
        Body::Receive {
            lines: Vec::new(),
            refused: Vec::new(),
            over: Vec::new(),
            containers: vec![pallet.clone()],
            sender: LOGISTICS.into(),
        },
    );
    let record = c.ws.container(&pallet.element()).unwrap().clone();
    assert_eq!((record.holder.as_str(), record.owner.as_str()), (WHOLESALER, ""));
    c.ok(
        WHOLESALER,
        Body::Unpack {
            parent: pallet,
            lines: Vec::new(),
            containers: Vec::new(),
        },
    );
    assert_eq!(
        (c.pack("S2").holder.as_str(), c.pack("S2").owner.as_str()),
        (WHOLESALER, "")
    );
}

#[test]
fn packs_of_two_owners_do_not_share_a_container() {
    let mut c = Chain::new();
    // The 3PL holds S1 for the maker; the wholesaler's S2 also reaches the 3PL, held for the wholesaler.
    let ship = Chain::ship(&["S1"], LOGISTICS, None);
    c.ok(MAKER, ship);
    c.ok(LOGISTICS, Chain::receive(&["S1"], MAKER));
    let ship = Chain::ship(&["S2"], WHOLESALER, None);
    c.ok(MAKER, ship);
    c.ok(WHOLESALER, Chain::receive(&["S2"], MAKER));
    let ship = Chain::ship(&["S2"], LOGISTICS, None);
    c.ok(WHOLESALER, ship);
    c.ok(LOGISTICS, Chain::receive(&["S2"], WHOLESALER));
    assert_eq!(c.pack("S2").owner, WHOLESALER);
    let pallet = ContainerKey::Sscc(Sscc::parse("006141410000000012").unwrap());
    let mixed = Body::Pack {
        parent: pallet,
        lines: line(&["S1", "S2"]),
        containers: Vec::new(),
    };
    assert_eq!(c.refused(LOGISTICS, mixed), RejectCode::OwnerMismatch);
}

fn repackage(expiry: &str, sources: &[&str]) -> Body {
    Body::Commission {
        gtin: new_gtin(),
        lot: Lot::parse("R1").unwrap(),
        expiry: Expiry::parse(expiry).unwrap(),
        serials: serials(&["N1", "N2", "N3", "N4"]),
        sources: line(sources),
    }
}

fn to_repackager() -> Chain {
    let mut c = Chain::new();
    let ship = Chain::ship(&["S1", "S2"], REPACKAGER, None);
    c.ok(MAKER, ship);
    c.ok(REPACKAGER, Chain::receive(&["S1", "S2"], MAKER));
    c
}

#[test]
fn a_repackager_turns_the_packs_it_holds_into_new_packs_linked_to_them() {
    let mut c = to_repackager();
    c.ok(REPACKAGER, repackage("280500", &["S1", "S2"]));
    for s in ["S1", "S2"] {
        let source = c.pack(s);
        assert_eq!(source.status(), PackStatus::Decommissioned);
        assert_eq!(source.decommission_reason(), DecommissionReason::Repackaged);
    }
    let made =
        c.ws.get(&PackKey::new(&new_gtin(), &Serial::parse("N1").unwrap()))
            .unwrap()
            .clone();
    assert_eq!(made.holder, REPACKAGER);
    assert_eq!(made.status(), PackStatus::Active);
    assert_eq!(
        made.repackaged_by,
        c.pack("S1").last_event_id,
        "linked to the event that used the sources"
    );
    assert_eq!(c.ws.product(new_gtin().as_str()).unwrap().owner, REPACKAGER);
    // A repackaged source cannot be brought back: its contents live on in the new packs.
    let undo = Body::Undo {
        gtin: gtin(),
        serials: serials(&["S1"]),
    };
    assert_eq!(c.refused(REPACKAGER, undo), RejectCode::UndoNotAllowed);
}

#[test]
fn a_repackaging_is_refused_whole_for_a_later_expiry_or_a_source_not_held() {
    let mut c = to_repackager();
    assert_eq!(
        c.refused(REPACKAGER, repackage("280701", &["S1"])),
        RejectCode::ExpiryExtended
    );
    // S3 is still the maker's.
    assert_eq!(
        c.refused(REPACKAGER, repackage("280500", &["S1", "S3"])),
        RejectCode::NotHolder
    );
    assert_eq!(
        c.refused(REPACKAGER, repackage("280500", &["S1", "S9"])),
        RejectCode::UnknownPack
    );
    // The same expiry is allowed; a source cannot be used twice.
    c.ok(REPACKAGER, repackage("280630", &["S1"]));
    let mut again = repackage("280630", &["S1"]);
    if let Body::Commission { serials: made, .. } = &mut again {
        *made = serials(&["N9"]);
    }
    assert_eq!(c.refused(REPACKAGER, again), RejectCode::Decommissioned);
}

#[test]
fn an_over_delivery_is_recorded_and_moves_nothing() {
    let mut c = Chain::new();
    let ship = Chain::ship(&["S1"], WHOLESALER, None);
    c.ok(MAKER, ship);
    let before_s2 = c.pack("S2");
    // S2 (the maker's, never shipped) and S9 (never commissioned) arrived too.
    c.ok(
        WHOLESALER,
        Body::Receive {
            lines: line(&["S1"]),
            refused: Vec::new(),
            over: line(&["S2", "S9"]),
            containers: Vec::new(),
            sender: MAKER.into(),
        },
    );
    assert_eq!(c.pack("S1").holder, WHOLESALER);
    assert_eq!(c.pack("S2"), before_s2, "an over-delivered pack is not received");
    assert!(
        c.ws.get(&PackKey::new(&gtin(), &Serial::parse("S9").unwrap()))
            .is_none(),
        "nor created"
    );
}
