//! The compact stored form of a pack: round trips, and the size bound that keeps it in a Redis listpack entry.

use pedigree_core::keys::KeyPair;
use pedigree_core::participant::{Genesis, ParticipantEntry, Registry, Role};
use pedigree_core::pb::{DecommissionReason, PackRecord, PackStatus};
use pedigree_core::stored::{StoredError, decode_pack, encode_pack};
use proptest::prelude::*;

/// 300 participants with the longest ids allowed, so indexes take two bytes.
fn registry() -> Registry {
    let key = KeyPair::generate().public().to_hex();
    let participants = (0..300)
        .map(|i| ParticipantEntry {
            id: format!("{i:0>64}"),
            role: Role::Distributor,
            name: "p".into(),
            gln: None,
            public_key: KeyPair::generate().public().to_hex(),
        })
        .collect();
    Registry::from_genesis(&Genesis {
        chain_name: "stored".into(),
        sequencer_public_key: key.clone(),
        governance_public_key: None,
        participants,
    })
    .unwrap()
}

fn id(i: usize) -> String {
    format!("{i:0>64}")
}

proptest! {
    #[test]
    fn any_pack_outside_containers_round_trips_within_64_bytes(
        status in 0i32..6,
        (holder, receiver, from) in (0usize..300, proptest::option::of(0usize..300), proptest::option::of(0usize..300)),
        lot in "[!-~]{1,20}",
        expiry in "[0-9]{6}",
        last_height in any::<u64>(),
        last_index in 0u32..10_000,
        changed_at_ms in proptest::option::of(1_600_000_000_000i64..4_000_000_000_000),
        reason in 0i32..7,
        owner in proptest::option::of(0usize..300),
        suspect in 0i32..3,
    ) {
        let registry = registry();
        let record = PackRecord {
            lot,
            expiry,
            status,
            holder: id(holder),
            receiver: receiver.map(id).unwrap_or_default(),
            last_event_id: vec![],
            last_height,
            changed_at_ms: changed_at_ms.unwrap_or_default(),
            decommission_reason: reason,
            received_from: from.map(id).unwrap_or_default(),
            last_index,
            parent: String::new(),
            owner: owner.map(id).unwrap_or_default(),
            repackaged_by: Vec::new(),
            suspect,
        };
        let bytes = encode_pack(&record, &registry).unwrap();
        prop_assert!(bytes.len() <= 64, "{} bytes", bytes.len());
        prop_assert_eq!(decode_pack(&bytes, &registry).unwrap(), record);
    }
}

#[test]
fn a_repackaged_pack_keeps_the_id_of_the_event_that_made_it() {
    let registry = registry();
    let mut record = PackRecord {
        lot: "R1".into(),
        expiry: "280630".into(),
        holder: id(3),
        owner: id(1),
        repackaged_by: vec![7; 32],
        ..Default::default()
    };
    record.set_status(PackStatus::Active);
    let bytes = encode_pack(&record, &registry).unwrap();
    assert_eq!(decode_pack(&bytes, &registry).unwrap(), record);
}

#[test]
fn a_typical_pack_takes_about_twenty_bytes() {
    let registry = registry();
    let mut record = PackRecord {
        lot: "LOT42A".into(),
        expiry: "281231".into(),
        holder: id(3),
        received_from: id(1),
        last_height: 123_456,
        last_index: 17,
        changed_at_ms: 1_795_000_000_000,
        ..Default::default()
    };
    record.set_status(PackStatus::Dispensed);
    record.set_decommission_reason(DecommissionReason::Unspecified);
    let bytes = encode_pack(&record, &registry).unwrap();
    assert!(bytes.len() <= 32, "{} bytes", bytes.len());
}

#[test]
fn a_typical_pack_in_a_case_or_on_a_pallet_fits_a_listpack_entry() {
    let registry = registry();
    for parent in ["00106141411234567897", "011095060001343521CASE-000123"] {
        let mut record = PackRecord {
            lot: "LOT42A".into(),
            expiry: "281231".into(),
            holder: id(3),
            received_from: id(1),
            last_height: 123_456,
            last_index: 17,
            parent: parent.into(),
            ..Default::default()
        };
        record.set_status(PackStatus::Active);
        let bytes = encode_pack(&record, &registry).unwrap();
        assert!(bytes.len() <= 64, "{parent}: {} bytes", bytes.len());
        assert_eq!(decode_pack(&bytes, &registry).unwrap(), record);
    }
}

#[test]
fn a_packed_pack_is_stored_without_its_status_and_read_back_active() {
    let registry = registry();
    // As bulk aggregation leaves a pack in a case: no holder of its own, only its parent SSCC.
    let mut record = PackRecord {
        lot: "LOT42A".into(),
        expiry: "281231".into(),
        last_height: 123_456,
        last_index: 17,
        parent: "00106141411234567897".into(),
        ..Default::default()
    };
    record.set_status(PackStatus::Active);
    let bytes = encode_pack(&record, &registry).unwrap();
    // lot 8, expiry 4, height 4, index 2, parent 9 (with the status it took 29).
    assert_eq!(bytes.len(), 27, "{bytes:02x?}");
    assert_eq!(decode_pack(&bytes, &registry).unwrap(), record);
}

#[test]
fn unknown_participants_are_errors_not_guesses() {
    let registry = registry();
    let record = PackRecord {
        holder: "nobody".into(),
        ..Default::default()
    };
    assert_eq!(
        encode_pack(&record, &registry),
        Err(StoredError::UnknownParticipant("nobody".into()))
    );
    let stored = pedigree_core::pb::StoredPack {
        holder: 999,
        ..Default::default()
    };
    use prost::Message;
    assert_eq!(
        decode_pack(&stored.encode_to_vec(), &registry),
        Err(StoredError::UnknownIndex(998))
    );
}

#[test]
fn containers_round_trip_with_their_packs_grouped_by_gtin() {
    use pedigree_core::pb::ContainerRecord;
    use pedigree_core::stored::{decode_container, encode_container};
    let registry = registry();
    for parent in ["", "00006141411234567890", "011095060001343621CASE-000123"] {
        let mut record = ContainerRecord {
            holder: id(3),
            received_from: id(1),
            parent: parent.into(),
            packs: vec![
                "09506000134352SN1".into(),
                "09506000134352SN2".into(),
                "04012345678901X".into(),
                "09506000134352SN3".into(),
            ],
            containers: vec!["00106141411234567897".into()],
            depth: 2,
            last_height: 77,
            last_index: 3,
            ..Default::default()
        };
        record.set_status(PackStatus::InTransit);
        let bytes = encode_container(&record, &registry).unwrap();
        assert_eq!(decode_container(&bytes, &registry).unwrap(), record, "{parent}");
    }
}
