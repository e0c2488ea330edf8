//! Product master data: governance attests GS1 company prefixes, the owner of a prefix registers the products under
//! it, packs are commissioned only for a registered product by its owner, and a product changes owner only with the
//! new owner's consent. Judged as the sequencer judges: the envelope gate against the registry at the event's
//! position, then the state machine.

use pedigree_core::body;
use pedigree_core::context::BlockContext;
use pedigree_core::envelope::{check_envelope, new_payload, sign_payload};
use pedigree_core::keys::KeyPair;
use pedigree_core::pack_key::PackKey;
use pedigree_core::participant::{GOVERNANCE_ID, Genesis, ParticipantEntry, Registry, Role};
use pedigree_core::pb::{RejectCode, SignedEnvelope, event_payload};
use pedigree_core::registry_root::{RegistryRecord, participant_at, record_bytes};
use pedigree_core::state::{WorkingSet, apply_event};

/// Under GS1's example prefix 9506000.
const GTIN: &str = "09506000134352";
/// Under 9506001, which nobody holds at first.
const OTHER_GTIN: &str = "09506001000014";

struct World {
    governance: KeyPair,
    keys: Vec<(&'static str, KeyPair)>,
    chain_id: pedigree_core::Hash,
    registry: Registry,
    ws: WorkingSet,
    height: u64,
}

impl World {
    fn new() -> Self {
        let governance = KeyPair::generate();
        let keys: Vec<(&'static str, KeyPair)> = ["acme", "rival", "newco", "medline"]
            .into_iter()
            .map(|id| (id, KeyPair::generate()))
            .collect();
        let role = |id: &str| {
            if id == "medline" {
                Role::Distributor
            } else {
                Role::Manufacturer
            }
        };
        let genesis = Genesis {
            chain_name: "products".into(),
            sequencer_public_key: KeyPair::generate().public().to_hex(),
            governance_public_key: Some(governance.public().to_hex()),
            participants: keys
                .iter()
                .map(|(id, key)| ParticipantEntry {
                    id: id.to_string(),
                    role: role(id),
                    name: id.to_string(),
                    gln: None,
                    public_key: key.public().to_hex(),
                })
                .collect(),
        };
        let registry = Registry::from_genesis(&genesis).unwrap();
        World {
            governance,
            chain_id: registry.chain_id,
            keys,
            registry,
            ws: WorkingSet::default(),
            height: 0,
        }
    }

    fn key(&self, id: &str) -> &KeyPair {
        &self.keys.iter().find(|(k, _)| *k == id).unwrap().1
    }

    fn sign(&self, id: &str, body: event_payload::Body) -> SignedEnvelope {
        let key = if id == GOVERNANCE_ID {
            &self.governance
        } else {
            self.key(id)
        };
        sign_payload(key, &new_payload(&self.chain_id, id, body))
    }

    /// Checks and applies an event in a block of its own, as the sequencer does; the reject code if refused.
    fn step(&mut self, id: &str, body: event_payload::Body) -> Result<(), RejectCode> {
        self.height += 1;
        let envelope = self.sign(id, body);
        let event = check_envelope(&envelope, &self.registry).map_err(|e| e.reject_code())?;
        let needs = self.ws.needs(&event);
        for key in needs.packs {
            self.ws.load(key, None);
        }
        for gtin in needs.products {
            self.ws.load_product(gtin, None);
        }
        let before = self.ws.clone();
        let result = apply_event(
            &event,
            BlockContext::new(self.height, 1),
            &mut self.ws,
            &mut self.registry,
        )
        .map_err(|r| r.code);
        if result.is_err() {
            assert_eq!(self.ws, before, "a refused event changed state");
        }
        result
    }

    fn attest(&mut self, id: &str, prefixes: &[&str]) -> Result<(), RejectCode> {
        self.step(GOVERNANCE_ID, body::attest_prefixes(id, prefixes))
    }

    fn register(&mut self, id: &str, gtin: &str, name: &str) -> Result<(), RejectCode> {
        self.step(id, body::register_product(gtin, name, "500 mg", "tablet", 20))
    }

    fn commission(&mut self, id: &str, gtin: &str, serial: &str) -> Result<(), RejectCode> {
        self.step(id, body::commission(gtin, "L1", "281231", &[serial]))
    }

    fn consent(&self, new_owner: &str, from: &str, sequence: u32) -> Vec<u8> {
        body::transfer_consent(self.key(new_owner), &self.chain_id, GTIN, from, new_owner, sequence)
    }

    fn owner(&self, gtin: &str) -> String {
        self.ws.product(gtin).unwrap().owner.clone()
    }
}

#[test]
fn a_gtin_is_registered_only_by_the_holder_of_its_prefix() {
    let mut w = World::new();
    // Nobody holds the prefix yet: nobody may register the product, nor commission its packs.
    assert_eq!(
        w.register("acme", GTIN, "Paracetamol"),
        Err(RejectCode::PrefixNotAttested)
    );
    assert_eq!(w.commission("acme", GTIN, "S1"), Err(RejectCode::ProductNotRegistered));
    w.attest("acme", &["9506000"]).unwrap();
    // A rival manufacturer cannot squat acme's GTIN, neither by registering nor by commissioning first.
    assert_eq!(w.register("rival", GTIN, "Fake"), Err(RejectCode::PrefixNotAttested));
    assert_eq!(w.commission("rival", GTIN, "S1"), Err(RejectCode::ProductNotRegistered));
    w.register("acme", GTIN, "Paracetamol").unwrap();
    assert_eq!(w.commission("rival", GTIN, "S1"), Err(RejectCode::NotProductOwner));
    w.commission("acme", GTIN, "S1").unwrap();
    let product = w.ws.product(GTIN).unwrap();
    assert_eq!(product.owner, "acme");
    let master = product.master.as_ref().unwrap();
    assert_eq!(
        (master.name.as_str(), master.dosage_form.as_str(), master.pack_size),
        ("Paracetamol", "tablet", 20)
    );
    // Only acme recalls it.
    assert_eq!(
        w.step("rival", body::recall(GTIN, "L1")),
        Err(RejectCode::NotProductOwner)
    );
    w.step("acme", body::recall(GTIN, "L1")).unwrap();
}

#[test]
fn the_owner_changes_its_products_data_and_nobody_else_does() {
    let mut w = World::new();
    w.attest("acme", &["9506000"]).unwrap();
    w.register("acme", GTIN, "Paracetamol").unwrap();
    let first = w.ws.product(GTIN).unwrap().master.clone().unwrap().registered_height;
    w.register("acme", GTIN, "Paracetamol Acme").unwrap();
    let master = w.ws.product(GTIN).unwrap().master.clone().unwrap();
    assert_eq!(master.name, "Paracetamol Acme");
    assert_eq!(
        master.registered_height, first,
        "the first registration's height is kept"
    );
    w.attest("rival", &["9506001"]).unwrap();
    w.register("rival", OTHER_GTIN, "Ibuprofen").unwrap();
    assert_eq!(w.owner(OTHER_GTIN), "rival");
}

#[test]
fn a_prefix_belongs_to_one_manufacturer() {
    let mut w = World::new();
    w.attest("acme", &["9506000"]).unwrap();
    // The same prefix, a longer one inside it, or a shorter one around it: all acme's territory.
    for prefix in ["9506000", "95060001", "950600"] {
        assert_eq!(w.attest("rival", &[prefix]), Err(RejectCode::PrefixTaken), "{prefix}");
    }
    // Attesting acme's own prefix again changes nothing.
    w.attest("acme", &["9506000"]).unwrap();
    assert_eq!(w.registry.get("acme").unwrap().prefixes.len(), 1);
    // A distributor registers no products.
    assert_eq!(w.attest("medline", &["9506001"]), Err(RejectCode::RoleNotAllowed));
    // Malformed prefixes and overlaps within one event are refused at the gate.
    assert_eq!(w.attest("rival", &["95a6001"]), Err(RejectCode::Malformed));
    assert_eq!(w.attest("rival", &["9506001", "95060012"]), Err(RejectCode::Malformed));
    // A manufacturer signs no attestation.
    assert_eq!(
        w.step("acme", body::attest_prefixes("acme", &["9506009"])),
        Err(RejectCode::RoleNotAllowed)
    );
}

#[test]
fn a_product_changes_owner_with_both_parties_signatures() {
    let mut w = World::new();
    w.attest("acme", &["9506000"]).unwrap();
    w.register("acme", GTIN, "Paracetamol").unwrap();
    w.commission("acme", GTIN, "S1").unwrap();
    // Without newco's consent (a consent signed by someone else, or for another transfer), nothing moves.
    let forged = body::transfer_consent(w.key("rival"), &w.chain_id, GTIN, "acme", "newco", 0);
    assert_eq!(
        w.step("acme", body::transfer_product(GTIN, "newco", 0, forged)),
        Err(RejectCode::TransferConsent)
    );
    let consent = w.consent("newco", "acme", 0);
    // Only the owner hands it over; a distributor cannot take a product.
    assert_eq!(
        w.step("rival", body::transfer_product(GTIN, "newco", 0, consent.clone())),
        Err(RejectCode::TransferConsent),
        "the consent names acme as the giver"
    );
    let to_distributor = body::transfer_consent(w.key("medline"), &w.chain_id, GTIN, "acme", "medline", 0);
    assert_eq!(
        w.step("acme", body::transfer_product(GTIN, "medline", 0, to_distributor)),
        Err(RejectCode::Malformed)
    );
    w.step("acme", body::transfer_product(GTIN, "newco", 0, consent.clone()))
        .unwrap();
    assert_eq!(w.owner(GTIN), "newco");
    assert_eq!(w.ws.product(GTIN).unwrap().transfers, 1);
    // The new owner commissions and recalls; the old one no longer does. Packs already made keep their holder.
    assert_eq!(w.commission("acme", GTIN, "S2"), Err(RejectCode::NotProductOwner));
    w.commission("newco", GTIN, "S3").unwrap();
    let s1 = PackKey::new(
        &pedigree_core::gs1::Gtin::parse(GTIN).unwrap(),
        &pedigree_core::gs1::Serial::parse("S1").unwrap(),
    );
    assert_eq!(w.ws.get(&s1).unwrap().holder, "acme");
    // Handed back and forth: an old consent is spent.
    let back = body::transfer_consent(w.key("acme"), &w.chain_id, GTIN, "newco", "acme", 1);
    w.step("newco", body::transfer_product(GTIN, "acme", 1, back)).unwrap();
    assert_eq!(
        w.step("acme", body::transfer_product(GTIN, "newco", 0, consent)),
        Err(RejectCode::TransferConsent),
        "a consent is good for one transfer"
    );
    assert_eq!(w.owner(GTIN), "acme");
}

#[test]
fn attested_prefixes_are_in_the_registry_root_and_roll_back_by_height() {
    let mut w = World::new();
    let before = w.registry.root();
    let plain = record_bytes(w.registry.get("acme").unwrap());
    w.attest("acme", &["9506000"]).unwrap();
    w.attest("acme", &["9506002", "0312345"]).unwrap();
    assert_ne!(w.registry.root(), before, "an attestation changes the registry root");
    let acme = w.registry.get("acme").unwrap().clone();
    let parsed = RegistryRecord::parse(&record_bytes(&acme)).unwrap();
    assert_eq!(
        parsed.prefixes,
        vec![
            ("9506000".to_string(), 1),
            ("9506002".to_string(), 2),
            ("0312345".to_string(), 2)
        ]
    );
    // As it stood before the attestations, the record is the plain one (no prefix section).
    assert_eq!(record_bytes(&participant_at(&acme, 0).unwrap()), plain);
    assert_eq!(participant_at(&acme, 1).unwrap().prefixes.len(), 1);
    // A record that ends with an empty prefix list is not canonical.
    let mut bad = plain.clone();
    bad.extend_from_slice(&0u32.to_be_bytes());
    assert!(RegistryRecord::parse(&bad).is_err());
}

#[test]
fn master_data_fields_are_checked_at_the_gate() {
    let mut w = World::new();
    w.attest("acme", &["9506000"]).unwrap();
    let bad = [
        body::register_product(GTIN, "", "500 mg", "tablet", 20),
        body::register_product(GTIN, "Paracetamol", "500 mg", "", 20),
        body::register_product(GTIN, "Paracetamol", "500 mg", "tablet", 0),
        body::register_product(GTIN, &"x".repeat(201), "500 mg", "tablet", 20),
        body::register_product("09506000134353", "Paracetamol", "500 mg", "tablet", 20),
    ];
    for b in bad {
        assert_eq!(w.step("acme", b), Err(RejectCode::Malformed));
    }
    let event_payload::Body::RegisterProduct(mut m) = body::register_product(GTIN, "P", "", "tablet", 1) else {
        unreachable!()
    };
    m.markets = vec!["de".into()];
    assert_eq!(
        w.step("acme", event_payload::Body::RegisterProduct(m.clone())),
        Err(RejectCode::Malformed)
    );
    m.markets = vec!["DE".into(), "DE".into()];
    assert_eq!(
        w.step("acme", event_payload::Body::RegisterProduct(m.clone())),
        Err(RejectCode::Malformed)
    );
    m.markets = vec!["DE".into(), "AT".into()];
    m.national_codes = vec![pedigree_core::pb::NationalCode {
        system: "PZN".into(),
        code: "01234567".into(),
    }];
    w.step("acme", event_payload::Body::RegisterProduct(m)).unwrap();
    assert_eq!(
        w.ws.product(GTIN).unwrap().master.as_ref().unwrap().markets,
        ["DE", "AT"]
    );
}
