//! Proof bundles: a verify answer that anyone can check offline with only the sequencer's public key.
//!
//! A bundle holds the core of the pack's last event (never its payload) and the signer's signature over its id, the
//! inclusion of the event id in its block's `merkle_root`, the block's signed header, the signer's registry record
//! with its inclusion in the header's `registry_root`, and the one pack opened (identifiers, salt, inclusion in the
//! core's `packs_root`). Checking it needs only the sequencer key: header signature over the core's chain, event in
//! the block, signature under a key the record shows registered at that height, pack in the event. Nothing of the
//! event's other packs or its counterparty is in it beyond salted commitments. The JSON form ([`BundleJson`]) is
//! specified in docs/ledger-format.md, section 6.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use pedigree_merkle::{Hash as MerkleHash, inclusion_proof, leaf_hash, verify_inclusion};
use serde::{Deserialize, Serialize};

use prost::Message;

use crate::Hash;
use crate::block::{BlockError, open_header_at};
use crate::disclosure::{CoreError, EventCore, Opening, core_of, open_pack};
use crate::event::event_id;
use crate::keys::{KeyError, PublicKey};
use crate::participant::Participant;
use crate::pb::{
    Block, BlockHeader, EventPayload, InclusionProof, PackOpening, ProofBundle, SignedEnvelope, SignedHeader,
};
use crate::registry_root::{RecordError, RegistryRecord, registry_proof};
use crate::sequencer_keys::SequencerKeys;

/// The registry a bundle proves its signer against: every participant's record and the sequencer key schedule, as
/// of the bundle's block or any later one (rolled back to the block's height for the proof).
#[derive(Clone, Copy)]
pub struct RegistryRecords<'a> {
    pub participants: &'a [Participant],
    pub sequencer: &'a SequencerKeys,
}

/// The inclusion proof of `id` among the accepted events of `block`, if it holds it.
pub fn block_inclusion(block: &Block, id: &Hash) -> Option<InclusionProof> {
    let leaves: Vec<MerkleHash> = block.events.iter().map(|e| leaf_hash(&event_id(&e.payload))).collect();
    let wanted = leaf_hash(id);
    let index = leaves.iter().position(|l| *l == wanted)? as u64;
    let hashes = inclusion_proof(&leaves, index).ok()?;
    Some(InclusionProof {
        leaf_index: index,
        tree_size: leaves.len() as u64,
        hashes: hashes.iter().map(|h| h.to_vec()).collect(),
    })
}

/// A bundle proving pack `gtin`/`serial` of event `id` of `block` (at `height`), signed by the holder of `signer_key`;
/// `participants` are the registry's records as of that block or any later one (rolled back to `height` for the
/// registry proof). It carries the event's core and that one pack, never the payload.
pub fn make_bundle(
    block: &Block,
    height: u64,
    id: &Hash,
    (gtin, serial): (&str, &str),
    signer_key: &PublicKey,
    registry: RegistryRecords<'_>,
) -> Option<ProofBundle> {
    let inclusion = block_inclusion(block, id)?;
    let envelope = block.events.get(inclusion.leaf_index as usize)?;
    let header = block.header.as_ref()?;
    bundle_of_event(
        header,
        envelope,
        inclusion,
        height,
        (gtin, serial),
        signer_key,
        registry,
    )
}

/// The bundle [`make_bundle`] makes, from only what it needs of the block: its signed `header`, the event's
/// `envelope` and its `inclusion` in the block (so that a store can hand these over without the whole block).
pub fn bundle_of_event(
    header: &SignedHeader,
    envelope: &SignedEnvelope,
    inclusion: InclusionProof,
    height: u64,
    (gtin, serial): (&str, &str),
    signer_key: &PublicKey,
    registry: RegistryRecords<'_>,
) -> Option<ProofBundle> {
    let payload = EventPayload::decode(envelope.payload.as_slice()).ok()?;
    let core = core_of(&envelope.payload, &payload).ok()?;
    let opening = open_pack(&payload, gtin, serial)?;
    let (signer_record, registry_inclusion) =
        registry_proof(registry.participants, registry.sequencer, &envelope.signer, height)?;
    Some(ProofBundle {
        signer_public_key: signer_key.to_sec1(),
        inclusion: Some(inclusion),
        header: Some(header.clone()),
        signer_record,
        registry_inclusion: Some(registry_inclusion),
        event_core: core.encode(),
        event_signature: envelope.signature.clone(),
        pack: Some(PackOpening {
            gtin: opening.gtin,
            serial: opening.serial,
            lot: opening.lot,
            expiry: opening.expiry,
            salt: opening.salt.to_vec(),
            inclusion: Some(opening.inclusion),
        }),
    })
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum BundleError {
    #[error("bundle lacks its {0}")]
    Missing(&'static str),
    #[error("signer public key: {0}")]
    SignerKey(KeyError),
    #[error("event signature: {0}")]
    EventSignature(KeyError),
    #[error("event core: {0}")]
    Core(CoreError),
    #[error("the event is for chain {got}, not chain {expected}")]
    WrongChain { expected: String, got: String },
    #[error("block header: {0}")]
    Header(BlockError),
    #[error("inclusion proof is for a tree of {proof} leaves, the block holds {header} events")]
    TreeSize { proof: u64, header: u32 },
    #[error("inclusion proof does not lead to the header's merkle root: {0}")]
    Inclusion(String),
    #[error("{0}")]
    Record(RecordError),
    #[error("signer record is participant '{record}''s, the event's signer is '{signer}'")]
    RecordSigner { record: String, signer: String },
    #[error("signer record's inclusion proof does not lead to the header's registry root: {0}")]
    Registry(String),
    #[error("signer public key was not '{signer}''s registered key at height {height}")]
    KeyNotRegistered { signer: String, height: u64 },
    #[error("pack: {0}")]
    Pack(String),
}

/// What a checked bundle proves: this pack was named by the event of this core, signed by its signer with its
/// registered key, sealed in this block.
#[derive(Debug)]
pub struct Checked {
    pub core: EventCore,
    /// The event id (`TH("pedigree.v2.event", core)`).
    pub id: Hash,
    pub pack: Opening,
    pub header: BlockHeader,
}

/// Checks a bundle against one sequencer key trusted for every height (a chain whose key was never rotated, or a
/// reader who trusts that key for the bundle's height); [`check_bundle_with`] takes the whole schedule.
pub fn check_bundle(bundle: &ProofBundle, sequencer: &PublicKey, chain: Option<&Hash>) -> Result<Checked, BundleError> {
    check_bundle_with(bundle, &SequencerKeys::genesis(*sequencer), chain)
}

/// Checks a bundle against the sequencer key schedule (the header must verify under the key of its height) and,
/// when given, the chain id; docs/ledger-format.md, section 6.
pub fn check_bundle_with(
    bundle: &ProofBundle,
    sequencer: &SequencerKeys,
    chain: Option<&Hash>,
) -> Result<Checked, BundleError> {
    let inclusion = bundle
        .inclusion
        .as_ref()
        .ok_or(BundleError::Missing("inclusion proof"))?;
    let signed = bundle.header.as_ref().ok_or(BundleError::Missing("header"))?;
    let core = EventCore::parse(&bundle.event_core).map_err(BundleError::Core)?;
    if let Some(chain) = chain.filter(|c| **c != core.chain_id) {
        return Err(BundleError::WrongChain {
            expected: hex::encode(chain),
            got: hex::encode(core.chain_id),
        });
    }
    let id = core.id();
    // The core names its chain; the header must be signed for that same chain.
    let header = open_header_at(signed, &core.chain_id, sequencer).map_err(BundleError::Header)?;
    if inclusion.tree_size != u64::from(header.event_count) {
        return Err(BundleError::TreeSize {
            proof: inclusion.tree_size,
            header: header.event_count,
        });
    }
    let hashes = to_hashes(&inclusion.hashes).ok_or(BundleError::Inclusion("a proof hash is not 32 bytes".into()))?;
    let root: Hash = header
        .merkle_root
        .as_slice()
        .try_into()
        .map_err(|_| BundleError::Inclusion("bad root".into()))?;
    verify_inclusion(
        &leaf_hash(&id),
        inclusion.leaf_index,
        inclusion.tree_size,
        &hashes,
        &root,
    )
    .map_err(|e| BundleError::Inclusion(e.to_string()))?;
    let signer = PublicKey::from_sec1(&bundle.signer_public_key).map_err(BundleError::SignerKey)?;
    signer
        .verify_digest(&id, &bundle.event_signature)
        .map_err(BundleError::EventSignature)?;
    check_signer(bundle, &signer, &core.signer, &header)?;
    let pack = check_pack(bundle, &core)?;
    Ok(Checked { core, id, pack, header })
}

/// The bundle's pack leaf is in the core's `packs_root`.
fn check_pack(bundle: &ProofBundle, core: &EventCore) -> Result<Opening, BundleError> {
    let pack = bundle.pack.as_ref().ok_or(BundleError::Missing("pack"))?;
    let inclusion = pack
        .inclusion
        .as_ref()
        .ok_or(BundleError::Missing("pack inclusion proof"))?;
    let opening = Opening {
        gtin: pack.gtin.clone(),
        serial: pack.serial.clone(),
        lot: pack.lot.clone(),
        expiry: pack.expiry.clone(),
        salt: pack
            .salt
            .as_slice()
            .try_into()
            .map_err(|_| BundleError::Pack("salt must be 32 bytes".into()))?,
        inclusion: inclusion.clone(),
    };
    if inclusion.tree_size != u64::from(core.pack_count) {
        return Err(BundleError::Pack(format!(
            "inclusion proof is for {} packs, the event names {}",
            inclusion.tree_size, core.pack_count
        )));
    }
    let hashes = to_hashes(&inclusion.hashes).ok_or(BundleError::Pack("a proof hash is not 32 bytes".into()))?;
    verify_inclusion(
        &leaf_hash(&opening.leaf()),
        inclusion.leaf_index,
        inclusion.tree_size,
        &hashes,
        &core.packs_root,
    )
    .map_err(|e| BundleError::Pack(format!("not in the event's packs_root: {e}")))?;
    Ok(opening)
}

/// The signer's record is in the header's registry root and `signer` was its key at the header's height.
fn check_signer(bundle: &ProofBundle, signer: &PublicKey, id: &str, header: &BlockHeader) -> Result<(), BundleError> {
    let inclusion = bundle
        .registry_inclusion
        .as_ref()
        .ok_or(BundleError::Missing("registry inclusion proof"))?;
    let record = RegistryRecord::parse(&bundle.signer_record).map_err(BundleError::Record)?;
    if record.id != id {
        return Err(BundleError::RecordSigner {
            record: record.id,
            signer: id.to_string(),
        });
    }
    let hashes = to_hashes(&inclusion.hashes).ok_or(BundleError::Registry("a proof hash is not 32 bytes".into()))?;
    let root: Hash = header
        .registry_root
        .as_slice()
        .try_into()
        .map_err(|_| BundleError::Registry("the header has no registry root".into()))?;
    verify_inclusion(
        &leaf_hash(&bundle.signer_record),
        inclusion.leaf_index,
        inclusion.tree_size,
        &hashes,
        &root,
    )
    .map_err(|e| BundleError::Registry(e.to_string()))?;
    if !record.key_valid_at(signer, header.height) {
        return Err(BundleError::KeyNotRegistered {
            signer: id.to_string(),
            height: header.height,
        });
    }
    Ok(())
}

fn to_hashes(raw: &[Vec<u8>]) -> Option<Vec<Hash>> {
    raw.iter().map(|h| <Hash>::try_from(h.as_slice()).ok()).collect()
}

/// The JSON form of a bundle (docs/ledger-format.md, section 6): bytes in base64 (standard alphabet, padded), keys,
/// signatures, salts and hashes in hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleJson {
    pub event_core: String,
    pub signature: String,
    pub signer_public_key: String,
    pub pack: PackJson,
    /// Hex of the signer's registry record.
    pub signer_record: String,
    /// Its inclusion in the header's registry root.
    pub registry: PathJson,
    pub leaf_index: u64,
    pub tree_size: u64,
    pub proof: Vec<String>,
    pub header: String,
    pub header_signature: String,
}

/// The opened pack in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackJson {
    pub gtin: String,
    pub serial: String,
    pub lot: String,
    pub expiry: String,
    pub salt: String,
    pub leaf_index: u64,
    pub tree_size: u64,
    pub proof: Vec<String>,
}

/// An inclusion proof in JSON: leaf index, tree size, the path's hashes in hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathJson {
    pub leaf_index: u64,
    pub tree_size: u64,
    pub proof: Vec<String>,
}

impl PathJson {
    fn from_proof(p: &InclusionProof) -> Self {
        Self {
            leaf_index: p.leaf_index,
            tree_size: p.tree_size,
            proof: p.hashes.iter().map(hex::encode).collect(),
        }
    }

    fn to_proof(&self, what: &str) -> Result<InclusionProof, String> {
        Ok(InclusionProof {
            leaf_index: self.leaf_index,
            tree_size: self.tree_size,
            hashes: self
                .proof
                .iter()
                .map(|h| hex::decode(h).map_err(|e| format!("{what}: not hex: {e}")))
                .collect::<Result<_, _>>()?,
        })
    }
}

impl BundleJson {
    pub fn from_bundle(bundle: &ProofBundle) -> Option<Self> {
        let (inclusion, header, pack) = (
            bundle.inclusion.as_ref()?,
            bundle.header.as_ref()?,
            bundle.pack.as_ref()?,
        );
        let pack_path = PathJson::from_proof(pack.inclusion.as_ref()?);
        Some(Self {
            event_core: B64.encode(&bundle.event_core),
            signature: hex::encode(&bundle.event_signature),
            signer_public_key: hex::encode(&bundle.signer_public_key),
            pack: PackJson {
                gtin: pack.gtin.clone(),
                serial: pack.serial.clone(),
                lot: pack.lot.clone(),
                expiry: pack.expiry.clone(),
                salt: hex::encode(&pack.salt),
                leaf_index: pack_path.leaf_index,
                tree_size: pack_path.tree_size,
                proof: pack_path.proof,
            },
            signer_record: hex::encode(&bundle.signer_record),
            registry: PathJson::from_proof(bundle.registry_inclusion.as_ref()?),
            leaf_index: inclusion.leaf_index,
            tree_size: inclusion.tree_size,
            proof: inclusion.hashes.iter().map(hex::encode).collect(),
            header: B64.encode(&header.header),
            header_signature: hex::encode(&header.signature),
        })
    }

    pub fn to_bundle(&self) -> Result<ProofBundle, String> {
        let b64 = |what: &str, s: &str| B64.decode(s).map_err(|e| format!("{what}: not base64: {e}"));
        let hx = |what: &str, s: &str| hex::decode(s).map_err(|e| format!("{what}: not hex: {e}"));
        let pack_path = PathJson {
            leaf_index: self.pack.leaf_index,
            tree_size: self.pack.tree_size,
            proof: self.pack.proof.clone(),
        };
        Ok(ProofBundle {
            signer_public_key: hx("signer_public_key", &self.signer_public_key)?,
            inclusion: Some(
                PathJson {
                    leaf_index: self.leaf_index,
                    tree_size: self.tree_size,
                    proof: self.proof.clone(),
                }
                .to_proof("proof")?,
            ),
            header: Some(SignedHeader {
                header: b64("header", &self.header)?,
                signature: hx("header_signature", &self.header_signature)?,
            }),
            signer_record: hx("signer_record", &self.signer_record)?,
            registry_inclusion: Some(self.registry.to_proof("registry")?),
            event_core: b64("event_core", &self.event_core)?,
            event_signature: hx("signature", &self.signature)?,
            pack: Some(PackOpening {
                gtin: self.pack.gtin.clone(),
                serial: self.pack.serial.clone(),
                lot: self.pack.lot.clone(),
                expiry: self.pack.expiry.clone(),
                salt: hx("pack.salt", &self.pack.salt)?,
                inclusion: Some(pack_path.to_proof("pack.proof")?),
            }),
        })
    }
}
