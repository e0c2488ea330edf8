//! Aggregation (`Pack`, `Unpack`, containers shipped and received whole), rule by rule, then the hierarchy's
//! invariants checked over random sequences of events.
//!
//! Events are built directly (no signatures), as in `state_machine.rs`; the working set is loaded the way the
//! sequencer and the audit load it (`WorkingSet::needs` until nothing is missing), from an empty store.

mod support;

use pedigree_core::Hash;
use pedigree_core::container::ContainerKey;
use pedigree_core::context::BlockContext;
use pedigree_core::event::{Body, Event, Line};
use pedigree_core::gs1::{Expiry, Gtin, Lot, Serial, Sscc};
use pedigree_core::pack_key::PackKey;
use pedigree_core::participant::Role;
use pedigree_core::pb::{ContainerRecord, PackRecord, PackStatus, RejectCode};
use pedigree_core::state::{WorkingSet, apply};
use proptest::prelude::*;

const GTIN: &str = "09506000134352";
const CASE_GTIN: &str = "10950600013436";
const NOW_MS: i64 = 1_767_225_600_000;

fn gtin() -> Gtin {
    Gtin::parse(GTIN).unwrap()
}

/// SSCC number `n`: extension 0, company prefix 0614141, serial reference `n`, check digit computed.
fn sscc(n: u32) -> ContainerKey {
    ContainerKey::Sscc(Sscc::with_check_digit(&format!("00614141{n:09}")).unwrap())
}

fn case(serial: &str) -> ContainerKey {
    ContainerKey::Case {
        gtin: Gtin::parse(CASE_GTIN).unwrap(),
        serial: Serial::parse(serial).unwrap(),
    }
}

fn serial(n: usize) -> String {
    format!("S{n}")
}

fn serials(range: std::ops::Range<usize>) -> Vec<Serial> {
    range.map(|n| Serial::parse(&serial(n)).unwrap()).collect()
}

fn id(n: u64) -> Hash {
    let mut id = [0xCD; 32];
    id[..8].copy_from_slice(&n.to_be_bytes());
    id
}

fn event(n: u64, signer: &str, body: Body) -> Event {
    Event {
        id: id(n),
        signer: signer.to_string(),
        signer_role: Role::Distributor,
        timestamp_ms: 1_700_000_000_000 + n as i64,
        chain_id: [0; 32],
        body,
    }
}

fn lines(range: std::ops::Range<usize>) -> Vec<Line> {
    if range.is_empty() {
        return Vec::new();
    }
    vec![Line {
        gtin: gtin(),
        serials: serials(range),
    }]
}

fn pack(parent: &ContainerKey, packs: std::ops::Range<usize>, containers: &[ContainerKey]) -> Body {
    Body::Pack {
        parent: parent.clone(),
        lines: lines(packs),
        containers: containers.to_vec(),
    }
}

fn unpack(parent: &ContainerKey, packs: std::ops::Range<usize>, containers: &[ContainerKey]) -> Body {
    Body::Unpack {
        parent: parent.clone(),
        lines: lines(packs),
        containers: containers.to_vec(),
    }
}

fn ship(containers: &[ContainerKey], receiver: &str) -> Body {
    Body::Ship {
        lines: Vec::new(),
        containers: containers.to_vec(),
        receiver: receiver.into(),
        documents: None,
        owner: None,
    }
}

fn receive(containers: &[ContainerKey], sender: &str) -> Body {
    Body::Receive {
        lines: Vec::new(),
        refused: Vec::new(),
        over: Vec::new(),
        containers: containers.to_vec(),
        sender: sender.into(),
    }
}

/// The ledger under test: a working set over an empty store, and a counter for event ids and heights.
struct World {
    ws: WorkingSet,
    n: u64,
}

impl World {
    fn new() -> Self {
        Self {
            ws: WorkingSet::default(),
            n: 0,
        }
    }

    fn try_apply(&mut self, signer: &str, body: Body) -> Result<(), (RejectCode, String)> {
        self.n += 1;
        let event = event(self.n, signer, body);
        loop {
            let needs = self.ws.needs(&event);
            if needs.is_empty() {
                break;
            }
            needs.packs.into_iter().for_each(|k| self.ws.load(k, None));
            needs.products.into_iter().for_each(|g| self.ws.load_product(g, None));
            needs
                .containers
                .into_iter()
                .for_each(|c| self.ws.load_container(c, None));
        }
        let at = BlockContext::new(self.n, NOW_MS).at_index(0);
        support::registered_first(&mut self.ws, &event, at);
        let before = self.ws.clone();
        apply(&event, at, &mut self.ws).map_err(|r| {
            assert_eq!(self.ws, before, "a refused event changed nothing");
            (r.code, r.reason)
        })
    }

    fn ok(&mut self, signer: &str, body: Body) {
        if let Err((code, reason)) = self.try_apply(signer, body) {
            panic!("refused: {code:?} {reason}");
        }
    }

    fn refused(&mut self, signer: &str, body: Body, code: RejectCode) -> String {
        match self.try_apply(signer, body) {
            Ok(()) => panic!("accepted, expected {code:?}"),
            Err((got, reason)) => {
                assert_eq!(got, code, "{reason}");
                reason
            }
        }
    }

    fn commission(&mut self, signer: &str, range: std::ops::Range<usize>) {
        let body = Body::Commission {
            gtin: gtin(),
            lot: Lot::parse("L1").unwrap(),
            expiry: Expiry::parse("291231").unwrap(),
            serials: serials(range),
            sources: Vec::new(),
        };
        self.ok(signer, body);
    }

    fn pack(&self, n: usize) -> &PackRecord {
        self.ws
            .get(&PackKey::new(&gtin(), &Serial::parse(&serial(n)).unwrap()))
            .unwrap()
    }

    fn container(&self, key: &ContainerKey) -> &ContainerRecord {
        self.ws.container(&key.element()).unwrap()
    }

    /// (status, holder) of pack `n` as a verifier infers it: its outermost container's when it is in one.
    fn custody(&self, n: usize) -> (PackStatus, String) {
        let pack = self.pack(n);
        let mut parent = pack.parent.clone();
        let mut custody = (pack.status(), pack.holder.clone());
        while !parent.is_empty() {
            let c = self.ws.container(&parent).unwrap();
            custody = (c.status(), c.holder.clone());
            parent = c.parent.clone();
        }
        custody
    }
}

/// A manufacturer's pallet of `cases` cases of `per_case` packs, shipped to and received by `wholesaler`.
fn pallet_received(cases: usize, per_case: usize) -> (World, ContainerKey, Vec<ContainerKey>) {
    let mut w = World::new();
    w.commission("acme", 0..cases * per_case);
    let case_keys: Vec<ContainerKey> = (0..cases).map(|c| sscc(1000 + c as u32)).collect();
    for (c, key) in case_keys.iter().enumerate() {
        w.ok("acme", pack(key, c * per_case..(c + 1) * per_case, &[]));
    }
    let pallet = sscc(1);
    w.ok("acme", pack(&pallet, 0..0, &case_keys));
    w.ok("acme", ship(std::slice::from_ref(&pallet), "medline"));
    w.ok("medline", receive(std::slice::from_ref(&pallet), "acme"));
    (w, pallet, case_keys)
}

#[test]
fn a_pallet_of_48_cases_of_100_packs_is_received_in_one_event() {
    let (w, pallet, cases) = pallet_received(48, 100);
    assert_eq!(w.container(&pallet).containers.len(), 48);
    assert_eq!(w.container(&pallet).depth, 2);
    assert_eq!(w.container(&pallet).holder, "medline");
    assert_eq!(w.container(&pallet).received_from, "acme");
    for n in [0, 99, 100, 2345, 4799] {
        assert_eq!(w.custody(n), (PackStatus::Active, "medline".to_string()), "pack {n}");
        // The pack's own record keeps no custody while it is packed: its outermost container's is its.
        assert_eq!(w.pack(n).holder, "");
        assert_eq!(w.pack(n).parent, cases[n / 100].element());
    }
}

#[test]
fn while_in_transit_the_packs_inside_are_in_transit() {
    let mut w = World::new();
    w.commission("acme", 0..10);
    w.ok("acme", pack(&sscc(7), 0..10, &[]));
    w.ok("acme", ship(&[sscc(7)], "medline"));
    assert_eq!(w.custody(3), (PackStatus::InTransit, "acme".to_string()));
    w.refused("acme", pack(&sscc(7), 0..0, &[sscc(8)]), RejectCode::NotHolder);
    w.refused("bay", receive(&[sscc(7)], "acme"), RejectCode::WrongReceiver);
    w.refused("medline", receive(&[sscc(7)], "bay"), RejectCode::NotHolder);
    w.ok("medline", receive(&[sscc(7)], "acme"));
    w.refused("medline", receive(&[sscc(7)], "acme"), RejectCode::NotInTransit);
}

#[test]
fn a_pack_inside_a_container_moves_only_with_it() {
    let (mut w, pallet, cases) = pallet_received(2, 3);
    let one = |n: usize| Body::Ship {
        lines: vec![Line {
            gtin: gtin(),
            serials: serials(n..n + 1),
        }],
        containers: Vec::new(),
        receiver: "bay".into(),
        documents: None,
        owner: None,
    };
    let reason = w.refused("medline", one(4), RejectCode::InContainer);
    assert!(reason.contains(&cases[1].to_string()), "{reason}");
    let dispense = Body::Dispense {
        gtin: gtin(),
        serials: serials(0..1),
    };
    w.refused("medline", dispense, RejectCode::InContainer);
    // A case on the pallet does not ship alone either.
    w.refused("medline", ship(&cases[..1], "bay"), RejectCode::InContainer);
    w.ok("medline", ship(std::slice::from_ref(&pallet), "bay"));
}

#[test]
fn unpacking_hands_the_childrens_custody_to_the_holder_and_closes_an_emptied_container() {
    let (mut w, pallet, cases) = pallet_received(2, 3);
    // Only the holder unpacks.
    w.refused("acme", unpack(&pallet, 0..0, &[]), RejectCode::NotHolder);
    // A case on the pallet cannot be unpacked before the pallet.
    w.refused("medline", unpack(&cases[0], 0..0, &[]), RejectCode::InContainer);
    // Naming a child that is not there.
    w.refused(
        "medline",
        unpack(&pallet, 0..0, &[sscc(99)]),
        RejectCode::NotInContainer,
    );
    w.refused("medline", unpack(&pallet, 0..1, &[]), RejectCode::NotInContainer);
    w.ok("medline", unpack(&pallet, 0..0, &[cases[0].clone()]));
    assert!(!w.container(&pallet).closed);
    assert_eq!(w.container(&cases[0]).holder, "medline");
    assert!(w.container(&cases[0]).parent.is_empty());
    // Everything left.
    w.ok("medline", unpack(&pallet, 0..0, &[]));
    assert!(w.container(&pallet).closed);
    w.refused(
        "medline",
        pack(&pallet, 0..0, &[cases[0].clone()]),
        RejectCode::ContainerClosed,
    );
    w.refused(
        "medline",
        ship(std::slice::from_ref(&pallet), "bay"),
        RejectCode::ContainerClosed,
    );
    // Packs out of a case: active, held by the unpacker, received from where the case came from.
    w.ok("medline", unpack(&cases[0], 1..2, &[]));
    let freed = w.pack(1);
    assert_eq!(
        (
            freed.status(),
            freed.holder.as_str(),
            freed.received_from.as_str(),
            freed.parent.as_str()
        ),
        (PackStatus::Active, "medline", "acme", "")
    );
    assert_eq!(w.custody(0), (PackStatus::Active, "medline".to_string()));
    // It moves alone now, and the packs still in the case do not.
    let ship_one = |n: usize| Body::Ship {
        lines: vec![Line {
            gtin: gtin(),
            serials: serials(n..n + 1),
        }],
        containers: Vec::new(),
        receiver: "bay".into(),
        documents: None,
        owner: None,
    };
    w.ok("medline", ship_one(1));
    w.refused("medline", ship_one(0), RejectCode::InContainer);
}

#[test]
fn only_what_the_signer_holds_goes_into_a_container() {
    let mut w = World::new();
    w.commission("acme", 0..4);
    w.refused("medline", pack(&sscc(1), 0..2, &[]), RejectCode::NotHolder);
    w.refused("acme", pack(&sscc(1), 3..5, &[]), RejectCode::UnknownPack);
    w.refused("acme", pack(&sscc(1), 0..0, &[sscc(2)]), RejectCode::UnknownContainer);
    w.ok("acme", pack(&sscc(1), 0..2, &[]));
    let reason = w.refused("acme", pack(&sscc(2), 1..3, &[]), RejectCode::InContainer);
    assert!(reason.contains("already inside container (00)"), "{reason}");
    // Someone else's container cannot be packed into.
    w.ok("acme", ship(&[sscc(1)], "medline"));
    w.ok("medline", receive(&[sscc(1)], "acme"));
    w.refused("acme", pack(&sscc(1), 2..3, &[]), RejectCode::NotHolder);
}

#[test]
fn a_shipment_sent_to_the_wrong_party_is_voided_by_its_sender() {
    let mut w = World::new();
    w.commission("acme", 0..4);
    w.ok("acme", pack(&sscc(1), 0..2, &[]));
    let ship_all = Body::Ship {
        lines: vec![Line {
            gtin: gtin(),
            serials: serials(2..4),
        }],
        containers: vec![sscc(1)],
        receiver: "bay".into(),
        documents: None,
        owner: None,
    };
    w.ok("acme", ship_all);
    let void = |receiver: &str| Body::VoidShipment {
        gtin: Some(gtin()),
        serials: serials(2..4),
        containers: vec![sscc(1)],
        receiver: receiver.into(),
    };
    // Only the sender, naming the receiver the shipment named.
    w.refused("bay", void("bay"), RejectCode::NotHolder);
    w.refused("acme", void("medline"), RejectCode::WrongReceiver);
    w.ok("acme", void("bay"));
    assert_eq!(w.custody(0), (PackStatus::Active, "acme".to_string()));
    assert_eq!(w.custody(3), (PackStatus::Active, "acme".to_string()));
    assert!(w.pack(3).receiver.is_empty());
    // Nothing left in transit to void, nothing for the wrong receiver to receive.
    w.refused("acme", void("bay"), RejectCode::NotInTransit);
    w.refused("bay", receive(&[sscc(1)], "acme"), RejectCode::NotInTransit);
    // And it ships again, to the right party.
    w.ok("acme", ship(&[sscc(1)], "medline"));
    w.ok("medline", receive(&[sscc(1)], "acme"));
}

const OTHER_GTIN: &str = "04012345678901";

fn other_gtin() -> Gtin {
    Gtin::parse(OTHER_GTIN).unwrap()
}

#[test]
fn a_shipment_of_several_products_is_received_short_with_a_refused_line() {
    let mut w = World::new();
    w.commission("acme", 0..6);
    let other = Body::Commission {
        gtin: other_gtin(),
        lot: Lot::parse("L2").unwrap(),
        expiry: Expiry::parse("291231").unwrap(),
        serials: serials(0..2),
        sources: Vec::new(),
    };
    w.ok("acme", other);
    let ship = Body::Ship {
        lines: vec![
            Line {
                gtin: gtin(),
                serials: serials(0..6),
            },
            Line {
                gtin: other_gtin(),
                serials: serials(0..2),
            },
        ],
        containers: Vec::new(),
        receiver: "medline".into(),
        documents: None,
        owner: None,
    };
    w.ok("acme", ship);
    // Four received, one refused (damaged), one not there (short); the other product's line refused whole.
    let receive = Body::Receive {
        over: Vec::new(),
        lines: vec![Line {
            gtin: gtin(),
            serials: serials(0..4),
        }],
        refused: vec![
            Line {
                gtin: gtin(),
                serials: serials(4..5),
            },
            Line {
                gtin: other_gtin(),
                serials: serials(0..2),
            },
        ],
        containers: Vec::new(),
        sender: "acme".into(),
    };
    w.ok("medline", receive);
    assert_eq!(w.custody(0), (PackStatus::Active, "medline".to_string()));
    assert_eq!(
        w.custody(4),
        (PackStatus::Active, "acme".to_string()),
        "refused: back with the sender"
    );
    assert_eq!(
        w.custody(5),
        (PackStatus::InTransit, "acme".to_string()),
        "short: still in transit"
    );
    let back =
        w.ws.get(&PackKey::new(&other_gtin(), &Serial::parse(&serial(1)).unwrap()))
            .unwrap();
    assert_eq!((back.status(), back.holder.as_str()), (PackStatus::Active, "acme"));
    // Refusing what was not shipped to you is refused, and changes nothing.
    let again = Body::Receive {
        over: Vec::new(),
        lines: Vec::new(),
        refused: vec![Line {
            gtin: gtin(),
            serials: serials(0..1),
        }],
        containers: Vec::new(),
        sender: "acme".into(),
    };
    w.refused("medline", again, RejectCode::NotInTransit);
}

#[test]
fn nesting_is_bounded() {
    let mut w = World::new();
    w.commission("acme", 0..1);
    w.ok("acme", pack(&sscc(1), 0..1, &[]));
    for level in 2..=4 {
        w.ok("acme", pack(&sscc(level), 0..0, &[sscc(level - 1)]));
        assert_eq!(w.container(&sscc(level)).depth, level);
    }
    let reason = w.refused("acme", pack(&sscc(5), 0..0, &[sscc(4)]), RejectCode::Nesting);
    assert!(reason.contains("5 levels"), "{reason}");
}

#[test]
fn case_ids_use_case_level_gtins_only() {
    let mut w = World::new();
    w.commission("acme", 0..2);
    // A case id under the packs' own GTIN.
    let clash = ContainerKey::Case {
        gtin: gtin(),
        serial: Serial::parse("C1").unwrap(),
    };
    w.refused("acme", pack(&clash, 0..1, &[]), RejectCode::CaseGtin);
    w.ok("acme", pack(&case("C1"), 0..1, &[]));
    assert!(w.ws.product(CASE_GTIN).unwrap().case_level);
    // And nobody commissions packs under a case-level GTIN afterwards.
    let body = Body::Commission {
        gtin: Gtin::parse(CASE_GTIN).unwrap(),
        lot: Lot::parse("L1").unwrap(),
        expiry: Expiry::parse("291231").unwrap(),
        serials: serials(0..1),
        sources: Vec::new(),
    };
    w.refused("acme", body, RejectCode::CaseGtin);
    w.ok("acme", pack(&case("C2"), 1..2, &[]));
}

#[test]
fn an_event_refused_on_its_last_child_changes_nothing() {
    let mut w = World::new();
    w.commission("acme", 0..6);
    let away = Body::Ship {
        lines: vec![Line {
            gtin: gtin(),
            serials: serials(5..6),
        }],
        containers: Vec::new(),
        receiver: "medline".into(),
        documents: None,
        owner: None,
    };
    w.ok("acme", away);
    // `World::try_apply` asserts that the working set is unchanged by a refusal.
    w.refused("acme", pack(&sscc(1), 0..6, &[]), RejectCode::NotHolder);
    assert!(w.ws.container(&sscc(1).element()).is_none());
    assert!(w.pack(0).parent.is_empty());
}

/// One step of a random sequence.
#[derive(Clone, Debug)]
enum Op {
    Pack {
        signer: usize,
        parent: u32,
        packs: Vec<usize>,
        containers: Vec<u32>,
    },
    Unpack {
        signer: usize,
        parent: u32,
        packs: Vec<usize>,
        containers: Vec<u32>,
    },
    Ship {
        signer: usize,
        containers: Vec<u32>,
        to: usize,
    },
    Receive {
        signer: usize,
        containers: Vec<u32>,
        from: usize,
    },
}

const PEOPLE: [&str; 2] = ["acme", "medline"];
const PACKS: usize = 8;
const CONTAINERS: u32 = 4;

fn subset<T: std::fmt::Debug + Clone + 'static>(items: Vec<T>) -> impl Strategy<Value = Vec<T>> + Clone {
    let len = items.len();
    proptest::sample::subsequence(items, 0..=len)
}

fn op() -> impl Strategy<Value = Op> {
    let people = 0..PEOPLE.len();
    let parent = 0..CONTAINERS;
    let packs = subset((0..PACKS).collect());
    let containers = subset((0..CONTAINERS).collect());
    prop_oneof![
        (people.clone(), parent.clone(), packs.clone(), containers.clone()).prop_map(
            |(signer, parent, packs, containers)| Op::Pack {
                signer,
                parent,
                packs,
                containers
            }
        ),
        (people.clone(), parent, packs, containers.clone()).prop_map(|(signer, parent, packs, containers)| {
            Op::Unpack {
                signer,
                parent,
                packs,
                containers,
            }
        }),
        (people.clone(), containers.clone(), people.clone()).prop_map(|(signer, containers, to)| Op::Ship {
            signer,
            containers,
            to
        }),
        (people.clone(), containers, people).prop_map(|(signer, containers, from)| Op::Receive {
            signer,
            containers,
            from
        }),
    ]
}

fn keys(containers: &[u32]) -> Vec<ContainerKey> {
    containers.iter().map(|c| sscc(*c)).collect()
}

fn pack_lines(packs: &[usize]) -> Vec<Line> {
    if packs.is_empty() {
        return Vec::new();
    }
    vec![Line {
        gtin: gtin(),
        serials: packs.iter().map(|n| Serial::parse(&serial(*n)).unwrap()).collect(),
    }]
}

fn body(op: &Op) -> (usize, Option<Body>) {
    match op.clone() {
        Op::Pack {
            signer,
            parent,
            packs,
            containers,
        } => {
            let containers: Vec<u32> = containers.into_iter().filter(|c| *c != parent).collect();
            if packs.is_empty() && containers.is_empty() {
                return (signer, None);
            }
            let body = Body::Pack {
                parent: sscc(parent),
                lines: pack_lines(&packs),
                containers: keys(&containers),
            };
            (signer, Some(body))
        }
        Op::Unpack {
            signer,
            parent,
            packs,
            containers,
        } => {
            let containers: Vec<u32> = containers.into_iter().filter(|c| *c != parent).collect();
            let body = Body::Unpack {
                parent: sscc(parent),
                lines: pack_lines(&packs),
                containers: keys(&containers),
            };
            (signer, Some(body))
        }
        Op::Ship { signer, containers, to } if signer != to && !containers.is_empty() => {
            (signer, Some(ship(&keys(&containers), PEOPLE[to])))
        }
        Op::Receive {
            signer,
            containers,
            from,
        } if signer != from && !containers.is_empty() => (signer, Some(receive(&keys(&containers), PEOPLE[from]))),
        Op::Ship { signer, .. } | Op::Receive { signer, .. } => (signer, None),
    }
}

/// The hierarchy is a forest whose edges both ends agree on; custody is only ever in an outermost container.
fn check_hierarchy(w: &World) {
    for n in 0..PACKS {
        let pack = w.pack(n);
        if !pack.parent.is_empty() {
            let parent = w.ws.container(&pack.parent).expect("a pack's parent exists");
            let key = PackKey::new(&gtin(), &Serial::parse(&serial(n)).unwrap());
            assert_eq!(
                parent.packs.iter().filter(|k| **k == key.as_str()).count(),
                1,
                "pack {n} listed once"
            );
            assert!(!parent.closed);
        }
    }
    for c in 0..CONTAINERS {
        let Some(record) = w.ws.container(&sscc(c).element()) else {
            continue;
        };
        for child in &record.packs {
            let key = PackKey::parse(child).unwrap();
            assert_eq!(w.ws.get(&key).unwrap().parent, sscc(c).element());
        }
        for child in &record.containers {
            assert_eq!(w.ws.container(child).unwrap().parent, sscc(c).element());
        }
        assert_eq!(
            record.closed,
            record.packs.is_empty() && record.containers.is_empty() && record.closed
        );
        // Acyclic and bounded: following parents ends within the depth limit.
        let mut parent = record.parent.clone();
        let mut steps = 0;
        while !parent.is_empty() {
            steps += 1;
            assert!(steps <= pedigree_core::container::MAX_DEPTH, "cycle or too deep at {c}");
            parent = w.ws.container(&parent).unwrap().parent.clone();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_hierarchy_stays_a_consistent_forest(ops in proptest::collection::vec(op(), 1..40)) {
        let mut w = World::new();
        w.commission("acme", 0..PACKS);
        for op in &ops {
            let (signer, body) = body(op);
            if let Some(body) = body {
                let _ = w.try_apply(PEOPLE[signer], body);
            }
            check_hierarchy(&w);
        }
    }
}
