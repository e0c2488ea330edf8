//! `envelope::check_envelope`: the single gate every signed event passes, against a registry built from a genesis made
//! here. Each refusal reason is triggered on its own, then properties: a flipped bit is never accepted, and any valid
//! set of serials survives signing and checking unchanged.

use std::collections::HashMap;
use std::sync::LazyLock;

use pedigree_core::body;
use pedigree_core::decode::MAX_SERIALS;
use pedigree_core::envelope::{MAX_PAYLOAD_BYTES, check_envelope, new_payload, sign_payload};
use pedigree_core::event::{Body, Event, EventError, Line, event_id};
use pedigree_core::gs1::{Expiry, Gs1Error, Gtin, Lot, Serial};
use pedigree_core::keys::{HEADER_TAG, KeyError, KeyPair};
use pedigree_core::kind::EventKind;
use pedigree_core::participant::{Genesis, ParticipantEntry, Registry, Role};
use pedigree_core::pb::{self, RejectCode, event_payload};
use proptest::prelude::*;
use prost::Message;

const GTIN: &str = "09506000134352";
const LOT: &str = "LOT-7";
const EXPIRY: &str = "271231";

/// A registry of m (manufacturer), d1 and d2 (distributors), p1 (pharmacy), r (repackager) and t (3PL), with their
/// keys.
struct World {
    registry: Registry,
    /// The same participants and keys on another deployment (another chain name, so another chain id).
    other_chain: Registry,
    keys: HashMap<&'static str, KeyPair>,
}

static WORLD: LazyLock<World> = LazyLock::new(|| {
    let parties = [
        ("m", Role::Manufacturer),
        ("d1", Role::Distributor),
        ("d2", Role::Distributor),
        ("p1", Role::Pharmacy),
        ("r", Role::Repackager),
        ("t", Role::ThirdPartyLogistics),
    ];
    let keys: HashMap<&'static str, KeyPair> = parties.iter().map(|(id, _)| (*id, KeyPair::generate())).collect();
    let genesis = Genesis {
        chain_name: "pedigree-test".into(),
        sequencer_public_key: KeyPair::generate().public().to_hex(),
        governance_public_key: None,
        participants: parties
            .iter()
            .map(|(id, role)| ParticipantEntry {
                id: id.to_string(),
                role: *role,
                name: format!("party {id}"),
                gln: None,
                public_key: keys[id].public().to_hex(),
            })
            .collect(),
    };
    let other = Genesis {
        chain_name: "pedigree-other".into(),
        ..genesis.clone()
    };
    World {
        registry: Registry::from_genesis(&genesis).unwrap(),
        other_chain: Registry::from_genesis(&other).unwrap(),
        keys,
    }
});

fn key(id: &str) -> &'static KeyPair {
    &WORLD.keys[id]
}

fn check(envelope: &pb::SignedEnvelope) -> Result<Event, EventError> {
    check_envelope(envelope, &WORLD.registry)
}

/// `payload` signed by `signer`'s own key.
fn signed(payload: &pb::EventPayload) -> pb::SignedEnvelope {
    sign_payload(key(&payload.signer), payload)
}

/// A fresh payload of `body` by `signer`, signed by `signer`.
fn envelope(signer: &str, body: event_payload::Body) -> pb::SignedEnvelope {
    signed(&new_payload(&WORLD.registry.chain_id, signer, body))
}

/// Raw bytes presented as `signer`'s payload, signed with `signer`'s key.
fn raw(signer: &str, bytes: Vec<u8>) -> pb::SignedEnvelope {
    pb::SignedEnvelope {
        signature: key(signer).sign_digest(&event_id(&bytes)),
        signer: signer.into(),
        payload: bytes,
    }
}

fn commission(serials: &[&str]) -> event_payload::Body {
    body::commission(GTIN, LOT, EXPIRY, serials)
}

fn commission_with(gtin: &str, lot: &str, expiry: &str) -> event_payload::Body {
    body::commission(gtin, lot, expiry, &["S1"])
}

fn field_error(envelope: &pb::SignedEnvelope) -> (String, Gs1Error, String) {
    match check(envelope) {
        Err(err @ EventError::Field { .. }) => {
            let message = err.to_string();
            let EventError::Field { field, source } = err else {
                unreachable!()
            };
            (field, source, message)
        }
        other => panic!("expected a field error, got {other:?}"),
    }
}

fn serials(names: &[&str]) -> Vec<Serial> {
    names.iter().map(|s| Serial::parse(s).unwrap()).collect()
}

fn gtin() -> Gtin {
    Gtin::parse(GTIN).unwrap()
}

// ---------------------------------------------------------------------------------------------------------------
// Accepted events.

#[test]
fn valid_commission_is_accepted_with_its_id_and_fields() {
    let payload = new_payload(&WORLD.registry.chain_id, "m", commission(&["S1", "S2"]));
    let envelope = signed(&payload);
    let event = check(&envelope).unwrap();
    assert_eq!(event.body.kind(), EventKind::Commission);
    assert_eq!(event.id, event_id(&envelope.payload));
    assert_eq!(event.id, event_id(&envelope.payload));
    assert_eq!(event.signer, "m");
    assert_eq!(event.signer_role, Role::Manufacturer);
    assert_eq!(event.timestamp_ms, payload.timestamp_ms);
    assert_eq!(
        event.body,
        Body::Commission {
            gtin: gtin(),
            lot: Lot::parse(LOT).unwrap(),
            expiry: Expiry::parse(EXPIRY).unwrap(),
            serials: serials(&["S1", "S2"]),
            sources: Vec::new(),
        }
    );
}

#[test]
fn valid_ship_is_accepted() {
    let envelope = envelope("m", body::ship(GTIN, &["S1"], "d1"));
    let event = check(&envelope).unwrap();
    assert_eq!(event.body.kind(), EventKind::Ship);
    assert_eq!(event.id, event_id(&envelope.payload));
    assert_eq!(
        event.body,
        Body::Ship {
            lines: vec![Line {
                gtin: gtin(),
                serials: serials(&["S1"]),
            }],
            containers: Vec::new(),
            receiver: "d1".into(),
            documents: None,
            owner: None,
        }
    );
}

#[test]
fn valid_receive_is_accepted() {
    let envelope = envelope("d1", body::receive(GTIN, &["S1", "S2"], "m"));
    let event = check(&envelope).unwrap();
    assert_eq!(event.body.kind(), EventKind::Receive);
    assert_eq!(event.id, event_id(&envelope.payload));
    assert_eq!(event.signer_role, Role::Distributor);
    assert_eq!(
        event.body,
        Body::Receive {
            lines: vec![Line {
                gtin: gtin(),
                serials: serials(&["S1", "S2"]),
            }],
            refused: Vec::new(),
            over: Vec::new(),
            containers: Vec::new(),
            sender: "m".into(),
        }
    );
}

#[test]
fn valid_dispense_is_accepted() {
    let envelope = envelope("p1", body::dispense(GTIN, &["S1"]));
    let event = check(&envelope).unwrap();
    assert_eq!(event.body.kind(), EventKind::Dispense);
    assert_eq!(event.id, event_id(&envelope.payload));
    assert_eq!(event.signer_role, Role::Pharmacy);
    assert_eq!(
        event.body,
        Body::Dispense {
            gtin: gtin(),
            serials: serials(&["S1"])
        }
    );
}

#[test]
fn shipments_name_each_gtin_once_and_carry_checked_documents() {
    let lines = [
        ("09506000134352", &["S1".to_string()][..]),
        ("04012345678901", &["S1".to_string()][..]),
    ];
    let documents = pedigree_core::pb::TradeDocuments {
        purchase_order: "PO-4471".into(),
        invoice: "INV-2026-0042".into(),
        despatch_advice: "DESADV-9".into(),
        ship_date: "2026-11-30".into(),
    };
    let event = check(&envelope("m", body::ship_lines(&lines, "d1", Some(documents.clone())))).unwrap();
    let Body::Ship {
        lines: got,
        documents: Some(d),
        ..
    } = &event.body
    else {
        panic!("a shipment with documents: {:?}", event.body);
    };
    assert_eq!(
        (got.len(), d.purchase_order.as_str(), d.ship_date.as_str()),
        (2, "PO-4471", "2026-11-30")
    );
    let twice = [
        ("09506000134352", &["S1".to_string()][..]),
        ("09506000134352", &["S2".to_string()][..]),
    ];
    let err = check(&envelope("m", body::ship_lines(&twice, "d1", None))).unwrap_err();
    assert_eq!(err.to_string(), "lines: '09506000134352' appears twice in the event");
    let bad_date = pedigree_core::pb::TradeDocuments {
        ship_date: "2026-02-30".into(),
        ..documents
    };
    let err = check(&envelope("m", body::ship_lines(&lines, "d1", Some(bad_date)))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ship_date: must be a date YYYY-MM-DD, got '2026-02-30'"
    );
    let err = check(&envelope("m", body::ship_lines(&[], "d1", None))).unwrap_err();
    assert!(err.to_string().starts_with("serials: names nothing"), "{err}");
}

#[test]
fn two_identical_actions_get_distinct_ids() {
    let a = check(&envelope("m", commission(&["S1"]))).unwrap();
    let b = check(&envelope("m", commission(&["S1"]))).unwrap();
    assert_ne!(a.id, b.id, "the random nonce must make ids distinct");
}

#[test]
fn roles_sign_exactly_their_kinds() {
    let bodies = [
        (EventKind::Commission, commission(&["S1"])),
        (EventKind::Ship, body::ship(GTIN, &["S1"], "d2")),
        (EventKind::Receive, body::receive(GTIN, &["S1"], "d2")),
        (EventKind::Dispense, body::dispense(GTIN, &["S1"])),
    ];
    let allowed = [
        // Manufacturers receive saleable returns and recalled stock coming back.
        ("m", vec![EventKind::Commission, EventKind::Ship, EventKind::Receive]),
        ("d1", vec![EventKind::Ship, EventKind::Receive]),
        ("p1", vec![EventKind::Receive, EventKind::Dispense]),
    ];
    for (signer, kinds) in allowed {
        for (kind, body) in &bodies {
            let result = check(&envelope(signer, body.clone()));
            if kinds.contains(kind) {
                assert_eq!(result.map(|e| e.body.kind()), Ok(*kind), "{signer} {kind:?}");
            } else {
                assert!(
                    matches!(result, Err(EventError::RoleNotAllowed { .. })),
                    "{signer} {kind:?}: {result:?}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Envelope-level refusals.

#[test]
fn payload_over_the_limit_is_refused_before_anything_else() {
    let envelope = pb::SignedEnvelope {
        payload: vec![0; MAX_PAYLOAD_BYTES + 1],
        signature: vec![],
        signer: "nobody".into(),
    };
    assert_eq!(
        check(&envelope),
        Err(EventError::PayloadTooLarge {
            size: MAX_PAYLOAD_BYTES + 1,
            max: MAX_PAYLOAD_BYTES
        })
    );
}

#[test]
fn payload_at_the_limit_passes_the_size_check() {
    // Zero bytes are not a valid message, so the next gate (decoding) is what refuses it.
    let result = check(&raw("m", vec![0; MAX_PAYLOAD_BYTES]));
    assert!(matches!(result, Err(EventError::Decode(_))), "{result:?}");
}

#[test]
fn commission_of_max_serials_of_max_length_fits_the_payload_limit() {
    let names: Vec<String> = (0..MAX_SERIALS).map(|i| format!("{i:0>20}")).collect();
    let envelope = envelope("m", body::commission(GTIN, &"L".repeat(20), EXPIRY, &names));
    assert!(
        envelope.payload.len() <= MAX_PAYLOAD_BYTES,
        "{} bytes",
        envelope.payload.len()
    );
    assert_eq!(check(&envelope).unwrap().body.serials().len(), MAX_SERIALS);
}

#[test]
fn undecodable_payload_is_refused() {
    let result = check(&raw("m", vec![0xff, 0xff, 0xff]));
    assert!(matches!(result, Err(EventError::Decode(_))), "{result:?}");
    assert_eq!(result.unwrap_err().reject_code(), RejectCode::Malformed);
}

#[test]
fn payload_without_a_body_is_refused() {
    let payload = pb::EventPayload {
        signer: "m".into(),
        timestamp_ms: 1,
        nonce: vec![7; 16],
        chain_id: WORLD.registry.chain_id.to_vec(),
        seed: vec![9; 32],
        body: None,
    };
    assert_eq!(check(&signed(&payload)), Err(EventError::MissingBody));
}

#[test]
fn payload_signer_differing_from_envelope_signer_is_refused() {
    // Signed by m, presented as m, but the payload claims d1 acted.
    let payload = new_payload(&WORLD.registry.chain_id, "d1", body::ship(GTIN, &["S1"], "d2"));
    let envelope = sign_payload(key("m"), &payload);
    let envelope = pb::SignedEnvelope {
        signer: "m".into(),
        ..envelope
    };
    assert_eq!(
        check(&envelope),
        Err(EventError::SignerMismatch {
            envelope: "m".into(),
            payload: "d1".into()
        })
    );
}

#[test]
fn nonce_outside_8_to_64_bytes_is_refused() {
    for (len, ok) in [(0, false), (7, false), (8, true), (64, true), (65, false)] {
        let mut payload = new_payload(&WORLD.registry.chain_id, "m", commission(&["S1"]));
        payload.nonce = vec![0x5a; len];
        let result = check(&signed(&payload));
        if ok {
            assert!(result.is_ok(), "nonce of {len} bytes: {result:?}");
        } else {
            assert_eq!(result, Err(EventError::Nonce(len)));
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Field syntax.

#[test]
fn gtin_with_a_bad_check_digit_is_refused() {
    let (field, source, message) = field_error(&envelope("m", commission_with("09506000134353", LOT, EXPIRY)));
    assert_eq!(field, "gtin");
    assert!(
        matches!(source, Gs1Error::GtinCheckDigit { found: 3, expected: 2 }),
        "{source:?}"
    );
    assert!(message.starts_with("gtin: check digit"), "{message}");
}

#[test]
fn gtin_is_checked_in_every_kind() {
    let bad = "09506000134353";
    for (signer, body) in [
        ("m", body::ship(bad, &["S1"], "d1")),
        ("d1", body::receive(bad, &["S1"], "m")),
        ("p1", body::dispense(bad, &["S1"])),
    ] {
        let (field, _, _) = field_error(&envelope(signer, body));
        assert_eq!(field, "gtin");
    }
}

#[test]
fn lot_outside_character_set_82_is_refused() {
    let (field, source, message) = field_error(&envelope("m", commission_with(GTIN, "LOT 7", EXPIRY)));
    assert_eq!(field, "lot");
    assert_eq!(source, Gs1Error::TextCharacter { field: "lot", ch: ' ' });
    assert_eq!(message, "lot: character ' ' is not in gs1 character set 82");
}

#[test]
fn lot_of_21_characters_is_refused() {
    let (field, source, message) = field_error(&envelope("m", commission_with(GTIN, &"L".repeat(21), EXPIRY)));
    assert_eq!(field, "lot");
    assert_eq!(source, Gs1Error::TextLength { field: "lot", got: 21 });
    assert_eq!(message, "lot: must be 1 to 20 characters, got 21");
    // 20 is fine.
    assert!(check(&envelope("m", commission_with(GTIN, &"L".repeat(20), EXPIRY))).is_ok());
}

#[test]
fn impossible_expiry_dates_are_refused() {
    for (expiry, want) in [
        ("271331", Gs1Error::ExpiryMonth { month: 13 }),
        ("270132", Gs1Error::ExpiryDay { day: 32, month: 1 }),
        ("28023", Gs1Error::ExpiryLength { got: 5 }),
    ] {
        let (field, source, message) = field_error(&envelope("m", commission_with(GTIN, LOT, expiry)));
        assert_eq!(field, "expiry", "{expiry}");
        assert_eq!(source, want, "{expiry}");
        assert!(message.starts_with("expiry: "), "{message}");
    }
    // Day 00 (last day of the month) is valid.
    assert!(check(&envelope("m", commission_with(GTIN, LOT, "280200"))).is_ok());
}

#[test]
fn event_without_serials_is_refused() {
    assert_eq!(check(&envelope("m", commission(&[]))), Err(EventError::NoSerials));
    assert_eq!(
        check(&envelope("p1", body::dispense(GTIN, &[] as &[&str]))),
        Err(EventError::NoSerials)
    );
}

#[test]
fn event_with_more_than_max_serials_is_refused() {
    let names: Vec<String> = (0..=MAX_SERIALS).map(|i| format!("S{i}")).collect();
    let envelope = envelope("m", body::commission(GTIN, LOT, EXPIRY, &names));
    assert!(envelope.payload.len() <= MAX_PAYLOAD_BYTES);
    assert_eq!(
        check(&envelope),
        Err(EventError::TooManySerials {
            got: MAX_SERIALS + 1,
            max: MAX_SERIALS
        })
    );
}

#[test]
fn duplicate_serial_is_refused() {
    let result = check(&envelope("m", body::ship(GTIN, &["S1", "S2", "S1"], "d1")));
    assert_eq!(result, Err(EventError::DuplicateSerial("S1".into())));
}

#[test]
fn bad_serial_is_reported_with_its_position() {
    let (field, source, message) = field_error(&envelope("m", commission(&["S1", "S#2"])));
    assert_eq!(field, "serials[1]");
    assert_eq!(
        source,
        Gs1Error::TextCharacter {
            field: "serial",
            ch: '#'
        }
    );
    assert_eq!(
        message,
        "serials[1]: serial: character '#' is not in gs1 character set 82"
    );
}

#[test]
fn malformed_counterparty_id_is_refused() {
    let result = check(&envelope("m", body::ship(GTIN, &["S1"], "D1")));
    assert_eq!(
        result,
        Err(EventError::BadParticipantId {
            field: "receiver",
            value: "D1".into()
        })
    );
    let result = check(&envelope("d1", body::receive(GTIN, &["S1"], "")));
    assert_eq!(
        result,
        Err(EventError::BadParticipantId {
            field: "sender",
            value: String::new()
        })
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Registry: signers, signatures, roles, counterparties.

#[test]
fn unknown_counterparty_is_refused() {
    let result = check(&envelope("m", body::ship(GTIN, &["S1"], "nobody")));
    assert_eq!(
        result,
        Err(EventError::UnknownParticipant {
            field: "receiver",
            value: "nobody".into()
        })
    );
    let result = check(&envelope("d1", body::receive(GTIN, &["S1"], "nobody")));
    assert_eq!(
        result,
        Err(EventError::UnknownParticipant {
            field: "sender",
            value: "nobody".into()
        })
    );
}

#[test]
fn shipping_to_or_receiving_from_oneself_is_refused() {
    let result = check(&envelope("m", body::ship(GTIN, &["S1"], "m")));
    assert_eq!(result, Err(EventError::SelfCounterparty { field: "receiver" }));
    let result = check(&envelope("d1", body::receive(GTIN, &["S1"], "d1")));
    assert_eq!(result, Err(EventError::SelfCounterparty { field: "sender" }));
}

#[test]
fn unknown_signer_is_refused() {
    let payload = new_payload(&WORLD.registry.chain_id, "ghost", commission(&["S1"]));
    let envelope = sign_payload(&KeyPair::generate(), &payload);
    assert_eq!(check(&envelope), Err(EventError::UnknownSigner("ghost".into())));
}

#[test]
fn flipped_signature_byte_is_refused() {
    let mut envelope = envelope("m", commission(&["S1"]));
    envelope.signature[40] ^= 0x01;
    let result = check(&envelope);
    assert!(matches!(result, Err(EventError::Signature(_))), "{result:?}");
}

#[test]
fn signature_by_another_key_is_refused() {
    let payload = new_payload(&WORLD.registry.chain_id, "m", commission(&["S1"]));
    let envelope = sign_payload(key("d1"), &payload);
    assert_eq!(check(&envelope), Err(EventError::Signature(KeyError::Mismatch)));
}

/// Two deployments whose participants share keys: an envelope signed for one is refused by the other, with a reason
/// that names both chains, and it is still good on its own chain.
#[test]
fn an_envelope_signed_for_another_chain_is_refused() {
    let other = WORLD.other_chain.chain_id;
    assert_ne!(other, WORLD.registry.chain_id);
    let envelope = signed(&new_payload(&other, "m", commission(&["S1"])));
    assert!(check_envelope(&envelope, &WORLD.other_chain).is_ok());
    let err = check(&envelope).unwrap_err();
    assert_eq!(
        err,
        EventError::WrongChain {
            expected: hex::encode(WORLD.registry.chain_id),
            got: hex::encode(other),
        }
    );
    assert_eq!(err.reject_code(), RejectCode::WrongChain);
    assert!(
        err.to_string().starts_with("chain_id: the event is for chain "),
        "{err}"
    );
    // A payload naming no chain at all is malformed.
    let mut payload = new_payload(&WORLD.registry.chain_id, "m", commission(&["S1"]));
    payload.chain_id.clear();
    assert!(matches!(
        check(&signed(&payload)),
        Err(EventError::Invalid { field: "chain_id", .. })
    ));
}

#[test]
fn signature_made_for_a_header_is_not_an_event_signature() {
    let mut envelope = envelope("m", commission(&["S1"]));
    envelope.signature = key("m").sign(HEADER_TAG, &envelope.payload);
    assert_eq!(check(&envelope), Err(EventError::Signature(KeyError::Mismatch)));
}

#[test]
fn truncated_or_missing_signature_is_refused() {
    let mut envelope = envelope("m", commission(&["S1"]));
    envelope.signature.truncate(63);
    assert_eq!(
        check(&envelope),
        Err(EventError::Signature(KeyError::SignatureLength(63)))
    );
    envelope.signature.clear();
    assert_eq!(
        check(&envelope),
        Err(EventError::Signature(KeyError::SignatureLength(0)))
    );
}

#[test]
fn a_payload_that_does_not_decode_is_malformed_whatever_its_signature() {
    // The signature is over the event id, which needs the decoded payload: decoding comes first.
    let mut envelope = raw("m", vec![0xff, 0xff, 0xff]);
    envelope.signature[10] ^= 0x80;
    let err = check(&envelope).unwrap_err();
    assert!(matches!(err, EventError::Decode(_)), "{err:?}");
    assert_eq!(err.reject_code(), RejectCode::Malformed);
}

#[test]
fn pharmacy_may_not_commission() {
    let result = check(&envelope("p1", commission(&["S1"])));
    assert_eq!(
        result,
        Err(EventError::RoleNotAllowed {
            signer: "p1".into(),
            role: "pharmacy",
            kind: "commission"
        })
    );
}

#[test]
fn distributor_may_not_dispense() {
    let result = check(&envelope("d1", body::dispense(GTIN, &["S1"])));
    assert_eq!(
        result,
        Err(EventError::RoleNotAllowed {
            signer: "d1".into(),
            role: "distributor",
            kind: "dispense"
        })
    );
}

#[test]
fn manufacturer_may_not_dispense() {
    let result = check(&envelope("m", body::dispense(GTIN, &["S1"])));
    assert_eq!(
        result,
        Err(EventError::RoleNotAllowed {
            signer: "m".into(),
            role: "manufacturer",
            kind: "dispense"
        })
    );
}

#[test]
fn reject_codes_map_each_error() {
    let gs1 = Gtin::parse("1").unwrap_err();
    let cases = [
        (EventError::UnknownSigner("x".into()), RejectCode::UnknownSigner),
        (EventError::Signature(KeyError::Mismatch), RejectCode::BadSignature),
        (EventError::Signature(KeyError::HighS), RejectCode::BadSignature),
        (
            EventError::RoleNotAllowed {
                signer: "x".into(),
                role: "pharmacy",
                kind: "ship",
            },
            RejectCode::RoleNotAllowed,
        ),
        (
            EventError::UnknownParticipant {
                field: "receiver",
                value: "x".into(),
            },
            RejectCode::UnknownParticipant,
        ),
        (EventError::PayloadTooLarge { size: 1, max: 0 }, RejectCode::Malformed),
        (EventError::Decode("x".into()), RejectCode::Malformed),
        (EventError::MissingBody, RejectCode::Malformed),
        (
            EventError::SignerMismatch {
                envelope: "a".into(),
                payload: "b".into(),
            },
            RejectCode::Malformed,
        ),
        (EventError::Nonce(0), RejectCode::Malformed),
        (
            EventError::Field {
                field: "gtin".into(),
                source: gs1,
            },
            RejectCode::Malformed,
        ),
        (EventError::NoSerials, RejectCode::Malformed),
        (EventError::TooManySerials { got: 2, max: 1 }, RejectCode::Malformed),
        (EventError::DuplicateSerial("S".into()), RejectCode::Malformed),
        (
            EventError::BadParticipantId {
                field: "sender",
                value: "X".into(),
            },
            RejectCode::Malformed,
        ),
        (EventError::SelfCounterparty { field: "sender" }, RejectCode::Malformed),
    ];
    for (err, code) in cases {
        assert_eq!(err.reject_code(), code, "{err:?}");
    }
}

#[test]
fn refusals_from_check_envelope_carry_their_codes() {
    let ghost = sign_payload(
        &KeyPair::generate(),
        &new_payload(&WORLD.registry.chain_id, "ghost", commission(&["S1"])),
    );
    let cases = [
        (ghost, RejectCode::UnknownSigner),
        (
            sign_payload(
                key("d1"),
                &new_payload(&WORLD.registry.chain_id, "m", commission(&["S1"])),
            ),
            RejectCode::BadSignature,
        ),
        (envelope("p1", commission(&["S1"])), RejectCode::RoleNotAllowed),
        (
            envelope("m", body::ship(GTIN, &["S1"], "nobody")),
            RejectCode::UnknownParticipant,
        ),
        (envelope("m", body::ship(GTIN, &["S1"], "m")), RejectCode::Malformed),
    ];
    for (envelope, code) in cases {
        assert_eq!(check(&envelope).unwrap_err().reject_code(), code);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Properties.

static VALID: LazyLock<pb::SignedEnvelope> = LazyLock::new(|| envelope("m", body::ship(GTIN, &["S1", "S2"], "d1")));

/// GS1 character set 82, 1 to 20 characters.
const SERIAL_REGEX: &str = "[!\"%-/0-9:-?A-Z_a-z]{1,20}";

proptest! {
    #[test]
    fn a_flipped_payload_bit_is_never_accepted(bit in 0..VALID.payload.len() * 8) {
        prop_assert!(check(&VALID).is_ok());
        let mut envelope = VALID.clone();
        envelope.payload[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(check(&envelope).is_err());
    }

    #[test]
    fn a_flipped_signature_bit_is_never_accepted(bit in 0usize..512) {
        let mut envelope = VALID.clone();
        envelope.signature[bit / 8] ^= 1 << (bit % 8);
        let result = check(&envelope);
        prop_assert!(matches!(result, Err(EventError::Signature(_))), "{:?}", result);
    }

    #[test]
    fn valid_serials_round_trip_through_sign_and_check(
        names in prop::collection::hash_set(SERIAL_REGEX, 1..50),
        lot in SERIAL_REGEX,
    ) {
        let names: Vec<String> = names.into_iter().collect();
        let payload = new_payload(&WORLD.registry.chain_id, "m", body::commission(GTIN, &lot, EXPIRY, &names));
        let envelope = sign_payload(key("m"), &payload);
        prop_assert_eq!(pb::EventPayload::decode(envelope.payload.as_slice()).unwrap(), payload);
        let event = check(&envelope).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(event.id, event_id(&envelope.payload));
        let Body::Commission { lot: got_lot, serials, .. } = event.body else {
            return Err(TestCaseError::fail("not a commission"));
        };
        prop_assert_eq!(got_lot.as_str(), lot.as_str());
        let got: Vec<&str> = serials.iter().map(Serial::as_str).collect();
        prop_assert_eq!(got, names.iter().map(String::as_str).collect::<Vec<_>>());
    }
}

#[test]
fn source_packs_belong_to_a_repackagers_commission_only() {
    let sources = [("09506000134369", &["OLD1".to_string()][..])];
    let by_repackager = body::repackage(GTIN, LOT, EXPIRY, &["NEW1"], &sources);
    let event = check(&envelope("r", by_repackager.clone())).expect("a repackager's commission with sources");
    let Body::Commission { sources: got, .. } = event.body else {
        panic!("not a commission")
    };
    assert_eq!(got[0].serials[0].as_str(), "OLD1");
    let err = check(&envelope("m", by_repackager)).unwrap_err();
    assert!(err.to_string().starts_with("sources: only a repackager"), "{err}");
    let err = check(&envelope("r", body::commission(GTIN, LOT, EXPIRY, &["NEW2"]))).unwrap_err();
    assert!(
        err.to_string().starts_with("sources: a repackager's commission names"),
        "{err}"
    );
    // A pack cannot be both made and used.
    let same = body::repackage(GTIN, LOT, EXPIRY, &["X1"], &[(GTIN, &["X1".to_string()][..])]);
    let err = check(&envelope("r", same)).unwrap_err();
    assert!(matches!(err, EventError::Duplicate { field: "sources", .. }), "{err}");
    // Nobody decommissions with the reason only a repackaging sets.
    let mut decommission = body::decommission(GTIN, &["S1"], pb::DecommissionReason::Stolen);
    if let event_payload::Body::Decommission(d) = &mut decommission {
        d.set_reason(pb::DecommissionReason::Repackaged);
    }
    let err = check(&envelope("m", decommission)).unwrap_err();
    assert!(err.to_string().starts_with("reason: repackaged is set by"), "{err}");
}

#[test]
fn a_shipment_names_an_owner_other_than_its_signer_and_one_that_exists() {
    let ok = check(&envelope("t", body::ship_for(GTIN, &["S1"], "d1", "m"))).expect("a 3pl ships for m");
    let Body::Ship { owner, .. } = ok.body else {
        panic!("not a ship")
    };
    assert_eq!(owner.as_deref(), Some("m"));
    let err = check(&envelope("t", body::ship_for(GTIN, &["S1"], "d1", "t"))).unwrap_err();
    assert_eq!(err, EventError::SelfCounterparty { field: "owner" });
    let err = check(&envelope("t", body::ship_for(GTIN, &["S1"], "d1", "nobody"))).unwrap_err();
    assert!(
        matches!(err, EventError::UnknownParticipant { field: "owner", .. }),
        "{err}"
    );
}

#[test]
fn a_pack_is_either_received_refused_or_over_delivered() {
    let s1 = ["S1".to_string()];
    let twice = body::receive_with_over(&[(GTIN, &s1[..])], &[(GTIN, &s1[..])], "m");
    let err = check(&envelope("d1", twice)).unwrap_err();
    assert!(matches!(err, EventError::Duplicate { field: "over", .. }), "{err}");
    let only_over = body::receive_with_over(&[], &[(GTIN, &s1[..])], "m");
    let event = check(&envelope("d1", only_over)).expect("a receipt recording only an over-delivery");
    let Body::Receive { over, lines, .. } = event.body else {
        panic!("not a receive")
    };
    assert_eq!((lines.len(), over.len()), (0, 1));
}
