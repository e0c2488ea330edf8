//! The test vectors of docs/ledger-format.md (format version 2), regenerated from fixed keys and inputs and compared
//! byte for byte with docs/vectors/ledger-v2.json. `PEDIGREE_WRITE_VECTORS=1 cargo test -p pedigree-core --test
//! format_vectors` rewrites the file (only when the format changes on purpose). Every positive vector is checked
//! here with the crate's own checks (audit, bundle check) and every negative one is checked to fail for its reason;
//! scripts/check_vectors.py checks them again from the document alone.

use std::path::PathBuf;

use pedigree_core::Hash;
use pedigree_core::audit::{AuditError, Auditor};
use pedigree_core::block::{BlockContent, BlockError, Tip, check_block, header_hash, seal};
use pedigree_core::body;
use pedigree_core::container::ContainerKey;
use pedigree_core::context::BlockContext;
use pedigree_core::disclosure::{EventCore, core_of};
use pedigree_core::envelope::{check_envelope, sign_payload};
use pedigree_core::event::{EventError, event_id};
use pedigree_core::governance::fold_governance;
use pedigree_core::keys::KeyPair;
use pedigree_core::merkle::{consistency_proof, leaf_hash};
use pedigree_core::participant::{GOVERNANCE_ID, Genesis, ParticipantEntry, Registry, Role};
use pedigree_core::pb::{
    Block, BlockHeader, EventPayload, ParticipantRole, PartitionOffset, ProofBundle, RejectCode, Rejection,
    SignedEnvelope, event_payload,
};
use pedigree_core::proof::{BundleError, BundleJson, RegistryRecords, check_bundle, check_bundle_with, make_bundle};
use pedigree_core::registry_root::registry_leaves;
use prost::Message;
use serde_json::{Value, json};

const GTIN: &str = "09506000134352";
const T0: i64 = 1_767_225_600_000;

fn secret(first: u8) -> [u8; 32] {
    std::array::from_fn(|i| first.wrapping_add(i as u8))
}

fn key(first: u8) -> KeyPair {
    KeyPair::from_secret_bytes(&secret(first)).expect("a valid scalar")
}

/// The fixed keys: name, first byte of the secret.
const KEYS: [(&str, u8); 9] = [
    ("acme-pharma", 0x01),
    ("medline-wholesale", 0x21),
    ("sequencer", 0x41),
    ("governance", 0x61),
    ("city-pharmacy", 0x81),
    ("bay-pharmacy", 0xa1),
    ("bay-pharmacy-rotated", 0xc1),
    ("forger", 0xd1),
    ("sequencer-2", 0x51),
];

fn k(name: &str) -> KeyPair {
    let (_, first) = KEYS.iter().find(|(n, _)| *n == name).expect("a fixed key");
    key(*first)
}

fn genesis(name: &str) -> Genesis {
    let entry = |id: &str, role, gln: Option<&str>| ParticipantEntry {
        id: id.into(),
        role,
        name: id.replace('-', " "),
        gln: gln.map(str::to_string),
        public_key: k(id).public().to_hex(),
    };
    Genesis {
        chain_name: name.into(),
        sequencer_public_key: k("sequencer").public().to_hex(),
        governance_public_key: Some(k("governance").public().to_hex()),
        participants: vec![
            entry("acme-pharma", Role::Manufacturer, Some("0614141000005")),
            entry("medline-wholesale", Role::Distributor, None),
            entry("city-pharmacy", Role::Pharmacy, None),
        ],
    }
}

/// A payload with a fixed time, nonce and seed (all derived from `n`).
fn payload(chain: &Hash, signer: &str, n: u8, body: event_payload::Body) -> EventPayload {
    EventPayload {
        signer: signer.into(),
        timestamp_ms: T0 + i64::from(n) * 1000,
        nonce: vec![n; 16],
        chain_id: chain.to_vec(),
        seed: vec![n ^ 0x5a; 32],
        body: Some(body),
    }
}

fn signed(chain: &Hash, signer: &str, key: &str, n: u8, body: event_payload::Body) -> SignedEnvelope {
    sign_payload(&k(key), &payload(chain, signer, n, body))
}

fn event_vector(name: &str, e: &SignedEnvelope) -> Value {
    let decoded = EventPayload::decode(e.payload.as_slice()).expect("a payload");
    let core = core_of(&e.payload, &decoded).expect("a core");
    let id = event_id(&e.payload);
    assert_eq!(core.id(), id);
    json!({
        "name": name,
        "signer": e.signer,
        "payload": hex::encode(&e.payload),
        "seed": hex::encode(&decoded.seed),
        "core": hex::encode(core.encode()),
        "event_id": hex::encode(id),
        "leaf_hash": hex::encode(leaf_hash(&id)),
        "signature": hex::encode(&e.signature),
        "envelope": hex::encode(e.encode_to_vec()),
    })
}

struct Sealer {
    tip: Tip,
    registry: Registry,
}

impl Sealer {
    /// Seals on the current tip and moves to the new one.
    fn seal(&mut self, time_ms: i64, epoch: u64, events: Vec<SignedEnvelope>, rejected: Vec<Rejection>) -> Block {
        let (block, tip, registry) = self.seal_on(&self.tip.clone(), time_ms, epoch, events, rejected);
        self.tip = tip;
        self.registry = registry;
        block
    }

    /// Seals on `tip` without moving (a competitor, a negative vector).
    fn seal_on(
        &self,
        tip: &Tip,
        time_ms: i64,
        epoch: u64,
        events: Vec<SignedEnvelope>,
        rejected: Vec<Rejection>,
    ) -> (Block, Tip, Registry) {
        let at = BlockContext::new(tip.height + 1, time_ms);
        let registry = fold_governance(&self.registry, at, &events)
            .expect("the vector's governance events apply")
            .unwrap_or_else(|| self.registry.clone());
        let content = BlockContent {
            events,
            rejected,
            resume_offsets: vec![PartitionOffset {
                partition: 0,
                next_offset: 10 * (tip.height as i64 + 1),
            }],
            time_ms,
            epoch,
            registry_root: registry.root(),
        };
        // The key the registry before the block names: a block that seals a rotation is signed by the old key.
        let (block, next) = seal(&key_of(&self.registry.sequencer_key()), tip, content);
        (block, next, registry)
    }
}

/// The fixed key pair whose public key is `public`.
fn key_of(public: &pedigree_core::keys::PublicKey) -> KeyPair {
    KEYS.iter()
        .map(|(_, first)| key(*first))
        .find(|pair| pair.public() == *public)
        .expect("a fixed key")
}

fn header_of(block: &Block) -> BlockHeader {
    BlockHeader::decode(block.header.as_ref().expect("a header").header.as_slice()).expect("a header")
}

fn block_vector(offset: usize, canonical: bool, note: &str, block: &Block, chain: &Hash, registry: &Registry) -> Value {
    let signed = block.header.as_ref().expect("a header");
    let header = header_of(block);
    json!({
        "offset": offset,
        "canonical": canonical,
        "note": note,
        "height": header.height,
        "epoch": header.epoch,
        "block": hex::encode(block.encode_to_vec()),
        "header": hex::encode(&signed.header),
        "header_hash": hex::encode(header_hash(chain, &signed.header)),
        "header_signature": hex::encode(&signed.signature),
        "registry_root": hex::encode(&header.registry_root),
        "registry_records": registry_leaves(registry.participants())
            .iter()
            .map(|(_, record)| hex::encode(record))
            .collect::<Vec<_>>(),
        "sequencer_keys_leaf": registry.sequencer_keys().leaf().map(hex::encode),
    })
}

fn bundle_json(bundle: &ProofBundle) -> Value {
    serde_json::to_value(BundleJson::from_bundle(bundle).expect("a complete bundle")).expect("json")
}

/// The master data of the vectors' product, with a national code and markets.
fn register_product_body() -> event_payload::Body {
    let event_payload::Body::RegisterProduct(mut m) =
        body::register_product(GTIN, "Paracetamol Acme 500 mg", "500 mg", "film-coated tablet", 20)
    else {
        unreachable!("register_product builds a RegisterProduct")
    };
    m.national_codes = vec![pedigree_core::pb::NationalCode {
        system: "PZN".into(),
        code: "01234567".into(),
    }];
    m.markets = vec!["DE".into(), "AT".into()];
    event_payload::Body::RegisterProduct(m)
}

fn generate() -> Value {
    let genesis = genesis("pedigree-vectors");
    let chain = genesis.chain_id().expect("a valid genesis");
    let start = Registry::from_genesis(&genesis).expect("a valid genesis");
    let mut sealer = Sealer {
        tip: Tip::genesis(chain),
        registry: start.clone(),
    };
    let (acme, medline, gov) = ("acme-pharma", "medline-wholesale", GOVERNANCE_ID);

    // Block 1: governance attests acme's GS1 company prefix, acme registers its product, commissions two packs and
    // ships one; one rejection.
    let attest = signed(&chain, gov, "governance", 17, body::attest_prefixes(acme, &["9506000"]));
    let register_product = signed(&chain, acme, acme, 18, register_product_body());
    let commission = signed(
        &chain,
        acme,
        acme,
        1,
        body::commission(GTIN, "LOT42A", "281231", &["SN1", "SN2"]),
    );
    let ship = signed(&chain, acme, acme, 2, body::ship(GTIN, &["SN1"], medline));
    let rejection = Rejection {
        event_id: vec![0xEE; 32],
        code: RejectCode::NotHolder as i32,
        reason: "serial SN9: held by 'x', not by 'y'".into(),
    };
    let b1 = sealer.seal(
        T0 + 10_000,
        1,
        vec![
            attest.clone(),
            register_product.clone(),
            commission.clone(),
            ship.clone(),
        ],
        vec![rejection],
    );
    let (registry1, tip1) = (sealer.registry.clone(), sealer.tip.clone());
    // Block 2: the receipt, and bay-pharmacy registered by governance.
    let receive = signed(&chain, medline, medline, 3, body::receive(GTIN, &["SN1"], acme));
    let register = signed(
        &chain,
        gov,
        "governance",
        4,
        body::register_participant(
            "bay-pharmacy",
            ParticipantRole::Pharmacy,
            "Bay Pharmacy",
            "",
            &k("bay-pharmacy").public(),
        ),
    );
    let b2 = sealer.seal(T0 + 20_000, 1, vec![receive.clone(), register.clone()], vec![]);
    let registry2 = sealer.registry.clone();
    // A stale competitor for height 2 (built on block 1), appended after block 2 by a fenced-out sequencer.
    let (stale, _, _) = Sealer {
        tip: tip1.clone(),
        registry: registry1.clone(),
    }
    .seal_on(&tip1, T0 + 21_000, 1, vec![], vec![]);
    // Block 3: empty, sealed by a new term (epoch 2).
    let b3 = sealer.seal(T0 + 30_000, 2, vec![], vec![]);
    let registry3 = sealer.registry.clone();
    // Block 4: bay-pharmacy's key rotated, city-pharmacy revoked, SN1 shipped to bay-pharmacy.
    let rotate = signed(
        &chain,
        gov,
        "governance",
        5,
        body::rotate_key("bay-pharmacy", &k("bay-pharmacy-rotated").public()),
    );
    let revoke = signed(
        &chain,
        gov,
        "governance",
        6,
        body::revoke_participant("city-pharmacy", "licence withdrawn"),
    );
    let ship_bay = signed(&chain, medline, medline, 7, body::ship(GTIN, &["SN1"], "bay-pharmacy"));
    let b4 = sealer.seal(
        T0 + 40_000,
        2,
        vec![rotate.clone(), revoke.clone(), ship_bay.clone()],
        vec![],
    );
    let registry4 = sealer.registry.clone();
    let sealer4 = Sealer {
        tip: sealer.tip.clone(),
        registry: sealer.registry.clone(),
    };
    // Block 5: governance rotates the sequencer key (this block is still signed by the old key) and bay-pharmacy
    // receives SN1. Block 6, signed by the new key: bay-pharmacy dispenses SN1.
    let rotate_sequencer = signed(
        &chain,
        gov,
        "governance",
        22,
        body::rotate_sequencer_key(&k("sequencer-2").public()),
    );
    let bay = "bay-pharmacy";
    let receive_bay = signed(
        &chain,
        bay,
        "bay-pharmacy-rotated",
        23,
        body::receive(GTIN, &["SN1"], medline),
    );
    let b5 = sealer.seal(
        T0 + 50_000,
        2,
        vec![rotate_sequencer.clone(), receive_bay.clone()],
        vec![],
    );
    let registry5 = sealer.registry.clone();
    let dispense_bay = signed(&chain, bay, "bay-pharmacy-rotated", 24, body::dispense(GTIN, &["SN1"]));
    let b6 = sealer.seal(T0 + 60_000, 2, vec![dispense_bay.clone()], vec![]);
    let registry6 = sealer.registry.clone();
    assert_eq!(header_of(&b5).sequencer_key_id, k("sequencer").key_id());
    assert_eq!(header_of(&b6).sequencer_key_id, k("sequencer-2").key_id());

    // Aggregation (signed, not sealed in the vector chain): SN2 into a case with its own SGTIN, the case and nothing
    // else onto a pallet with an SSCC, the pallet shipped whole, then unpacked whole.
    let pallet = ContainerKey::parse_element("00106141411234567897").expect("an sscc");
    let case = ContainerKey::parse_element("011095060001343621CASE-7").expect("a case sgtin");
    let pack = signed(
        &chain,
        acme,
        acme,
        8,
        body::pack(&pallet, &[(GTIN, &["SN2".to_string()])], std::slice::from_ref(&case)),
    );
    let ship_pallet = signed(
        &chain,
        acme,
        acme,
        9,
        body::ship_containers(std::slice::from_ref(&pallet), medline),
    );
    let unpack_all = signed(&chain, medline, medline, 10, body::unpack(&pallet, &[], &[]));
    let sn = ["SN1".to_string(), "SN2".to_string()];
    let documents = pedigree_core::pb::TradeDocuments {
        purchase_order: "PO-4471".into(),
        invoice: "INV-2026-0042".into(),
        despatch_advice: "DESADV-9".into(),
        ship_date: "2026-11-30".into(),
    };
    let ship_lines = signed(
        &chain,
        acme,
        acme,
        12,
        body::ship_lines(
            &[(GTIN, &sn[..1]), ("04012345678901", &sn[1..])],
            medline,
            Some(documents),
        ),
    );
    let receive_refused = signed(
        &chain,
        medline,
        medline,
        13,
        body::receive_lines(&[(GTIN, &sn[..1])], &[("04012345678901", &sn[1..])], acme),
    );
    let void = signed(
        &chain,
        acme,
        acme,
        11,
        body::void_shipment(GTIN, &["SN1"], std::slice::from_ref(&pallet), medline),
    );

    // A repackager's commission (new packs, then the source packs without lot and expiry) and a shipment by a
    // third-party logistics provider in its client's name (the owner is in the body commitment only).
    let repackage = signed(
        &chain,
        acme,
        acme,
        14,
        body::repackage("04012345678901", "RP7", "281130", &["NEW1", "NEW2"], &[(GTIN, &sn[..])]),
    );
    let ship_for_owner = signed(
        &chain,
        medline,
        medline,
        15,
        body::ship_for(GTIN, &["SN2"], "bay-pharmacy", acme),
    );
    let receive_over = signed(
        &chain,
        medline,
        medline,
        16,
        body::receive_with_over(&[(GTIN, &sn[..1])], &[(GTIN, &["SN9".to_string()][..])], acme),
    );

    // A product transfer to another manufacturer (signed, not sealed): acme signs, city-pharmacy's key stands in for
    // a new owner's consent signature (a vector of the encoding, not of the rules).
    let consent = body::transfer_consent(&k("city-pharmacy"), &chain, GTIN, acme, "city-pharmacy", 0);
    let transfer = signed(
        &chain,
        acme,
        acme,
        19,
        body::transfer_product(GTIN, "city-pharmacy", 0, consent),
    );

    // Suspect product (signed, not sealed): medline quarantines SN1, the product's owner declares it illegitimate.
    let quarantine = signed(
        &chain,
        medline,
        medline,
        20,
        body::quarantine(GTIN, &["SN1"], "seal broken"),
    );
    let illegitimate = signed(
        &chain,
        acme,
        acme,
        21,
        body::declare_illegitimate(GTIN, &["SN1"], "counterfeit: no such lot printed"),
    );

    // The topic in offset order; the audit accepts it (the competitor skipped).
    let topic: Vec<(&Block, bool, &str, &Registry)> = vec![
        (
            &b1,
            true,
            "height 1: attest a prefix, register a product, commission, ship, one rejection",
            &registry1,
        ),
        (&b2, true, "height 2: receive, register bay-pharmacy", &registry2),
        (
            &stale,
            false,
            "stale competitor for height 2 (on block 1): skipped",
            &registry1,
        ),
        (&b3, true, "height 3: empty block, epoch 2", &registry3),
        (
            &b4,
            true,
            "height 4: rotate bay-pharmacy's key, revoke city-pharmacy, ship to bay-pharmacy",
            &registry4,
        ),
        (
            &b5,
            true,
            "height 5: rotate the sequencer key (signed by the old key), bay-pharmacy receives SN1",
            &registry5,
        ),
        (
            &b6,
            true,
            "height 6: the first block signed by the new sequencer key, bay-pharmacy dispenses SN1",
            &registry6,
        ),
    ];
    let mut auditor = Auditor::new(start.clone());
    for (offset, (block, _, _, _)) in topic.iter().enumerate() {
        auditor.check(offset as u64, block).expect("the vector chain audits");
    }
    assert_eq!((auditor.progress().blocks, auditor.progress().stale), (6, 1));
    assert_eq!(auditor.registry().sequencer_keys(), registry6.sequencer_keys());
    assert_eq!(auditor.tip(), &sealer.tip);

    // Log proofs.
    let leaves: Vec<Hash> = [
        &attest,
        &register_product,
        &commission,
        &ship,
        &receive,
        &register,
        &rotate,
        &revoke,
        &ship_bay,
        &rotate_sequencer,
        &receive_bay,
        &dispense_bay,
    ]
    .iter()
    .map(|e| leaf_hash(&event_id(&e.payload)))
    .collect();
    let consistency = consistency_proof(&leaves, 4).expect("a consistency proof");
    let old_root = tip1.log.root();

    // The one-pack bundle: SN1's last event (the shipment to bay-pharmacy), proved with the registry as of the tip.
    let participants: Vec<_> = registry6.participants().cloned().collect();
    let schedule = registry6.sequencer_keys();
    let bundle = make_bundle(
        &b4,
        4,
        &event_id(&ship_bay.payload),
        (GTIN, "SN1"),
        &k(medline).public(),
        RegistryRecords {
            participants: &participants,
            sequencer: schedule,
        },
    )
    .expect("SN1 is in block 4");
    let sequencer = k("sequencer").public();
    let checked = check_bundle_with(&bundle, schedule, Some(&chain)).expect("the vector bundle checks out");
    assert_eq!(
        (checked.core.kind.as_str(), checked.pack.serial.as_str()),
        ("ship", "SN1")
    );
    // And one for SN2, whose last event is the commission: lot and expiry disclosed, SN1 not.
    let bundle_sn2 = make_bundle(
        &b1,
        1,
        &event_id(&commission.payload),
        (GTIN, "SN2"),
        &k(acme).public(),
        RegistryRecords {
            participants: &participants,
            sequencer: schedule,
        },
    )
    .expect("SN2 is in block 1");
    check_bundle(&bundle_sn2, &sequencer, Some(&chain)).expect("the second vector bundle checks out");
    // And SN1's dispense, in a block the new sequencer key signed: it checks against the schedule, not the old key.
    let bundle_dispensed = make_bundle(
        &b6,
        6,
        &event_id(&dispense_bay.payload),
        (GTIN, "SN1"),
        &k("bay-pharmacy-rotated").public(),
        RegistryRecords {
            participants: &participants,
            sequencer: schedule,
        },
    )
    .expect("SN1 is in block 6");
    check_bundle_with(&bundle_dispensed, schedule, Some(&chain)).expect("the block 6 bundle checks out");
    assert!(matches!(
        check_bundle(&bundle_dispensed, &sequencer, Some(&chain)),
        Err(BundleError::Header(BlockError::Signature(_)))
    ));

    json!({
        "format": "pedigree ledger format 2",
        "keys": KEYS.iter().map(|(name, first)| {
            let pair = key(*first);
            (name.to_string(), json!({
                "secret": hex::encode(secret(*first)),
                "public_key": pair.public().to_hex(),
                "key_id": pair.key_id(),
            }))
        }).collect::<serde_json::Map<_, _>>(),
        "genesis": genesis,
        "genesis_canonical": hex::encode(genesis.canonical_bytes().expect("a valid genesis")),
        "chain_id": hex::encode(chain),
        "events": [
            event_vector("attest_prefixes", &attest),
            event_vector("register_product", &register_product),
            event_vector("commission", &commission),
            event_vector("ship", &ship),
            event_vector("receive", &receive),
            event_vector("register_participant", &register),
            event_vector("rotate_key", &rotate),
            event_vector("revoke_participant", &revoke),
            event_vector("ship_to_bay", &ship_bay),
            event_vector("pack", &pack),
            event_vector("ship_containers", &ship_pallet),
            event_vector("unpack_all", &unpack_all),
            event_vector("void_shipment", &void),
            event_vector("ship_lines", &ship_lines),
            event_vector("receive_with_refused", &receive_refused),
            event_vector("repackage", &repackage),
            event_vector("ship_for_owner", &ship_for_owner),
            event_vector("receive_with_over", &receive_over),
            event_vector("transfer_product", &transfer),
            event_vector("quarantine", &quarantine),
            event_vector("declare_illegitimate", &illegitimate),
            event_vector("rotate_sequencer_key", &rotate_sequencer),
            event_vector("receive_at_bay", &receive_bay),
            event_vector("dispense_at_bay", &dispense_bay),
        ],
        "blocks_topic": topic
            .iter()
            .enumerate()
            .map(|(offset, (block, canonical, note, registry))| {
                block_vector(offset, *canonical, note, block, &chain, registry)
            })
            .collect::<Vec<_>>(),
        "tip": {
            "height": sealer.tip.height,
            "hash": hex::encode(sealer.tip.hash),
            "tree_size": sealer.tip.log.size(),
            "log_root": hex::encode(sealer.tip.log.root()),
            "log_frontier": b6.log_frontier.iter().map(hex::encode).collect::<Vec<_>>(),
            "registry_root": hex::encode(registry6.root()),
            "sequencer_keys": schedule.records(),
        },
        "consistency": {
            "old_size": 4,
            "new_size": leaves.len(),
            "old_root": hex::encode(old_root),
            "new_root": hex::encode(sealer.tip.log.root()),
            "proof": consistency.iter().map(hex::encode).collect::<Vec<_>>(),
        },
        "bundles": [
            { "serial": "SN1", "bundle": bundle_json(&bundle) },
            { "serial": "SN2", "bundle": bundle_json(&bundle_sn2) },
            { "serial": "SN1", "bundle": bundle_json(&bundle_dispensed) },
        ],
        "negative": negative(&chain, &sealer4, &[&b1, &b2, &stale, &b3], &bundle, &b4, (&b5, &sealer)),
    })
}

/// Vectors that must fail, each with the check that refuses it; each is checked to fail here.
fn negative(
    chain: &Hash,
    sealer: &Sealer,
    before_4: &[&Block],
    bundle: &ProofBundle,
    b4: &Block,
    (b5, sealer6): (&Block, &Sealer),
) -> Value {
    let registry = &sealer.registry;
    let sequencer = k("sequencer").public();
    let mut out = Vec::new();

    // Bundles.
    let mut resigned = bundle.clone();
    let core = EventCore::parse(&resigned.event_core).expect("a core");
    resigned.event_signature = k("forger").sign_digest(&core.id());
    resigned.signer_public_key = k("forger").public().to_sec1();
    assert!(matches!(
        check_bundle(&resigned, &sequencer, None),
        Err(BundleError::KeyNotRegistered { .. })
    ));
    out.push(json!({ "name": "bundle_re_signed", "bundle": bundle_json(&resigned),
        "reason": "step 5: the fresh key is not the signer's registered key at that height" }));
    let mut wrong_path = bundle.clone();
    wrong_path.registry_inclusion.as_mut().expect("a path").hashes[0][31] ^= 1;
    assert!(matches!(
        check_bundle(&wrong_path, &sequencer, None),
        Err(BundleError::Registry(_))
    ));
    out.push(
        json!({ "name": "bundle_wrong_registry_path", "bundle": bundle_json(&wrong_path),
        "reason": "step 5: the signer record's path does not lead to the header's registry_root" }),
    );
    let mut other_pack = bundle.clone();
    other_pack.pack.as_mut().expect("a pack").serial = "SN2".into();
    assert!(matches!(
        check_bundle(&other_pack, &sequencer, None),
        Err(BundleError::Pack(_))
    ));
    out.push(json!({ "name": "bundle_other_pack", "bundle": bundle_json(&other_pack),
        "reason": "step 6: SN2 is not the pack of this leaf: the path does not lead to packs_root" }));
    let mut wrong_leaf = bundle.clone();
    wrong_leaf.inclusion.as_mut().expect("a path").leaf_index ^= 1;
    assert!(check_bundle(&wrong_leaf, &sequencer, None).is_err());
    out.push(
        json!({ "name": "bundle_wrong_event_path", "bundle": bundle_json(&wrong_leaf),
        "reason": "step 3: the event's inclusion proof does not lead to the header's merkle_root" }),
    );

    // Envelopes, against the registry after block 4.
    let other = genesis("another-deployment").chain_id().expect("a valid genesis");
    let cross = signed(
        &other,
        "medline-wholesale",
        "medline-wholesale",
        8,
        body::dispense(GTIN, &["SN2"]),
    );
    let err = check_envelope(&cross, registry).expect_err("another chain's envelope");
    assert!(matches!(err, EventError::WrongChain { .. }), "{err}");
    out.push(
        json!({ "name": "envelope_cross_chain", "envelope": hex::encode(cross.encode_to_vec()),
        "chain_id_of_payload": hex::encode(other), "reject_code": "REJECT_CODE_WRONG_CHAIN",
        "reason": "the payload names another chain id (same participants and keys, another genesis)" }),
    );
    let retired = signed(chain, "bay-pharmacy", "bay-pharmacy", 9, body::dispense(GTIN, &["SN1"]));
    let err = check_envelope(&retired, registry).expect_err("a retired key");
    assert!(matches!(err, EventError::RetiredKey { until: 4, .. }), "{err}");
    out.push(
        json!({ "name": "envelope_retired_key", "envelope": hex::encode(retired.encode_to_vec()),
        "reject_code": "REJECT_CODE_RETIRED_KEY",
        "reason": "signed with the key bay-pharmacy's RotateKey retired at height 4" }),
    );
    let revoked = signed(
        chain,
        "city-pharmacy",
        "city-pharmacy",
        10,
        body::dispense(GTIN, &["SN2"]),
    );
    let err = check_envelope(&revoked, registry).expect_err("a revoked signer");
    assert!(matches!(err, EventError::Revoked { height: 4, .. }), "{err}");
    out.push(
        json!({ "name": "envelope_revoked_signer", "envelope": hex::encode(revoked.encode_to_vec()),
        "reject_code": "REJECT_CODE_PARTICIPANT_REVOKED", "reason": "city-pharmacy was revoked at height 4" }),
    );

    // Blocks on the tip (height 4).
    let tip = &sealer.tip;
    let (back, _, _) = sealer.seal_on(tip, tip.time_ms - 1, 2, vec![], vec![]);
    assert_eq!(
        check_block(&back, tip, &sequencer).map(|_| ()),
        Err(BlockError::TimeWentBack {
            got: tip.time_ms - 1,
            tip: tip.time_ms
        })
    );
    out.push(
        json!({ "name": "block_time_went_back", "block": hex::encode(back.encode_to_vec()),
        "on_height": 4, "fails": "time",
        "reason": "height 5 on the tip, time_ms one less than block 4's" }),
    );
    let (old_epoch, _, _) = sealer.seal_on(tip, tip.time_ms, 1, vec![], vec![]);
    assert!(matches!(
        check_block(&old_epoch, tip, &sequencer),
        Err(BlockError::StaleEpoch { got: 1, head: 2 })
    ));
    out.push(
        json!({ "name": "block_older_epoch", "block": hex::encode(old_epoch.encode_to_vec()),
        "on_height": 4, "fails": "epoch",
        "reason": "height 5 on the tip from epoch 1 after epoch 2: a stale competitor, never a successor" }),
    );
    let other_tip = Tip {
        chain_id: other,
        ..tip.clone()
    };
    let (foreign, _, _) = sealer.seal_on(&other_tip, tip.time_ms, 2, vec![], vec![]);
    assert!(matches!(
        check_block(&foreign, tip, &sequencer),
        Err(BlockError::Signature(_))
    ));
    out.push(
        json!({ "name": "block_signed_for_another_chain", "block": hex::encode(foreign.encode_to_vec()),
        "on_height": 4, "fails": "signature",
        "reason": "height 5 whose header digest was computed with another chain id: the signature does not verify" }),
    );
    let mut wrong_root = b4.clone();
    let mut header = header_of(&wrong_root);
    header.registry_root[0] ^= 1;
    let bytes = header.encode_to_vec();
    wrong_root.header = Some(pedigree_core::pb::SignedHeader {
        signature: k("sequencer").sign_digest(&header_hash(chain, &bytes)),
        header: bytes,
    });
    let mut auditor = Auditor::new(Registry::from_genesis(&genesis("pedigree-vectors")).expect("genesis"));
    for (offset, block) in before_4.iter().enumerate() {
        auditor.check(offset as u64, block).expect("blocks 1 to 3 audit");
    }
    let err = auditor.check(4, &wrong_root).expect_err("a wrong registry root");
    assert!(matches!(err, AuditError::RegistryRoot { height: 4 }), "{err}");
    out.push(json!({ "name": "block_wrong_registry_root", "block": hex::encode(wrong_root.encode_to_vec()),
        "on_height": 3, "fails": "registry_root",
        "reason": "block 4 re-signed with one bit of registry_root flipped: not the root of the registry folded after its events" }));
    // A block for height 6 on block 5 signed by the retired sequencer key (block 5 announced the new one).
    let (_, tip5) = check_block(b5, &tip_after(before_4, b4), &sequencer).expect("block 5 on block 4");
    let retired_content = BlockContent {
        events: vec![],
        rejected: vec![],
        resume_offsets: vec![],
        time_ms: tip5.time_ms,
        epoch: 2,
        // Everything right but the key: the registry after block 5 (block 6 of the chain changed none of it).
        registry_root: sealer6.registry.root(),
    };
    let (old_key, _) = seal(&k("sequencer"), &tip5, retired_content);
    assert!(matches!(
        check_block(&old_key, &tip5, sealer6.registry.sequencer_keys().key_at(6)),
        Err(BlockError::Signature(_))
    ));
    out.push(
        json!({ "name": "block_retired_sequencer_key", "block": hex::encode(old_key.encode_to_vec()),
        "on_height": 5, "fails": "signature",
        "reason": "height 6 on block 5 signed by the sequencer key block 5 rotated out: height 6 is the new key's" }),
    );
    Value::Array(out)
}

/// The tip after `blocks` then `last`, each checked as the successor of the one before (stale ones skipped).
fn tip_after(blocks: &[&Block], last: &Block) -> Tip {
    let sequencer = k("sequencer").public();
    let mut tip = Tip::genesis(genesis("pedigree-vectors").chain_id().expect("a valid genesis"));
    for block in blocks.iter().copied().chain([last]) {
        if let Ok((_, next)) = check_block(block, &tip, &sequencer) {
            tip = next;
        }
    }
    tip
}

#[test]
fn format_vectors_match_the_documented_ones() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/vectors/ledger-v2.json");
    let generated = generate();
    if std::env::var_os("PEDIGREE_WRITE_VECTORS").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&generated).unwrap() + "\n").unwrap();
    }
    let documented: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("vectors file")).unwrap();
    assert_eq!(
        generated, documented,
        "the ledger format changed: update docs/ledger-format.md and the vectors"
    );
}

/// The independent check: scripts/check_vectors.py, written from docs/ledger-format.md alone (python3, standard
/// library only), verifies every vector and that every negative one fails for its documented reason. Skipped, with
/// a note, where python3 is missing.
#[test]
fn the_vectors_check_out_independently() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = match std::process::Command::new("python3")
        .arg(root.join("scripts/check_vectors.py"))
        .arg(root.join("docs/vectors/ledger-v2.json"))
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("python3 is not available ({e}): the independent check of the vectors is skipped");
            return;
        }
    };
    assert!(
        out.status.success(),
        "scripts/check_vectors.py refuses the vectors:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
