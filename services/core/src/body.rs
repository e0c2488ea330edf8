//! Building event bodies (for the CLI, the load tester and tests); validation happens when they are checked.

use crate::container::ContainerKey;
use crate::pb::{self, event_payload::Body};

fn strings(serials: &[impl AsRef<str>]) -> Vec<String> {
    serials.iter().map(|s| s.as_ref().to_string()).collect()
}

pub fn commission(gtin: &str, lot: &str, expiry: &str, serials: &[impl AsRef<str>]) -> Body {
    Body::Commission(pb::Commission {
        gtin: gtin.into(),
        lot: lot.into(),
        expiry: expiry.into(),
        serials: strings(serials),
        sources: Vec::new(),
    })
}

/// A repackager's commission: new packs made of `sources` (GTIN by GTIN), which it holds.
pub fn repackage(
    gtin: &str,
    lot: &str,
    expiry: &str,
    serials: &[impl AsRef<str>],
    sources: &[(&str, &[String])],
) -> Body {
    Body::Commission(pb::Commission {
        gtin: gtin.into(),
        lot: lot.into(),
        expiry: expiry.into(),
        serials: strings(serials),
        sources: pack_lines(sources),
    })
}

/// A shipment by a party holding the goods for `owner` (a third-party logistics provider).
pub fn ship_for(gtin: &str, serials: &[impl AsRef<str>], receiver: &str, owner: &str) -> Body {
    Body::Ship(pb::Ship {
        gtin: gtin.into(),
        serials: strings(serials),
        receiver: receiver.into(),
        owner: owner.into(),
        ..Default::default()
    })
}

pub fn ship(gtin: &str, serials: &[impl AsRef<str>], receiver: &str) -> Body {
    Body::Ship(pb::Ship {
        gtin: gtin.into(),
        serials: strings(serials),
        receiver: receiver.into(),
        ..Default::default()
    })
}

/// A shipment of several GTINs (each with its serials) with its trade documents.
pub fn ship_lines(lines: &[(&str, &[String])], receiver: &str, documents: Option<pb::TradeDocuments>) -> Body {
    Body::Ship(pb::Ship {
        lines: pack_lines(lines),
        receiver: receiver.into(),
        documents,
        ..Default::default()
    })
}

/// A receipt of several GTINs, recording `over` as delivered but not shipped to the signer.
pub fn receive_with_over(lines: &[(&str, &[String])], over: &[(&str, &[String])], sender: &str) -> Body {
    Body::Receive(pb::Receive {
        lines: pack_lines(lines),
        over: pack_lines(over),
        sender: sender.into(),
        ..Default::default()
    })
}

/// A receipt of several GTINs, refusing `refused` (back to the sender).
pub fn receive_lines(lines: &[(&str, &[String])], refused: &[(&str, &[String])], sender: &str) -> Body {
    Body::Receive(pb::Receive {
        lines: pack_lines(lines),
        refused: pack_lines(refused),
        sender: sender.into(),
        ..Default::default()
    })
}

/// Cancels a shipment (or return) to `receiver` that is not received yet: its packs and containers.
pub fn void_shipment(gtin: &str, serials: &[impl AsRef<str>], containers: &[ContainerKey], receiver: &str) -> Body {
    Body::VoidShipment(pb::VoidShipment {
        gtin: gtin.into(),
        serials: strings(serials),
        receiver: receiver.into(),
        containers: containers.iter().map(ContainerKey::to_pb).collect(),
    })
}

/// A shipment of packs (GTIN by GTIN) and whole containers.
pub fn ship_all(lines: &[(&str, &[String])], containers: &[ContainerKey], receiver: &str) -> Body {
    Body::Ship(pb::Ship {
        lines: pack_lines(lines),
        containers: containers.iter().map(ContainerKey::to_pb).collect(),
        receiver: receiver.into(),
        ..Default::default()
    })
}

/// The receipt of packs (GTIN by GTIN) and whole containers.
pub fn receive_all(lines: &[(&str, &[String])], containers: &[ContainerKey], sender: &str) -> Body {
    Body::Receive(pb::Receive {
        lines: pack_lines(lines),
        containers: containers.iter().map(ContainerKey::to_pb).collect(),
        sender: sender.into(),
        ..Default::default()
    })
}

/// A shipment of whole containers (and no loose packs).
pub fn ship_containers(containers: &[ContainerKey], receiver: &str) -> Body {
    Body::Ship(pb::Ship {
        containers: containers.iter().map(ContainerKey::to_pb).collect(),
        receiver: receiver.into(),
        ..Default::default()
    })
}

/// The receipt of whole containers.
pub fn receive_containers(containers: &[ContainerKey], sender: &str) -> Body {
    Body::Receive(pb::Receive {
        containers: containers.iter().map(ContainerKey::to_pb).collect(),
        sender: sender.into(),
        ..Default::default()
    })
}

/// Packs (GTIN by GTIN) and containers into `parent`.
pub fn pack(parent: &ContainerKey, lines: &[(&str, &[String])], containers: &[ContainerKey]) -> Body {
    Body::Pack(pb::Pack {
        parent: Some(parent.to_pb()),
        packs: pack_lines(lines),
        containers: containers.iter().map(ContainerKey::to_pb).collect(),
    })
}

/// Packs and containers out of `parent`; naming none takes everything out.
pub fn unpack(parent: &ContainerKey, lines: &[(&str, &[String])], containers: &[ContainerKey]) -> Body {
    Body::Unpack(pb::Unpack {
        parent: Some(parent.to_pb()),
        packs: pack_lines(lines),
        containers: containers.iter().map(ContainerKey::to_pb).collect(),
    })
}

fn pack_lines(lines: &[(&str, &[String])]) -> Vec<pb::PackLine> {
    lines
        .iter()
        .map(|(gtin, serials)| pb::PackLine {
            gtin: (*gtin).to_string(),
            serials: serials.to_vec(),
        })
        .collect()
}

/// A receipt of packs of one GTIN (none when `serials` is empty: a receipt of containers or of refused packs only).
pub fn receive(gtin: &str, serials: &[impl AsRef<str>], sender: &str) -> Body {
    Body::Receive(pb::Receive {
        gtin: gtin.into(),
        serials: strings(serials),
        sender: sender.into(),
        ..Default::default()
    })
}

pub fn dispense(gtin: &str, serials: &[impl AsRef<str>]) -> Body {
    Body::Dispense(pb::Dispense {
        gtin: gtin.into(),
        serials: strings(serials),
    })
}

pub fn decommission(gtin: &str, serials: &[impl AsRef<str>], reason: pb::DecommissionReason) -> Body {
    Body::Decommission(pb::Decommission {
        gtin: gtin.into(),
        serials: strings(serials),
        reason: reason as i32,
    })
}

pub fn undo(gtin: &str, serials: &[impl AsRef<str>]) -> Body {
    Body::Undo(pb::Undo {
        gtin: gtin.into(),
        serials: strings(serials),
    })
}

pub fn recall(gtin: &str, lot: &str) -> Body {
    Body::Recall(pb::Recall {
        gtin: gtin.into(),
        lot: lot.into(),
    })
}

pub fn withdraw(gtin: &str) -> Body {
    Body::Withdraw(pb::Withdraw { gtin: gtin.into() })
}

pub fn return_to(gtin: &str, serials: &[impl AsRef<str>], receiver: &str) -> Body {
    Body::Return(pb::Return {
        gtin: gtin.into(),
        serials: strings(serials),
        receiver: receiver.into(),
    })
}

pub fn register_participant(
    id: &str,
    role: pb::ParticipantRole,
    name: &str,
    gln: &str,
    public_key: &crate::keys::PublicKey,
) -> Body {
    Body::RegisterParticipant(pb::RegisterParticipant {
        id: id.into(),
        gln: gln.into(),
        role: role as i32,
        name: name.into(),
        public_key: public_key.to_sec1(),
    })
}

pub fn rotate_key(id: &str, public_key: &crate::keys::PublicKey) -> Body {
    Body::RotateKey(pb::RotateKey {
        id: id.into(),
        public_key: public_key.to_sec1(),
    })
}

pub fn rotate_sequencer_key(public_key: &crate::keys::PublicKey) -> Body {
    Body::RotateSequencerKey(pb::RotateSequencerKey {
        public_key: public_key.to_sec1(),
    })
}

pub fn revoke_participant(id: &str, reason: &str) -> Body {
    Body::RevokeParticipant(pb::RevokeParticipant {
        id: id.into(),
        reason: reason.into(),
    })
}

pub fn attest_prefixes(id: &str, prefixes: &[impl AsRef<str>]) -> Body {
    Body::AttestPrefixes(pb::AttestPrefixes {
        id: id.into(),
        prefixes: strings(prefixes),
    })
}

/// A product's master data: name, strength, dose form and pack size (no national codes or markets: add them to the
/// returned body's message when needed).
pub fn register_product(gtin: &str, name: &str, strength: &str, dosage_form: &str, pack_size: u32) -> Body {
    Body::RegisterProduct(pb::RegisterProduct {
        gtin: gtin.into(),
        name: name.into(),
        strength: strength.into(),
        dosage_form: dosage_form.into(),
        pack_size,
        national_codes: Vec::new(),
        markets: Vec::new(),
        links: Vec::new(),
    })
}

/// A product handed to `new_owner`, whose `consent` is its signature over
/// [`transfer_digest`](crate::product::transfer_digest) (see [`transfer_consent`]).
pub fn transfer_product(gtin: &str, new_owner: &str, sequence: u32, consent: Vec<u8>) -> Body {
    Body::TransferProduct(pb::TransferProduct {
        gtin: gtin.into(),
        new_owner: new_owner.into(),
        sequence,
        consent,
    })
}

/// The new owner's consent to taking product `gtin` from `from` as its transfer number `sequence`.
pub fn transfer_consent(
    new_owner_key: &crate::keys::KeyPair,
    chain_id: &crate::Hash,
    gtin: &str,
    from: &str,
    to: &str,
    sequence: u32,
) -> Vec<u8> {
    new_owner_key.sign_digest(&crate::product::transfer_digest(chain_id, gtin, from, to, sequence))
}

pub fn quarantine(gtin: &str, serials: &[impl AsRef<str>], reason: &str) -> Body {
    Body::Quarantine(pb::Quarantine {
        gtin: gtin.into(),
        serials: strings(serials),
        reason: reason.into(),
    })
}

pub fn clear_suspect(gtin: &str, serials: &[impl AsRef<str>], finding: &str) -> Body {
    Body::ClearSuspect(pb::ClearSuspect {
        gtin: gtin.into(),
        serials: strings(serials),
        finding: finding.into(),
    })
}

pub fn declare_illegitimate(gtin: &str, serials: &[impl AsRef<str>], reason: &str) -> Body {
    Body::DeclareIllegitimate(pb::DeclareIllegitimate {
        gtin: gtin.into(),
        serials: strings(serials),
        reason: reason.into(),
    })
}
