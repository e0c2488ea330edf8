//! Participants on the ledger: governance events change the registry, and every event is judged against the
//! registry as it stands at its own position in the chain (signature gate, block application and audit alike).

mod support;

use pedigree_core::audit::{AuditError, Auditor};
use pedigree_core::block::{BlockContent, Tip, seal};
use pedigree_core::body;
use pedigree_core::context::BlockContext;
use pedigree_core::envelope::{check_envelope, new_payload, sign_payload};
use pedigree_core::event::EventError;
use pedigree_core::governance::apply_governance;
use pedigree_core::keys::KeyPair;
use pedigree_core::pack_key::PackKey;
use pedigree_core::participant::{GOVERNANCE_ID, Genesis, ParticipantEntry, Registry, Role};
use pedigree_core::pb::{Block, ParticipantRole, RejectCode, SignedEnvelope, event_payload};
use pedigree_core::state::{WorkingSet, apply_event};

const GTIN: &str = "09506000134352";

struct World {
    sequencer: KeyPair,
    governance: KeyPair,
    mfr: KeyPair,
    genesis: Genesis,
}

fn world() -> World {
    let (sequencer, governance, mfr) = (KeyPair::generate(), KeyPair::generate(), KeyPair::generate());
    let genesis = Genesis {
        chain_name: "governance".into(),
        sequencer_public_key: sequencer.public().to_hex(),
        governance_public_key: Some(governance.public().to_hex()),
        participants: vec![ParticipantEntry {
            id: "mfr".into(),
            role: Role::Manufacturer,
            name: "Maker".into(),
            gln: None,
            public_key: mfr.public().to_hex(),
        }],
    };
    World {
        sequencer,
        governance,
        mfr,
        genesis,
    }
}

fn signed(w: &World, key: &KeyPair, signer: &str, body: event_payload::Body) -> SignedEnvelope {
    sign_payload(key, &new_payload(&w.genesis.chain_id().unwrap(), signer, body))
}

fn gov(w: &World, body: event_payload::Body) -> SignedEnvelope {
    signed(w, &w.governance, GOVERNANCE_ID, body)
}

fn register(w: &World, id: &str, role: ParticipantRole, key: &KeyPair) -> SignedEnvelope {
    gov(
        w,
        body::register_participant(id, role, "New Party", "0614141000005", &key.public()),
    )
}

/// Checks and applies `envelope` at `height` the way the sequencer does; the refusal code if refused.
fn step(
    registry: &mut Registry,
    ws: &mut WorkingSet,
    envelope: &SignedEnvelope,
    height: u64,
) -> Result<(), RejectCode> {
    let event = check_envelope(envelope, registry).map_err(|e| e.reject_code())?;
    for serial in event.body.serials() {
        let key = PackKey::new(event.body.gtin().unwrap(), serial);
        if !ws.is_loaded(&key) {
            ws.load(key, None);
        }
    }
    if let Some(gtin) = event.body.gtin()
        && ws.product(gtin.as_str()).is_none()
    {
        ws.load_product(gtin.as_str().into(), None);
    }
    support::registered_first(ws, &event, BlockContext::new(height, 1));
    apply_event(&event, BlockContext::new(height, 1), ws, registry).map_err(|r| r.code)
}

#[test]
fn a_registered_participant_signs_from_its_registration_on() {
    let w = world();
    let mut registry = Registry::from_genesis(&w.genesis).unwrap();
    let mut ws = WorkingSet::default();
    let newcomer = KeyPair::generate();
    let commission = signed(&w, &newcomer, "newco", body::commission(GTIN, "L1", "281231", &["A"]));
    assert_eq!(
        step(&mut registry, &mut ws, &commission, 1),
        Err(RejectCode::UnknownSigner)
    );
    let reg = register(&w, "newco", ParticipantRole::Manufacturer, &newcomer);
    assert_eq!(step(&mut registry, &mut ws, &reg, 2), Ok(()));
    assert_eq!(step(&mut registry, &mut ws, &commission, 2), Ok(()));
    let p = registry.get("newco").unwrap();
    assert_eq!(
        (p.role, p.key_since, p.gln.as_deref()),
        (Role::Manufacturer, 2, Some("0614141000005"))
    );
    assert_eq!(registry.take_changes().len(), 1);
    assert!(!registry.has_changes());
    // Ids are never reused.
    let again = register(&w, "newco", ParticipantRole::Pharmacy, &KeyPair::generate());
    assert_eq!(
        step(&mut registry, &mut ws, &again, 3),
        Err(RejectCode::ParticipantExists)
    );
    let mfr_again = register(&w, "mfr", ParticipantRole::Pharmacy, &KeyPair::generate());
    assert_eq!(
        step(&mut registry, &mut ws, &mfr_again, 3),
        Err(RejectCode::ParticipantExists)
    );
}

#[test]
fn a_rotated_out_key_is_refused_from_the_rotation_on() {
    let w = world();
    let mut registry = Registry::from_genesis(&w.genesis).unwrap();
    let mut ws = WorkingSet::default();
    let old = signed(&w, &w.mfr, "mfr", body::commission(GTIN, "L1", "281231", &["A"]));
    assert_eq!(step(&mut registry, &mut ws, &old, 1), Ok(()));
    let new_key = KeyPair::generate();
    assert_eq!(
        step(
            &mut registry,
            &mut ws,
            &gov(&w, body::rotate_key("mfr", &new_key.public())),
            5
        ),
        Ok(())
    );
    let stale = signed(&w, &w.mfr, "mfr", body::commission(GTIN, "L1", "281231", &["B"]));
    let err = check_envelope(&stale, &registry).unwrap_err();
    assert_eq!(
        err,
        EventError::RetiredKey {
            signer: "mfr".into(),
            until: 5
        }
    );
    assert!(err.to_string().contains("retired at height 5"), "{err}");
    let fresh = signed(&w, &new_key, "mfr", body::commission(GTIN, "L1", "281231", &["B"]));
    assert_eq!(step(&mut registry, &mut ws, &fresh, 6), Ok(()));
    // The old event still checks under the key history (what proof bundles use).
    let p = registry.get("mfr").unwrap();
    assert_eq!(p.keys().count(), 2);
    assert_eq!(p.retired_keys[0].until, 5);
    // Rotating back to a key used before is refused.
    let back = gov(&w, body::rotate_key("mfr", &w.mfr.public()));
    assert_eq!(step(&mut registry, &mut ws, &back, 7), Err(RejectCode::KeyReused));
    let unknown = gov(&w, body::rotate_key("nobody", &KeyPair::generate().public()));
    assert_eq!(
        step(&mut registry, &mut ws, &unknown, 7),
        Err(RejectCode::UnknownParticipant)
    );
}

#[test]
fn a_revoked_participant_neither_signs_nor_receives() {
    let w = world();
    let mut registry = Registry::from_genesis(&w.genesis).unwrap();
    let mut ws = WorkingSet::default();
    let pharmacy = KeyPair::generate();
    let reg = register(&w, "ph", ParticipantRole::Pharmacy, &pharmacy);
    assert_eq!(step(&mut registry, &mut ws, &reg, 1), Ok(()));
    let commission = signed(&w, &w.mfr, "mfr", body::commission(GTIN, "L1", "281231", &["A", "B"]));
    assert_eq!(step(&mut registry, &mut ws, &commission, 1), Ok(()));
    let ship_a = signed(&w, &w.mfr, "mfr", body::ship(GTIN, &["A"], "ph"));
    assert_eq!(step(&mut registry, &mut ws, &ship_a, 1), Ok(()));
    let revoke = gov(&w, body::revoke_participant("ph", "licence withdrawn"));
    assert_eq!(step(&mut registry, &mut ws, &revoke, 2), Ok(()));
    let receive = signed(&w, &pharmacy, "ph", body::receive(GTIN, &["A"], "mfr"));
    assert_eq!(
        step(&mut registry, &mut ws, &receive, 2),
        Err(RejectCode::ParticipantRevoked)
    );
    let ship_b = signed(&w, &w.mfr, "mfr", body::ship(GTIN, &["B"], "ph"));
    assert!(matches!(
        check_envelope(&ship_b, &registry),
        Err(EventError::RevokedCounterparty { height: 2, .. })
    ));
    assert_eq!(
        step(&mut registry, &mut ws, &revoke, 3),
        Err(RejectCode::ParticipantRevoked)
    );
    let p = registry.get("ph").unwrap();
    assert_eq!(p.revoked.as_ref().unwrap().reason, "licence withdrawn");
}

#[test]
fn only_the_governance_key_signs_registry_changes() {
    let w = world();
    let registry = Registry::from_genesis(&w.genesis).unwrap();
    let by_mfr = signed(
        &w,
        &w.mfr,
        "mfr",
        body::register_participant("x", ParticipantRole::Pharmacy, "X", "", &KeyPair::generate().public()),
    );
    assert!(matches!(
        check_envelope(&by_mfr, &registry),
        Err(EventError::RoleNotAllowed { .. })
    ));
    let forged = signed(&w, &w.mfr, GOVERNANCE_ID, body::revoke_participant("mfr", "forged"));
    assert!(matches!(
        check_envelope(&forged, &registry),
        Err(EventError::Signature(_))
    ));
    let gov_commission = gov(&w, body::commission(GTIN, "L1", "281231", &["A"]));
    assert!(matches!(
        check_envelope(&gov_commission, &registry),
        Err(EventError::RoleNotAllowed { .. })
    ));
    // Without a governance key in the genesis the registry is fixed.
    let mut fixed = w.genesis.clone();
    fixed.governance_public_key = None;
    let fixed = Registry::from_genesis(&fixed).unwrap();
    let reg = register(&w, "x", ParticipantRole::Pharmacy, &KeyPair::generate());
    assert!(matches!(
        check_envelope(&reg, &fixed),
        Err(EventError::UnknownSigner(_))
    ));
}

#[test]
fn malformed_registrations_are_refused_with_the_field() {
    let w = world();
    let registry = Registry::from_genesis(&w.genesis).unwrap();
    let key = KeyPair::generate().public();
    let cases = [
        (
            body::register_participant("Bad Id", ParticipantRole::Pharmacy, "X", "", &key),
            "id",
        ),
        (
            body::register_participant(GOVERNANCE_ID, ParticipantRole::Pharmacy, "X", "", &key),
            "id",
        ),
        (
            body::register_participant("x", ParticipantRole::Unspecified, "X", "", &key),
            "role",
        ),
        (
            body::register_participant("x", ParticipantRole::Pharmacy, "", "", &key),
            "name",
        ),
        (
            body::register_participant("x", ParticipantRole::Pharmacy, "X", "0614141000006", &key),
            "gln",
        ),
        (body::revoke_participant("x", ""), "reason"),
    ];
    for (body, field) in cases {
        let err = check_envelope(&gov(&w, body), &registry).unwrap_err();
        assert!(err.to_string().starts_with(field), "{field}: {err}");
    }
    let mut bad_key = body::rotate_key("mfr", &key);
    if let event_payload::Body::RotateKey(r) = &mut bad_key {
        r.public_key = vec![2; 10];
    }
    let err = check_envelope(&gov(&w, bad_key), &registry).unwrap_err();
    assert!(err.to_string().starts_with("public_key"), "{err}");
}

#[test]
fn stored_records_rebuild_the_same_registry() {
    let w = world();
    let mut registry = Registry::from_genesis(&w.genesis).unwrap();
    let mut ws = WorkingSet::default();
    for (i, envelope) in [
        register(&w, "ph", ParticipantRole::Pharmacy, &KeyPair::generate()),
        gov(&w, body::rotate_key("ph", &KeyPair::generate().public())),
        gov(&w, body::rotate_key("mfr", &KeyPair::generate().public())),
        gov(&w, body::revoke_participant("ph", "closed")),
    ]
    .iter()
    .enumerate()
    {
        assert_eq!(step(&mut registry, &mut ws, envelope, i as u64 + 1), Ok(()));
    }
    let changes = registry.take_changes();
    assert_eq!(changes.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["ph", "mfr"]);
    let json: Vec<Vec<u8>> = changes.iter().map(|r| serde_json::to_vec(r).unwrap()).collect();
    let parsed: Vec<_> = json.iter().map(|j| Registry::parse_record(j).unwrap()).collect();
    let rebuilt = Registry::from_genesis(&w.genesis)
        .unwrap()
        .with_records(&parsed)
        .unwrap();
    assert_eq!(rebuilt.records(), registry.records());
}

#[test]
fn governance_events_outside_the_registry_change_nothing() {
    let w = world();
    let mut registry = Registry::from_genesis(&w.genesis).unwrap();
    let event = check_envelope(&signed(&w, &w.mfr, "mfr", body::withdraw(GTIN)), &registry).unwrap();
    assert_eq!(apply_governance(&event, BlockContext::new(1, 1), &mut registry), Ok(()));
    assert!(!registry.has_changes());
}

/// A block of `events` on `tip`; `registry` is the registry before it, and after it on return.
fn block(w: &World, tip: &Tip, registry: &mut Registry, events: Vec<SignedEnvelope>) -> (Block, Tip) {
    let at = BlockContext::new(tip.height + 1, 1_795_000_000_000);
    if let Some(after) = pedigree_core::governance::fold_governance(registry, at, &events).expect("the events apply") {
        *registry = after;
    }
    let content = BlockContent {
        registry_root: registry.root(),
        events,
        rejected: vec![],
        resume_offsets: vec![],
        // 2026-11-24: before the packs' expiry, which is judged against block time.
        time_ms: 1_795_000_000_000,
        epoch: 1,
    };
    seal(&w.sequencer, tip, content)
}

#[test]
fn the_audit_folds_the_registry_and_catches_a_retired_key() {
    let w = world();
    let newcomer = KeyPair::generate();
    let new_key = KeyPair::generate();
    let mut folded = Registry::from_genesis(&w.genesis).unwrap();
    let (b1, t1) = block(
        &w,
        &Tip::genesis(w.genesis.chain_id().unwrap()),
        &mut folded,
        vec![
            register(&w, "ph", ParticipantRole::Pharmacy, &newcomer),
            gov(&w, body::attest_prefixes("mfr", &["9506000"])),
            signed(
                &w,
                &w.mfr,
                "mfr",
                body::register_product(GTIN, "Paracetamol", "500 mg", "tablet", 20),
            ),
            signed(&w, &w.mfr, "mfr", body::commission(GTIN, "L1", "281231", &["A"])),
            signed(&w, &w.mfr, "mfr", body::ship(GTIN, &["A"], "ph")),
        ],
    );
    let (b2, t2) = block(
        &w,
        &t1,
        &mut folded,
        vec![
            signed(&w, &newcomer, "ph", body::receive(GTIN, &["A"], "mfr")),
            gov(&w, body::rotate_key("ph", &new_key.public())),
            signed(&w, &new_key, "ph", body::dispense(GTIN, &["A"])),
        ],
    );
    let mut auditor = Auditor::new(Registry::from_genesis(&w.genesis).unwrap());
    auditor.check(0, &b1).unwrap();
    auditor.check(1, &b2).unwrap();
    assert_eq!(auditor.registry().get("ph").unwrap().key, new_key.public());
    // A sequencer that sealed an event signed with the retired key is caught.
    let (b3, _) = block(
        &w,
        &t2,
        &mut folded,
        vec![signed(&w, &newcomer, "ph", body::undo(GTIN, &["A"]))],
    );
    let err = auditor.check(2, &b3).unwrap_err();
    assert!(
        matches!(
            &err,
            AuditError::Event {
                height: 3,
                source: EventError::RetiredKey { until: 2, .. },
                ..
            }
        ),
        "{err}"
    );
}

/// The sequencer key rotates by a governance event: the block sealing it is the old key's, every later one the new
/// key's (the audit refuses a later block the old key signed, and names it), and a key that is or was any key of the
/// chain is never taken.
#[test]
fn the_sequencer_key_rotates_from_the_next_block_and_is_never_reused() {
    let w = world();
    let genesis = Registry::from_genesis(&w.genesis).unwrap();
    let next = KeyPair::generate();
    let mut registry = genesis.clone();
    let mut ws = WorkingSet::default();
    // Refused: the governance key, a participant's key, the current sequencer key.
    for reused in [&w.governance, &w.mfr, &w.sequencer] {
        let e = gov(&w, body::rotate_sequencer_key(&reused.public()));
        assert_eq!(step(&mut registry, &mut ws, &e, 1), Err(RejectCode::KeyReused));
    }
    assert!(!registry.has_changes());
    // Accepted at height 1: block 2 is the new key's.
    let rotate = gov(&w, body::rotate_sequencer_key(&next.public()));
    assert_eq!(step(&mut registry, &mut ws, &rotate, 1), Ok(()));
    assert_eq!(registry.sequencer_key(), next.public());
    assert_eq!(registry.sequencer_keys().key_at(1), &w.sequencer.public());
    assert_eq!(registry.sequencer_keys().key_at(2), &next.public());
    assert_ne!(
        registry.root(),
        genesis.root(),
        "the schedule is in the registry root once rotated"
    );
    assert_eq!(registry.take_sequencer_change().map(|r| r.len()), Some(2));
    // The old key can be given back to nobody: not to the sequencer, not to a new participant.
    let back = gov(&w, body::rotate_sequencer_key(&w.sequencer.public()));
    assert_eq!(step(&mut registry, &mut ws, &back, 2), Err(RejectCode::KeyReused));
    let newcomer = register(&w, "newcomer", ParticipantRole::Pharmacy, &w.sequencer);
    assert_eq!(step(&mut registry, &mut ws, &newcomer, 2), Err(RejectCode::KeyReused));
    // Stored records carry the schedule: the registry rebuilt from them is the same, root included.
    let rebuilt = genesis
        .clone()
        .with_records(&registry.records())
        .unwrap()
        .with_sequencer_keys(&registry.sequencer_keys().records())
        .unwrap();
    assert_eq!(rebuilt.root(), registry.root());
    assert_eq!(rebuilt.sequencer_key(), next.public());

    // The audit: block 1 (the rotation) by the old key, block 2 by the new key; a block 2 by the old key fails.
    let mut sealed = genesis.clone();
    let origin = Tip::genesis(w.genesis.chain_id().unwrap());
    let rotate = gov(&w, body::rotate_sequencer_key(&next.public()));
    let (b1, t1) = block(&w, &origin, &mut sealed, vec![rotate]);
    let content = || BlockContent {
        registry_root: sealed.root(),
        events: vec![],
        rejected: vec![],
        resume_offsets: vec![],
        time_ms: 1_795_000_000_000,
        epoch: 1,
    };
    let (by_old, _) = seal(&w.sequencer, &t1, content());
    let (by_new, _) = seal(&next, &t1, content());
    let mut auditor = Auditor::new(genesis.clone());
    auditor.check(0, &b1).expect("the rotation block audits");
    assert!(matches!(auditor.check(1, &by_old), Err(AuditError::Block { .. })));
    let mut auditor = Auditor::new(genesis);
    auditor.check(0, &b1).unwrap();
    auditor.check(1, &by_new).expect("the new key's block audits");
    // A competitor for height 1 sealed later by the old key (an honest race) is stale, not a forgery.
    let (late, _) = seal(
        &w.sequencer,
        &origin,
        BlockContent {
            registry_root: genesis_root(&w),
            ..content()
        },
    );
    auditor
        .check(2, &late)
        .expect("a competitor of the old key's height is stale");
    assert_eq!(auditor.progress().stale, 1);
}

fn genesis_root(w: &World) -> [u8; 32] {
    Registry::from_genesis(&w.genesis).unwrap().root()
}
