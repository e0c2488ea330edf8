//! Proof bundles: a verify answer that anyone can check offline with only the sequencer's public key.
//!
//! A bundle holds the pack's last event envelope, the signer's public key, the inclusion proof of the event's leaf in
//! its block's `merkle_root`, and that block's signed header. Checking it: the envelope signature under the signer's
//! key, the inclusion proof against the header's root (with the header's event count as tree size), and the header
//! signature under the sequencer key. The sequencer only seals events whose signer it knows, so the header signature
//! also vouches for the signer's key. The JSON form ([`BundleJson`]) is specified in docs/ledger-format.md.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use pedigree_merkle::{Hash as MerkleHash, inclusion_proof, leaf_hash, verify_inclusion};
use serde::{Deserialize, Serialize};

use crate::Hash;
use crate::block::{BlockError, open_header};
use crate::decode::decode_payload;
use crate::envelope::event_digest;
use crate::event::{Event, EventError, event_id};
use crate::keys::{KeyError, PublicKey};
use crate::participant::{Participant, Role};
use crate::pb::{Block, BlockHeader, InclusionProof, ProofBundle, SignedEnvelope, SignedHeader};
use crate::registry_root::{RecordError, RegistryRecord, registry_proof};

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

/// A bundle for event `id` of `block` (at `height`), signed by the holder of `signer_key`; `participants` are the
/// registry's records as of that block or any later one (rolled back to `height` for the registry proof).
pub fn make_bundle(
    block: &Block,
    height: u64,
    id: &Hash,
    signer_key: &PublicKey,
    participants: &[Participant],
) -> Option<ProofBundle> {
    let inclusion = block_inclusion(block, id)?;
    let envelope = block.events.get(inclusion.leaf_index as usize)?.clone();
    let (signer_record, registry_inclusion) = registry_proof(participants, &envelope.signer, height)?;
    Some(ProofBundle {
        envelope: Some(envelope),
        signer_public_key: signer_key.to_sec1(),
        inclusion: Some(inclusion),
        header: block.header.clone(),
        signer_record,
        registry_inclusion: Some(registry_inclusion),
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
    #[error("event payload: {0}")]
    Payload(EventError),
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
}

/// What a checked bundle proves: this event was sealed in this block.
#[derive(Debug)]
pub struct Checked {
    pub event: Event,
    pub header: BlockHeader,
}

/// Checks a bundle against the sequencer's key; see the module docs.
pub fn check_bundle(bundle: &ProofBundle, sequencer: &PublicKey) -> Result<Checked, BundleError> {
    let envelope = bundle.envelope.as_ref().ok_or(BundleError::Missing("envelope"))?;
    let inclusion = bundle
        .inclusion
        .as_ref()
        .ok_or(BundleError::Missing("inclusion proof"))?;
    let signed = bundle.header.as_ref().ok_or(BundleError::Missing("header"))?;
    let signer = PublicKey::from_sec1(&bundle.signer_public_key).map_err(BundleError::SignerKey)?;
    signer
        .verify_digest(&event_digest(&envelope.payload), &envelope.signature)
        .map_err(BundleError::EventSignature)?;
    // The role is not part of the bundle; it does not matter for what a bundle proves.
    let event = decode_payload(&envelope.payload, Role::Manufacturer).map_err(BundleError::Payload)?;
    // The payload names its chain; the header must be signed for that same chain.
    let header = open_header(signed, &event.chain_id, sequencer).map_err(BundleError::Header)?;
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
        &leaf_hash(&event.id),
        inclusion.leaf_index,
        inclusion.tree_size,
        &hashes,
        &root,
    )
    .map_err(|e| BundleError::Inclusion(e.to_string()))?;
    check_signer(bundle, &signer, &event.signer, &header)?;
    Ok(Checked { event, header })
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

/// The JSON form of a bundle: bytes in base64 (standard alphabet, padded), keys and signatures in hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleJson {
    pub signer: String,
    pub payload: String,
    pub signature: String,
    pub signer_public_key: String,
    pub leaf_index: u64,
    pub tree_size: u64,
    pub proof: Vec<String>,
    pub header: String,
    pub header_signature: String,
    /// Hex of the signer's registry record.
    pub signer_record: String,
    /// Its inclusion in the header's registry root.
    pub registry: PathJson,
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
        let (envelope, inclusion, header) = (
            bundle.envelope.as_ref()?,
            bundle.inclusion.as_ref()?,
            bundle.header.as_ref()?,
        );
        Some(Self {
            signer: envelope.signer.clone(),
            payload: B64.encode(&envelope.payload),
            signature: hex::encode(&envelope.signature),
            signer_public_key: hex::encode(&bundle.signer_public_key),
            leaf_index: inclusion.leaf_index,
            tree_size: inclusion.tree_size,
            proof: inclusion.hashes.iter().map(hex::encode).collect(),
            header: B64.encode(&header.header),
            header_signature: hex::encode(&header.signature),
            signer_record: hex::encode(&bundle.signer_record),
            registry: PathJson::from_proof(bundle.registry_inclusion.as_ref()?),
        })
    }

    pub fn to_bundle(&self) -> Result<ProofBundle, String> {
        let b64 = |what: &str, s: &str| B64.decode(s).map_err(|e| format!("{what}: not base64: {e}"));
        let hx = |what: &str, s: &str| hex::decode(s).map_err(|e| format!("{what}: not hex: {e}"));
        Ok(ProofBundle {
            envelope: Some(SignedEnvelope {
                payload: b64("payload", &self.payload)?,
                signature: hx("signature", &self.signature)?,
                signer: self.signer.clone(),
            }),
            signer_public_key: hx("signer_public_key", &self.signer_public_key)?,
            inclusion: Some(InclusionProof {
                leaf_index: self.leaf_index,
                tree_size: self.tree_size,
                hashes: self.proof.iter().map(|h| hx("proof", h)).collect::<Result<_, _>>()?,
            }),
            header: Some(SignedHeader {
                header: b64("header", &self.header)?,
                signature: hx("header_signature", &self.header_signature)?,
            }),
            signer_record: hx("signer_record", &self.signer_record)?,
            registry_inclusion: Some(self.registry.to_proof("registry")?),
        })
    }
}
