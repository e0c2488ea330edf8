//! The auditor accepts an honest chain (with stale competitors skipped) and pinpoints tampering.

use pedigree_core::audit::{AuditError, Auditor};
use pedigree_core::block::{BlockContent, BlockError, Tip, header_hash, seal};
use pedigree_core::body;
use pedigree_core::context::BlockContext;
use pedigree_core::envelope::{new_payload, sign_payload};
use pedigree_core::governance::fold_governance;
use pedigree_core::keys::KeyPair;
use pedigree_core::participant::{GOVERNANCE_ID, Genesis, ParticipantEntry, Registry, Role};
use pedigree_core::pb::{Block, SignedEnvelope, event_payload::Body};
use prost::Message;

const GTIN: &str = "09506000134352";

struct World {
    sequencer: KeyPair,
    mfr: KeyPair,
    pharmacy: KeyPair,
    /// The genesis registry.
    registry: Registry,
    /// Governance's attestation of the manufacturer's GS1 company prefix, sealed first in block 1.
    attest: SignedEnvelope,
    /// The registry root from block 1 on (after the attestation).
    root: pedigree_core::Hash,
}

fn world() -> World {
    let (sequencer, mfr, pharmacy) = (KeyPair::generate(), KeyPair::generate(), KeyPair::generate());
    let governance = KeyPair::generate();
    let entry = |id: &str, role, key: &KeyPair| ParticipantEntry {
        id: id.into(),
        role,
        name: id.into(),
        gln: None,
        public_key: key.public().to_hex(),
    };
    let genesis = Genesis {
        chain_name: "audit".into(),
        sequencer_public_key: sequencer.public().to_hex(),
        governance_public_key: Some(governance.public().to_hex()),
        participants: vec![
            entry("mfr", Role::Manufacturer, &mfr),
            entry("ph", Role::Pharmacy, &pharmacy),
        ],
    };
    let registry = Registry::from_genesis(&genesis).unwrap();
    let attest = sign_payload(
        &governance,
        &new_payload(
            &registry.chain_id,
            GOVERNANCE_ID,
            body::attest_prefixes("mfr", &["9506000"]),
        ),
    );
    let root = fold_governance(&registry, BlockContext::new(1, 1), std::slice::from_ref(&attest))
        .unwrap()
        .unwrap()
        .root();
    World {
        sequencer,
        mfr,
        pharmacy,
        registry,
        attest,
        root,
    }
}

fn signed(w: &World, key: &KeyPair, id: &str, body: Body) -> SignedEnvelope {
    sign_payload(key, &new_payload(&w.registry.chain_id, id, body))
}

fn block(w: &World, tip: &Tip, events: Vec<SignedEnvelope>, epoch: u64) -> (Block, Tip) {
    let content = BlockContent {
        events,
        rejected: vec![],
        resume_offsets: vec![],
        time_ms: 1,
        epoch,
        registry_root: w.root,
    };
    seal(&w.sequencer, tip, content)
}

/// Three blocks: the manufacturer's prefix attested, its product registered and 3 packs commissioned; ship 1 to the
/// pharmacy; receive it.
fn honest_chain(w: &World) -> Vec<Block> {
    let register = signed(
        w,
        &w.mfr,
        "mfr",
        body::register_product(GTIN, "Paracetamol", "500 mg", "tablet", 20),
    );
    let commission = signed(
        w,
        &w.mfr,
        "mfr",
        body::commission(GTIN, "L1", "281231", &["A", "B", "C"]),
    );
    let ship = signed(w, &w.mfr, "mfr", body::ship(GTIN, &["A"], "ph"));
    let receive = signed(w, &w.pharmacy, "ph", body::receive(GTIN, &["A"], "mfr"));
    let (b1, t1) = block(
        w,
        &Tip::genesis(w.registry.chain_id),
        vec![w.attest.clone(), register, commission],
        1,
    );
    let (b2, t2) = block(w, &t1, vec![ship], 1);
    let (b3, _) = block(w, &t2, vec![receive], 1);
    vec![b1, b2, b3]
}

fn audit(w: &World, blocks: &[Block]) -> Result<Auditor, AuditError> {
    let mut auditor = Auditor::new(w.registry.clone());
    for (position, b) in blocks.iter().enumerate() {
        auditor.check(position as u64, b)?;
    }
    Ok(auditor)
}

#[test]
fn an_honest_chain_audits_clean_and_replays_the_state() {
    let w = world();
    let auditor = audit(&w, &honest_chain(&w)).unwrap();
    assert_eq!(auditor.tip().height, 3);
    assert_eq!(
        (
            auditor.progress().blocks,
            auditor.progress().events,
            auditor.progress().packs
        ),
        (3, 5, 3)
    );
    assert_eq!(auditor.pack(&format!("{GTIN}A")).unwrap().holder, "ph");
}

#[test]
fn a_changed_event_is_caught_with_its_height() {
    let w = world();
    let mut chain = honest_chain(&w);
    chain[1].events[0].payload[3] ^= 1;
    let err = audit(&w, &chain).unwrap_err();
    assert_eq!(
        err,
        AuditError::Block {
            position: 1,
            source: BlockError::MerkleRoot
        }
    );
}

#[test]
fn reordered_events_are_caught() {
    let w = world();
    let e1 = signed(&w, &w.mfr, "mfr", body::commission(GTIN, "L1", "281231", &["A"]));
    let e2 = signed(&w, &w.mfr, "mfr", body::commission(GTIN, "L1", "281231", &["B"]));
    let (mut b1, _) = block(&w, &Tip::genesis(w.registry.chain_id), vec![e1, e2], 1);
    b1.events.swap(0, 1);
    assert_eq!(
        audit(&w, &[b1]).unwrap_err(),
        AuditError::Block {
            position: 0,
            source: BlockError::MerkleRoot
        }
    );
}

#[test]
fn a_forged_header_signature_is_caught() {
    let w = world();
    let mut chain = honest_chain(&w);
    let header = chain[2].header.as_mut().unwrap();
    header.signature = KeyPair::generate().sign_digest(&header_hash(&w.registry.chain_id, &header.header));
    let err = audit(&w, &chain).unwrap_err();
    assert!(
        matches!(
            err,
            AuditError::Block {
                position: 2,
                source: BlockError::Signature(_)
            }
        ),
        "{err}"
    );
}

#[test]
fn a_block_whose_time_goes_back_is_caught() {
    let w = world();
    let ship = signed(&w, &w.mfr, "mfr", body::ship(GTIN, &["A"], "ph"));
    let b1 = honest_chain(&w).swap_remove(0);
    let t1 = audit(&w, std::slice::from_ref(&b1)).unwrap().tip().clone();
    let earlier = BlockContent {
        events: vec![ship],
        rejected: vec![],
        resume_offsets: vec![],
        time_ms: 0,
        epoch: 1,
        registry_root: w.root,
    };
    let (b2, _) = seal(&w.sequencer, &t1, earlier);
    assert_eq!(
        audit(&w, &[b1, b2]).unwrap_err(),
        AuditError::Block {
            position: 1,
            source: BlockError::TimeWentBack { got: 0, tip: 1 }
        }
    );
}

#[test]
fn a_missing_block_is_a_gap() {
    let w = world();
    let mut chain = honest_chain(&w);
    chain.remove(1);
    assert_eq!(
        audit(&w, &chain).unwrap_err(),
        AuditError::Gap {
            position: 1,
            height: 3,
            tip: 1
        }
    );
}

#[test]
fn a_sealed_transition_that_breaks_the_rules_is_caught() {
    let w = world();
    let chain = honest_chain(&w);
    let tip = audit(&w, &chain).unwrap().tip().clone();
    // The pharmacy dispenses a pack it never received; a dishonest sequencer sealed it anyway.
    let bad = signed(&w, &w.pharmacy, "ph", body::dispense(GTIN, &["B"]));
    let (b4, _) = block(&w, &tip, vec![bad], 1);
    let err = audit(&w, &[chain, vec![b4]].concat()).unwrap_err();
    assert!(
        matches!(
            err,
            AuditError::Transition {
                height: 4,
                index: 0,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn an_event_sealed_twice_is_caught() {
    let w = world();
    let chain = honest_chain(&w);
    let tip = audit(&w, &chain).unwrap().tip().clone();
    let (again, _) = block(&w, &tip, vec![chain[0].events[0].clone()], 1);
    let err = audit(&w, &[chain, vec![again]].concat()).unwrap_err();
    assert!(matches!(err, AuditError::Replayed { height: 4, .. }), "{err}");
}

#[test]
fn stale_competitors_from_a_fenced_out_sequencer_are_skipped() {
    let w = world();
    let chain = honest_chain(&w);
    let t1 = audit(&w, &chain[..1]).unwrap().tip().clone();
    // A competitor for height 2 built on the same parent but appended after the winner...
    let late = signed(&w, &w.mfr, "mfr", body::ship(GTIN, &["B"], "ph"));
    let (competitor, _) = block(&w, &t1, vec![late], 1);
    let log = vec![chain[0].clone(), chain[1].clone(), competitor, chain[2].clone()];
    let auditor = audit(&w, &log).unwrap();
    assert_eq!((auditor.tip().height, auditor.progress().stale), (3, 1));
    // ...and a block from an older term than the head.
    let t3 = auditor.tip().clone();
    let (newer, t4) = block(
        &w,
        &t3,
        vec![signed(&w, &w.mfr, "mfr", body::ship(GTIN, &["C"], "ph"))],
        2,
    );
    let (older, _) = block(
        &w,
        &t4,
        vec![signed(&w, &w.mfr, "mfr", body::commission(GTIN, "L", "281231", &["D"]))],
        1,
    );
    let auditor = audit(&w, &[log, vec![newer, older]].concat()).unwrap();
    assert_eq!((auditor.tip().height, auditor.progress().stale), (4, 2));
}

#[test]
fn blocks_survive_their_wire_encoding() {
    let w = world();
    let chain: Vec<Block> = honest_chain(&w)
        .iter()
        .map(|b| Block::decode(b.encode_to_vec().as_slice()).unwrap())
        .collect();
    audit(&w, &chain).unwrap();
}
