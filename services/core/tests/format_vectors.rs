//! The test vectors of docs/ledger-format.md, regenerated from fixed keys and inputs and compared byte for byte with
//! docs/vectors/ledger-v2.json. `PEDIGREE_WRITE_VECTORS=1 cargo test -p pedigree-core --test format_vectors`
//! rewrites the file (only when the format changes on purpose).

use std::path::PathBuf;

use pedigree_core::Hash;
use pedigree_core::block::{BlockContent, Tip, header_hash, seal};
use pedigree_core::body;
use pedigree_core::envelope::sign_payload;
use pedigree_core::event::event_id;
use pedigree_core::keys::{EVENT_TAG, HEADER_TAG, KeyPair, tagged_hash, tagged_hash_parts};
use pedigree_core::merkle::leaf_hash;
use pedigree_core::participant::{Genesis, ParticipantEntry, Role};
use pedigree_core::pb::{EventPayload, PartitionOffset, RejectCode, Rejection};
use pedigree_core::proof::{BundleJson, check_bundle, make_bundle};
use prost::Message;
use serde_json::{Value, json};

fn key(first: u8) -> KeyPair {
    let bytes: [u8; 32] = std::array::from_fn(|i| first + i as u8);
    KeyPair::from_secret_bytes(&bytes).expect("a valid scalar")
}

fn payload(
    chain: &Hash,
    signer: &str,
    nonce: u8,
    ts: i64,
    body: pedigree_core::pb::event_payload::Body,
) -> EventPayload {
    EventPayload {
        signer: signer.into(),
        timestamp_ms: ts,
        nonce: vec![nonce; 16],
        chain_id: chain.to_vec(),
        seed: vec![nonce ^ 0x5a; 32],
        body: Some(body),
    }
}

fn genesis(participant: &KeyPair, sequencer: &KeyPair, governance: &KeyPair) -> Genesis {
    Genesis {
        chain_name: "pedigree-vectors".into(),
        sequencer_public_key: sequencer.public().to_hex(),
        governance_public_key: Some(governance.public().to_hex()),
        participants: vec![ParticipantEntry {
            id: "acme-pharma".into(),
            role: Role::Manufacturer,
            name: "Acme Pharma GmbH".into(),
            gln: None,
            public_key: participant.public().to_hex(),
        }],
    }
}

fn generate() -> Value {
    let (participant, sequencer, governance) = (key(1), key(0x41), key(0x61));
    let genesis = genesis(&participant, &sequencer, &governance);
    let chain = genesis.chain_id().expect("a valid genesis");
    let registry = pedigree_core::participant::Registry::from_genesis(&genesis).expect("a valid genesis");
    let gtin = "09506000134352";
    let commission = payload(
        &chain,
        "acme-pharma",
        7,
        1_767_225_600_000,
        body::commission(gtin, "LOT42A", "281231", &["SN1", "SN2"]),
    );
    let ship = payload(
        &chain,
        "acme-pharma",
        8,
        1_767_225_601_000,
        body::ship(gtin, &["SN1"], "medline-wholesale"),
    );
    let envelopes = [
        sign_payload(&participant, &commission),
        sign_payload(&participant, &ship),
    ];
    let rejection = Rejection {
        event_id: vec![0xEE; 32],
        code: RejectCode::NotHolder as i32,
        reason: "serial SN9: held by 'x', not by 'y'".into(),
    };
    let content = BlockContent {
        events: envelopes.to_vec(),
        rejected: vec![rejection],
        resume_offsets: vec![PartitionOffset {
            partition: 0,
            next_offset: 3,
        }],
        time_ms: 1_767_225_602_000,
        epoch: 1,
        registry_root: registry.root(),
    };
    let (block, _) = seal(&sequencer, &Tip::genesis(chain), content);
    let header = block.header.clone().expect("sealed blocks have a header");
    let id = event_id(&envelopes[1].payload);
    let participants: Vec<_> = registry.participants().cloned().collect();
    let bundle =
        make_bundle(&block, 1, &id, "SN1", &participant.public(), &participants).expect("the event is in the block");
    check_bundle(&bundle, &sequencer.public(), Some(&chain)).expect("the vector bundle checks out");
    let events: Vec<Value> = envelopes
        .iter()
        .map(|e| {
            let id = event_id(&e.payload);
            json!({
                "payload": hex::encode(&e.payload),
                "signed_digest": hex::encode(tagged_hash(EVENT_TAG, &e.payload)),
                "signature": hex::encode(&e.signature),
                "envelope": hex::encode(e.encode_to_vec()),
                "event_id": hex::encode(id),
                "leaf_hash": hex::encode(leaf_hash(&id)),
            })
        })
        .collect();
    // A registry change signed by the governance key (signer "governance"); not part of the block above.
    let register = payload(
        &chain,
        "governance",
        9,
        1_767_225_603_000,
        body::register_participant(
            "bay-pharmacy",
            pedigree_core::pb::ParticipantRole::Pharmacy,
            "Bay Pharmacy",
            "0614141000005",
            &key(0x21).public(),
        ),
    );
    let register = sign_payload(&governance, &register);
    json!({
        "genesis": genesis,
        "genesis_canonical_bytes": hex::encode(genesis.canonical_bytes().expect("a valid genesis")),
        "chain_id": hex::encode(chain),
        "governance_secret": hex::encode(std::array::from_fn::<u8, 32, _>(|i| 0x61 + i as u8)),
        "governance_public_key": governance.public().to_hex(),
        "governance_event": {
            "payload": hex::encode(&register.payload),
            "signed_digest": hex::encode(tagged_hash(EVENT_TAG, &register.payload)),
            "signature": hex::encode(&register.signature),
            "event_id": hex::encode(event_id(&register.payload)),
        },
        "participant_secret": hex::encode(std::array::from_fn::<u8, 32, _>(|i| 1 + i as u8)),
        "participant_public_key": participant.public().to_hex(),
        "sequencer_secret": hex::encode(std::array::from_fn::<u8, 32, _>(|i| 0x41 + i as u8)),
        "sequencer_public_key": sequencer.public().to_hex(),
        "sequencer_key_id": sequencer.key_id(),
        "events": events,
        "header": hex::encode(&header.header),
        "header_signed_digest": hex::encode(tagged_hash_parts(HEADER_TAG, &[&chain, &header.header])),
        "header_hash": hex::encode(header_hash(&chain, &header.header)),
        "header_signature": hex::encode(&header.signature),
        "block": hex::encode(block.encode_to_vec()),
        "bundle_for_event_1": BundleJson::from_bundle(&bundle),
    })
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
