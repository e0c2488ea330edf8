//! Suspect product: a holder quarantines a pack; only the product's owner or an authority clears it or declares it
//! illegitimate; a quarantined or illegitimate pack neither moves nor is dispensed, and can still be destroyed;
//! illegitimate is final. Scans say SUSPECT and ILLEGITIMATE.

mod support;

use pedigree_core::context::BlockContext;
use pedigree_core::event::{Body, Event, Line};
use pedigree_core::gs1::{Expiry, Gtin, Lot, Serial, parse_element_string};
use pedigree_core::pack_key::PackKey;
use pedigree_core::participant::Role;
use pedigree_core::pb::{DecommissionReason, PackRecord, RejectCode, SuspectState, Verdict};
use pedigree_core::state::{WorkingSet, apply};
use pedigree_core::verdict::{Lookup, verdict};

/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600_000;
const MAKER: &str = "acme";
const PHARMACY: &str = "city";
const AUTHORITY: &str = "agency";
const RIVAL: &str = "rival";

fn gtin() -> Gtin {
    Gtin::parse("09506000134352").unwrap()
}

fn serials(names: &[&str]) -> Vec<Serial> {
    names.iter().map(|s| Serial::parse(s).unwrap()).collect()
}

fn role_of(signer: &str) -> Role {
    match signer {
        MAKER | RIVAL => Role::Manufacturer,
        PHARMACY => Role::Pharmacy,
        AUTHORITY => Role::Authority,
        _ => Role::Distributor,
    }
}

struct Chain {
    ws: WorkingSet,
    n: u64,
}

impl Chain {
    /// S1..S3 commissioned by acme, shipped to the pharmacy and received there.
    fn new() -> Self {
        let mut c = Chain {
            ws: WorkingSet::default(),
            n: 0,
        };
        let names = ["S1", "S2", "S3"];
        c.ok(
            MAKER,
            Body::Commission {
                gtin: gtin(),
                lot: Lot::parse("L1").unwrap(),
                expiry: Expiry::parse("281231").unwrap(),
                serials: serials(&names),
                sources: Vec::new(),
            },
        );
        c.ok(
            MAKER,
            Body::Ship {
                lines: vec![Line {
                    gtin: gtin(),
                    serials: serials(&names),
                }],
                containers: Vec::new(),
                receiver: PHARMACY.into(),
                documents: None,
                owner: None,
            },
        );
        c.ok(
            PHARMACY,
            Body::Receive {
                lines: vec![Line {
                    gtin: gtin(),
                    serials: serials(&names),
                }],
                refused: Vec::new(),
                over: Vec::new(),
                containers: Vec::new(),
                sender: MAKER.into(),
            },
        );
        c
    }

    fn apply(&mut self, signer: &str, body: Body) -> Result<(), RejectCode> {
        self.n += 1;
        let event = Event {
            id: [self.n as u8; 32],
            signer: signer.into(),
            signer_role: role_of(signer),
            timestamp_ms: 0,
            chain_id: [0; 32],
            body,
        };
        let at = BlockContext::new(self.n, T0);
        let needs = self.ws.needs(&event);
        needs.packs.into_iter().for_each(|k| self.ws.load(k, None));
        needs.products.into_iter().for_each(|g| self.ws.load_product(g, None));
        support::registered_first(&mut self.ws, &event, at);
        let before = self.ws.clone();
        apply(&event, at, &mut self.ws).map_err(|r| {
            assert_eq!(self.ws, before, "a refused event changed state");
            r.code
        })
    }

    fn ok(&mut self, signer: &str, body: Body) {
        self.apply(signer, body).unwrap_or_else(|c| panic!("refused: {c:?}"));
    }

    fn pack(&self, serial: &str) -> PackRecord {
        self.ws
            .get(&PackKey::new(&gtin(), &Serial::parse(serial).unwrap()))
            .unwrap()
            .clone()
    }

    fn scan(&self, serial: &str) -> Verdict {
        let code = parse_element_string(&format!("01{}21{serial}", gtin().as_str())).unwrap();
        let pack = self.pack(serial);
        let lookup = Lookup {
            product: self.ws.product(gtin().as_str()),
            pack: Some(&pack),
        };
        verdict(
            &code,
            &lookup,
            pedigree_core::gs1::Date::from_unix_days(T0 / 86_400_000),
        )
    }
}

fn quarantine(names: &[&str]) -> Body {
    Body::Quarantine {
        gtin: gtin(),
        serials: serials(names),
        reason: "seal broken".into(),
    }
}

fn clear(names: &[&str]) -> Body {
    Body::ClearSuspect {
        gtin: gtin(),
        serials: serials(names),
        finding: "genuine, damaged in transit".into(),
    }
}

fn illegitimate(names: &[&str]) -> Body {
    Body::DeclareIllegitimate {
        gtin: gtin(),
        serials: serials(names),
        reason: "counterfeit".into(),
    }
}

fn dispense(names: &[&str]) -> Body {
    Body::Dispense {
        gtin: gtin(),
        serials: serials(names),
    }
}

fn destroy(names: &[&str]) -> Body {
    Body::Decommission {
        gtin: gtin(),
        serials: serials(names),
        reason: DecommissionReason::Destroyed,
    }
}

#[test]
fn only_the_holder_quarantines_and_a_quarantined_pack_is_not_supplied() {
    let mut c = Chain::new();
    assert_eq!(c.apply(MAKER, quarantine(&["S1"])), Err(RejectCode::NotHolder));
    c.ok(PHARMACY, quarantine(&["S1"]));
    assert_eq!(c.pack("S1").suspect(), SuspectState::Quarantined);
    assert_eq!(c.scan("S1"), Verdict::Suspect);
    assert_eq!(c.apply(PHARMACY, quarantine(&["S1"])), Err(RejectCode::Suspect));
    assert_eq!(c.apply(PHARMACY, dispense(&["S1"])), Err(RejectCode::Suspect));
    // Refused whole: S2 is not dispensed either.
    assert_eq!(c.apply(PHARMACY, dispense(&["S2", "S1"])), Err(RejectCode::Suspect));
    let back = Body::Return {
        gtin: gtin(),
        serials: serials(&["S1"]),
        receiver: MAKER.into(),
    };
    assert_eq!(c.apply(PHARMACY, back), Err(RejectCode::Suspect));
    let sample = Body::Decommission {
        gtin: gtin(),
        serials: serials(&["S1"]),
        reason: DecommissionReason::Sample,
    };
    assert_eq!(c.apply(PHARMACY, sample), Err(RejectCode::Suspect));
    c.ok(PHARMACY, dispense(&["S2"]));
}

#[test]
fn the_owner_or_an_authority_clears_a_suspect_pack_and_nobody_else() {
    let mut c = Chain::new();
    assert_eq!(c.apply(MAKER, clear(&["S1"])), Err(RejectCode::NotSuspect));
    c.ok(PHARMACY, quarantine(&["S1", "S2"]));
    // The pharmacy may not sign a clearance at all (the envelope gate); past it, only the owner or an authority.
    assert_eq!(c.apply(RIVAL, clear(&["S1"])), Err(RejectCode::NotProductOwner));
    c.ok(MAKER, clear(&["S1"]));
    c.ok(AUTHORITY, clear(&["S2"]));
    assert_eq!(c.pack("S1").suspect(), SuspectState::Unspecified);
    assert_eq!(c.scan("S1"), Verdict::Verified);
    c.ok(PHARMACY, dispense(&["S1", "S2"]));
}

#[test]
fn an_illegitimate_pack_can_only_be_destroyed_and_stays_illegitimate() {
    let mut c = Chain::new();
    c.ok(PHARMACY, quarantine(&["S1"]));
    assert_eq!(c.apply(RIVAL, illegitimate(&["S1"])), Err(RejectCode::NotProductOwner));
    c.ok(AUTHORITY, illegitimate(&["S1"]));
    // Without a quarantine first, too (evidence found elsewhere).
    c.ok(MAKER, illegitimate(&["S2"]));
    assert_eq!(c.scan("S1"), Verdict::Illegitimate);
    assert_eq!(c.apply(MAKER, clear(&["S1"])), Err(RejectCode::Illegitimate));
    assert_eq!(c.apply(AUTHORITY, illegitimate(&["S1"])), Err(RejectCode::Illegitimate));
    assert_eq!(c.apply(PHARMACY, quarantine(&["S1"])), Err(RejectCode::Illegitimate));
    assert_eq!(c.apply(PHARMACY, dispense(&["S1"])), Err(RejectCode::Illegitimate));
    let ship = Body::Ship {
        lines: vec![Line {
            gtin: gtin(),
            serials: serials(&["S2"]),
        }],
        containers: Vec::new(),
        receiver: MAKER.into(),
        documents: None,
        owner: None,
    };
    assert_eq!(c.apply(PHARMACY, ship), Err(RejectCode::Illegitimate));
    c.ok(PHARMACY, destroy(&["S1"]));
    // Destroyed, and still reported as illegitimate; the destruction is not undone.
    assert_eq!(c.scan("S1"), Verdict::Illegitimate);
    let undo = Body::Undo {
        gtin: gtin(),
        serials: serials(&["S1"]),
    };
    assert!(c.apply(PHARMACY, undo).is_err());
    assert_eq!(c.pack("S1").suspect(), SuspectState::Illegitimate);
}

#[test]
fn a_suspect_pack_goes_into_no_container() {
    let mut c = Chain::new();
    c.ok(PHARMACY, quarantine(&["S1"]));
    let pallet = pedigree_core::container::ContainerKey::parse_element("00106141411234567897").unwrap();
    let pack = Body::Pack {
        parent: pallet,
        lines: vec![Line {
            gtin: gtin(),
            serials: serials(&["S1"]),
        }],
        containers: Vec::new(),
    };
    let needs_container = {
        let mut probe = c.ws.clone();
        probe.load_container("00106141411234567897".into(), None);
        probe
    };
    c.ws = needs_container;
    assert_eq!(c.apply(PHARMACY, pack), Err(RejectCode::Suspect));
}
