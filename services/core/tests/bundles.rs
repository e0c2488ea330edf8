//! Proof bundles checked offline with only the sequencer key: a genuine bundle checks out; one re-signed with a fresh
//! key, one whose signer record or registry path is not the header's, or one for another chain does not. After a key
//! rotation an old event's bundle still proves the key that was the signer's at its height.

use pedigree_core::block::{BlockContent, Tip, seal};
use pedigree_core::body;
use pedigree_core::context::BlockContext;
use pedigree_core::disclosure::EventCore;
use pedigree_core::envelope::{new_payload, sign_payload};
use pedigree_core::event::event_id;
use pedigree_core::governance::fold_governance;
use pedigree_core::keys::KeyPair;
use pedigree_core::participant::{GOVERNANCE_ID, Genesis, Participant, ParticipantEntry, Registry, Role};
use pedigree_core::pb::{Block, ProofBundle, SignedEnvelope};
use pedigree_core::proof::{BundleError, BundleJson, RegistryRecords, check_bundle, make_bundle};

const GTIN: &str = "09506000134352";

struct World {
    sequencer: KeyPair,
    governance: KeyPair,
    mfr: KeyPair,
    registry: Registry,
}

fn world() -> World {
    let (sequencer, governance, mfr, dist) = (
        KeyPair::generate(),
        KeyPair::generate(),
        KeyPair::generate(),
        KeyPair::generate(),
    );
    let entry = |id: &str, role, key: &KeyPair| ParticipantEntry {
        id: id.into(),
        role,
        name: id.into(),
        gln: None,
        public_key: key.public().to_hex(),
    };
    let genesis = Genesis {
        chain_name: "bundles".into(),
        sequencer_public_key: sequencer.public().to_hex(),
        governance_public_key: Some(governance.public().to_hex()),
        participants: vec![
            entry("mfr", Role::Manufacturer, &mfr),
            entry("dist", Role::Distributor, &dist),
        ],
    };
    World {
        registry: Registry::from_genesis(&genesis).unwrap(),
        sequencer,
        governance,
        mfr,
    }
}

/// Seals `events` on `tip`, folding `registry` through them.
fn block(w: &World, tip: &Tip, registry: &mut Registry, events: Vec<SignedEnvelope>) -> (Block, Tip) {
    let at = BlockContext::new(tip.height + 1, 1_795_000_000_000);
    if let Some(after) = fold_governance(registry, at, &events).unwrap() {
        *registry = after;
    }
    let content = BlockContent {
        events,
        rejected: vec![],
        resume_offsets: vec![],
        time_ms: 1_795_000_000_000,
        epoch: 1,
        registry_root: registry.root(),
    };
    seal(&w.sequencer, tip, content)
}

fn participants(registry: &Registry) -> Vec<Participant> {
    registry.participants().cloned().collect()
}

fn bundle_for(
    block: &Block,
    height: u64,
    index: usize,
    serial: &str,
    key: &KeyPair,
    registry: &Registry,
) -> ProofBundle {
    let id = event_id(&block.events[index].payload);
    make_bundle(
        block,
        height,
        &id,
        (GTIN, serial),
        &key.public(),
        RegistryRecords {
            participants: &participants(registry),
            sequencer: registry.sequencer_keys(),
        },
    )
    .expect("the pack is in the block")
}

/// Re-signs the bundle's event with `key` and names `key` as the signer's.
fn resign(bundle: &mut ProofBundle, key: &KeyPair) {
    let core = EventCore::parse(&bundle.event_core).unwrap();
    bundle.event_signature = key.sign_digest(&core.id());
    bundle.signer_public_key = key.public().to_sec1();
}

/// One block with a commission of two packs by mfr; its bundle.
fn sealed(w: &World) -> ProofBundle {
    let commission = sign_payload(
        &w.mfr,
        &new_payload(
            &w.registry.chain_id,
            "mfr",
            body::commission(GTIN, "L1", "281231", &["S1", "S2"]),
        ),
    );
    let mut registry = w.registry.clone();
    let (b1, _) = block(w, &Tip::genesis(w.registry.chain_id), &mut registry, vec![commission]);
    bundle_for(&b1, 1, 0, "S2", &w.mfr, &registry)
}

#[test]
fn a_genuine_bundle_checks_out_and_round_trips_as_json() {
    let w = world();
    let bundle = sealed(&w);
    let checked = check_bundle(&bundle, &w.sequencer.public(), Some(&w.registry.chain_id)).unwrap();
    assert_eq!((checked.core.signer.as_str(), checked.header.height), ("mfr", 1));
    assert_eq!((checked.core.kind.as_str(), checked.core.pack_count), ("commission", 2));
    assert_eq!(
        (
            checked.pack.serial.as_str(),
            checked.pack.lot.as_str(),
            checked.pack.expiry.as_str()
        ),
        ("S2", "L1", "281231")
    );
    let json = serde_json::to_string(&BundleJson::from_bundle(&bundle).unwrap()).unwrap();
    let back: BundleJson = serde_json::from_str(&json).unwrap();
    check_bundle(&back.to_bundle().unwrap(), &w.sequencer.public(), None).unwrap();
}

/// The outsider's attack on format v1: re-sign the sealed payload with a fresh key and put that key in the bundle.
#[test]
fn a_bundle_re_signed_with_a_fresh_key_fails() {
    let w = world();
    let mut bundle = sealed(&w);
    resign(&mut bundle, &KeyPair::generate());
    assert_eq!(
        check_bundle(&bundle, &w.sequencer.public(), None).unwrap_err(),
        BundleError::KeyNotRegistered {
            signer: "mfr".into(),
            height: 1
        }
    );
}

/// Nor can the forger bring a record of its own: the record must lead to the signed registry root.
#[test]
fn a_forged_signer_record_or_registry_path_fails() {
    let w = world();
    let genuine = sealed(&w);
    let mut forged_record = genuine.clone();
    let last = forged_record.signer_record.len() - 10;
    forged_record.signer_record[last] ^= 1;
    assert!(check_bundle(&forged_record, &w.sequencer.public(), None).is_err());
    let mut wrong_path = genuine.clone();
    wrong_path.registry_inclusion.as_mut().unwrap().hashes[0][0] ^= 1;
    assert!(matches!(
        check_bundle(&wrong_path, &w.sequencer.public(), None),
        Err(BundleError::Registry(_))
    ));
    let mut no_record = genuine.clone();
    no_record.signer_record.clear();
    assert!(check_bundle(&no_record, &w.sequencer.public(), None).is_err());
}

/// An event signed before a rotation proves with the key it was signed with, valid at its height; a bundle claiming
/// the new key for it fails.
#[test]
fn after_a_rotation_an_old_event_proves_with_its_old_key() {
    let w = world();
    let chain = w.registry.chain_id;
    let mut registry = w.registry.clone();
    let commission = sign_payload(
        &w.mfr,
        &new_payload(&chain, "mfr", body::commission(GTIN, "L1", "281231", &["S1"])),
    );
    let (b1, t1) = block(&w, &Tip::genesis(chain), &mut registry, vec![commission]);
    let new_key = KeyPair::generate();
    let rotate = sign_payload(
        &w.governance,
        &new_payload(&chain, GOVERNANCE_ID, body::rotate_key("mfr", &new_key.public())),
    );
    let (_b2, _) = block(&w, &t1, &mut registry, vec![rotate]);
    // The verifier holds the registry as of the head (after the rotation) and proves against block 1's root.
    let old = bundle_for(&b1, 1, 0, "S1", &w.mfr, &registry);
    check_bundle(&old, &w.sequencer.public(), None).unwrap();
    let mut claimed = old.clone();
    resign(&mut claimed, &new_key);
    assert!(matches!(
        check_bundle(&claimed, &w.sequencer.public(), None),
        Err(BundleError::KeyNotRegistered { .. })
    ));
}

/// Another pack, or the pack with another serial, lot or salt, does not open the event's packs_root; a bundle never
/// holds the other serial.
#[test]
fn a_pack_that_is_not_the_events_fails_and_the_others_stay_hidden() {
    let w = world();
    let bundle = sealed(&w);
    let raw = prost::Message::encode_to_vec(&bundle);
    // As a protobuf string (its length byte, then the bytes): two bytes alone turn up by chance in hashes and
    // signatures (about one bundle in seventy).
    assert!(raw.windows(3).any(|x| x == b"\x02S2"));
    assert!(
        !raw.windows(3).any(|x| x == b"\x02S1"),
        "the other serial is in the bundle"
    );
    for edit in [
        (|p: &mut pedigree_core::pb::PackOpening| p.serial = "S1".into()) as fn(&mut pedigree_core::pb::PackOpening),
        |p| p.lot = "L2".into(),
        |p| p.salt[0] ^= 1,
        |p| p.inclusion.as_mut().unwrap().leaf_index = 0,
    ] {
        let mut changed = bundle.clone();
        edit(changed.pack.as_mut().unwrap());
        assert!(matches!(
            check_bundle(&changed, &w.sequencer.public(), None),
            Err(BundleError::Pack(_))
        ));
    }
}

/// A core of another chain is refused when the chain is pinned, and its header never verifies for it anyway.
#[test]
fn a_bundle_for_another_chain_fails() {
    let w = world();
    let bundle = sealed(&w);
    let other = [7u8; 32];
    assert!(matches!(
        check_bundle(&bundle, &w.sequencer.public(), Some(&other)),
        Err(BundleError::WrongChain { .. })
    ));
    let mut moved = bundle.clone();
    moved.event_core[..32].copy_from_slice(&other);
    assert!(matches!(
        check_bundle(&moved, &w.sequencer.public(), None),
        Err(BundleError::Header(_))
    ));
}
