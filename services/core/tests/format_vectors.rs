//! The test vectors of docs/ledger-format.md, regenerated from fixed keys and inputs and compared byte for byte with
//! docs/vectors/ledger-v1.json. `PEDIGREE_WRITE_VECTORS=1 cargo test -p pedigree-core --test format_vectors`
//! rewrites the file (only when the format changes on purpose).

use std::path::PathBuf;

use pedigree_core::block::{BlockContent, Tip, header_hash, seal};
use pedigree_core::body;
use pedigree_core::envelope::sign_payload;
use pedigree_core::event::event_id;
use pedigree_core::keys::{EVENT_TAG, HEADER_TAG, KeyPair, tagged_hash};
use pedigree_core::merkle::leaf_hash;
use pedigree_core::pb::{EventPayload, PartitionOffset, RejectCode, Rejection};
use pedigree_core::proof::{BundleJson, check_bundle, make_bundle};
use prost::Message;
use serde_json::{Value, json};

fn key(first: u8) -> KeyPair {
    let bytes: [u8; 32] = std::array::from_fn(|i| first + i as u8);
    KeyPair::from_secret_bytes(&bytes).expect("a valid scalar")
}

fn payload(signer: &str, nonce: u8, ts: i64, body: pedigree_core::pb::event_payload::Body) -> EventPayload {
    EventPayload {
        signer: signer.into(),
        timestamp_ms: ts,
        nonce: vec![nonce; 16],
        body: Some(body),
    }
}

fn generate() -> Value {
    let (participant, sequencer) = (key(1), key(0x41));
    let gtin = "09506000134352";
    let commission = payload(
        "acme-pharma",
        7,
        1_767_225_600_000,
        body::commission(gtin, "LOT42A", "281231", &["SN1", "SN2"]),
    );
    let ship = payload(
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
    };
    let (block, _) = seal(&sequencer, &Tip::default(), content);
    let header = block.header.clone().expect("sealed blocks have a header");
    let id = event_id(&envelopes[1].payload);
    let bundle = make_bundle(&block, &id, &participant.public()).expect("the event is in the block");
    check_bundle(&bundle, &sequencer.public()).expect("the vector bundle checks out");
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
    let governance = key(0x61);
    let register = payload(
        "governance",
        9,
        1_767_225_603_000,
        body::register_participant(
            "bay-pharmacy",
            pedigree_core::pb::ParticipantRole::Pharmacy,
            "Bay Pharmacy",
            "0614141000005",
            &participant.public(),
        ),
    );
    let register = sign_payload(&governance, &register);
    json!({
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
        "header_signed_digest": hex::encode(tagged_hash(HEADER_TAG, &header.header)),
        "header_hash": hex::encode(header_hash(&header.header)),
        "header_signature": hex::encode(&header.signature),
        "block": hex::encode(block.encode_to_vec()),
        "bundle_for_event_1": BundleJson::from_bundle(&bundle),
    })
}

#[test]
fn format_vectors_match_the_documented_ones() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/vectors/ledger-v1.json");
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
