//! One scan, one Redis round trip, one verdict.

use crate::rates::Rates;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use pedigree_core::Hash;
use pedigree_core::envelope::event_digest;
use pedigree_core::event::event_id;
use pedigree_core::gs1::{ScannedCode, parse_scan};
use pedigree_core::merkle::{leaf_hash, verify_inclusion};
use pedigree_core::participant::Participant;
use pedigree_core::pb::{
    BlockHeader, InclusionProof, PackRecord, PackStatus, ProofBundle, SignedHeader, Verdict, VerifyResponse,
};
use pedigree_core::pb::{ContainerRecord, ProductRecord};
use pedigree_core::proof::{RegistryRecords, bundle_of_event};
use pedigree_core::sequencer_keys::SequencerKeys;
use pedigree_core::stored::{Directory, StoredError};
use pedigree_core::verdict::{Lookup, today_utc, verdict};
use pedigree_store::{BlockEvent, Store, StoreError};
use prost::Message;

use crate::access::{Caller, Denied};
use crate::alert_log::AlertLog;
use crate::auth::Auth;
use crate::error::VerifyError;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct Verifier {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    /// Participant ids by registry index (packs name participants by index), re-read when a pack names a newer one.
    pub directory: Arc<RwLock<Arc<Directory>>>,
    /// Sessions, and the registry callers are checked against.
    pub auth: Arc<Auth>,
    /// How many blocks Redis may be behind a replay in progress and still be answered from (see
    /// [`pedigree_store::Freshness`]).
    pub max_lag: u64,
    /// Requests per caller (see [`crate::rates`]).
    pub rates: Arc<Rates>,
    /// Where alerts are recorded (see [`crate::alerts`]).
    pub alert_log: AlertLog,
    /// The GLN a VRS answer names when the product's owner registered none (see [`crate::vrs`]).
    pub responder_gln: String,
}

impl Verifier {
    /// Verifies what a scanner typed (element string, bracketed form or Digital Link).
    pub async fn verify_code(
        &self,
        code: &str,
        with_proof: bool,
        caller: &Caller,
    ) -> Result<VerifyResponse, VerifyError> {
        let scanned = parse_scan(code);
        match scanned {
            Ok(scanned) => self.verify(&scanned, with_proof, caller).await,
            Err(e) => {
                self.metrics.bad_request();
                Err(e.into())
            }
        }
    }

    /// The verdict for `code`, with what `caller` may see (docs/access.md): the holder, the height and a proof
    /// bundle only for those who hold or held the pack; "already dispensed by you" for the pharmacy that did.
    pub async fn verify(
        &self,
        code: &ScannedCode,
        with_proof: bool,
        caller: &Caller,
    ) -> Result<VerifyResponse, VerifyError> {
        let started = Instant::now();
        let Some(serial) = &code.serial else {
            self.metrics.bad_request();
            return Err(VerifyError::MissingSerial);
        };
        let (product, own, container) = match self.lookup(code.gtin.as_str(), serial.as_str()).await {
            Ok((product, pack)) => {
                let container = self.in_custody_of(pack.as_ref()).await?;
                (product, pack, container)
            }
            Err(e) => {
                if e.http_status() == axum::http::StatusCode::SERVICE_UNAVAILABLE {
                    self.metrics.unavailable();
                }
                return Err(e);
            }
        };
        // A pack inside a container: its custody is its outermost container's (the record of its own keeps none).
        // Its last event (what a bundle proves) stays its own.
        let pack = own.map(|p| match &container {
            Some((_, outermost)) => PackRecord {
                status: outermost.status,
                holder: outermost.holder.clone(),
                receiver: outermost.receiver.clone(),
                received_from: outermost.received_from.clone(),
                owner: outermost.owner.clone(),
                ..p
            },
            None => p,
        });
        let mut verdict = verdict(
            code,
            &Lookup {
                product: product.as_ref(),
                pack: pack.as_ref(),
            },
            today_utc(),
        );
        let sees = pack.as_ref().is_some_and(|p| caller.sees_pack(p, product.as_ref()));
        if verdict == Verdict::Dispensed && pack.as_ref().zip(caller.id()).is_some_and(|(p, id)| p.holder == id) {
            verdict = Verdict::AlreadyDispensedByYou;
        }
        self.metrics.verified(verdict, started.elapsed());
        let alert_id = self.raise_alert(code, verdict, product.as_ref(), caller).await;
        let proof = match (&pack, with_proof) {
            (Some(p), true) if sees => Some(self.bundle(p, code.gtin.as_str(), serial.as_str()).await?),
            (Some(_), true) => return Err(Denied::Proof.into()),
            _ => None,
        };
        // What anyone may know of a pack: its status (and why it was decommissioned), not who has it nor where its
        // history sits.
        let pack = if sees {
            pack
        } else {
            pack.map(|p| PackRecord {
                status: p.status,
                decommission_reason: p.decommission_reason,
                ..PackRecord::default()
            })
        };
        Ok(VerifyResponse {
            proof,
            verdict: verdict as i32,
            gtin: code.gtin.as_str().to_string(),
            serial: serial.as_str().to_string(),
            lot: code.lot.as_ref().map(|l| l.as_str().to_string()).unwrap_or_default(),
            expiry: code.expiry.as_ref().map(|e| e.as_str()).unwrap_or_default(),
            status: pack.as_ref().map_or(PackStatus::Unspecified.into(), |p| p.status),
            holder: pack.as_ref().map(|p| p.holder.clone()).unwrap_or_default(),
            owner: pack.as_ref().map(|p| p.owner.clone()).unwrap_or_default(),
            repackaged_by: pack.as_ref().map(|p| p.repackaged_by.clone()).unwrap_or_default(),
            height: pack.as_ref().map_or(0, |p| p.last_height),
            decommission_reason: pack.as_ref().map_or(0, |p| p.decommission_reason),
            container: container
                .filter(|_| sees)
                .map(|(parent, _)| pedigree_core::container::bracketed(&parent))
                .unwrap_or_default(),
            product: product.as_ref().and_then(product_info),
            alert_id,
            recorded_lot: pack.as_ref().map(|p| p.lot.clone()).unwrap_or_default(),
            recorded_expiry: pack.as_ref().map(|p| p.expiry.clone()).unwrap_or_default(),
        })
    }

    /// When the pack is inside a container: that container's element string and the record of the outermost
    /// container around it (whose custody the pack shares). No read for a pack in no container.
    async fn in_custody_of(&self, pack: Option<&PackRecord>) -> Result<Option<(String, ContainerRecord)>, VerifyError> {
        let Some(parent) = pack.map(|p| p.parent.clone()).filter(|p| !p.is_empty()) else {
            return Ok(None);
        };
        let directory = self.directory.read().unwrap_or_else(|e| e.into_inner()).clone();
        let chain = match self.store.container_chain(&parent, &*directory).await {
            Err(StoreError::Stored {
                source: StoredError::UnknownIndex(_),
                ..
            }) => {
                // A participant registered since the directory was read: read it again, once.
                let directory = self.refresh_directory().await?;
                self.store.container_chain(&parent, &*directory).await?
            }
            other => other?,
        };
        match chain.last() {
            Some(outermost) if outermost.parent.is_empty() => Ok(Some((parent, outermost.clone()))),
            _ => Err(inconsistent("a container around the pack is missing from the store")),
        }
    }
}

impl Verifier {
    pub(crate) async fn lookup(
        &self,
        gtin: &str,
        serial: &str,
    ) -> Result<(Option<ProductRecord>, Option<PackRecord>), VerifyError> {
        let directory = self.directory.read().unwrap_or_else(|e| e.into_inner()).clone();
        let (freshness, product, pack) = match self.store.lookup(gtin, serial, &*directory).await {
            Err(StoreError::Stored {
                source: StoredError::UnknownIndex(_),
                ..
            }) => {
                // A participant registered since the directory was read: read it again, once.
                let directory = self.refresh_directory().await?;
                self.store.lookup(gtin, serial, &*directory).await?
            }
            other => other?,
        };
        self.metrics.freshness(&freshness);
        // Never an answer from a Redis that lost its state or is being rebuilt: "unknown" would be a lie.
        freshness.check(self.max_lag)?;
        Ok((product, pack))
    }

    /// Fails with UNAVAILABLE unless Redis holds the ledger state, at most `max_lag` blocks behind a replay.
    pub async fn ensure_fresh(&self) -> Result<u64, VerifyError> {
        let freshness = self.store.freshness().await?;
        self.metrics.freshness(&freshness);
        Ok(freshness.check(self.max_lag)?)
    }

    /// The participant directory as last read.
    pub(crate) fn directory_now(&self) -> Arc<Directory> {
        self.directory.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub async fn refresh_directory(&self) -> Result<Arc<Directory>, VerifyError> {
        let (_, records) = self.store.participants().await?;
        let directory = Arc::new(Directory::from_records(&records));
        *self.directory.write().unwrap_or_else(|e| e.into_inner()) = directory.clone();
        Ok(directory)
    }

    /// The proof bundle of a pack's last event, disclosing that pack only (the event's core, never its payload). The
    /// store hands over the block's header, that one event and its inclusion in the block, read from the block's proof
    /// index in O(log n) hashes: the block is never read whole.
    async fn bundle(&self, pack: &PackRecord, gtin: &str, serial: &str) -> Result<ProofBundle, VerifyError> {
        let Some(event) = self.store.block_event(pack.last_height, pack.last_index).await? else {
            return Err(inconsistent("pack's last event not in its block"));
        };
        let keys = self.proof_keys().await?;
        bundle_from(&keys, pack.last_height, &event, (gtin, serial))
    }

    /// What every bundle needs of the registry: the participants' records and the sequencer key schedule, as of head
    /// (the registry keeps every key with its heights, so it rolls back to any block's height).
    pub(crate) async fn proof_keys(&self) -> Result<ProofKeys, VerifyError> {
        let (_, records, schedule) = self.store.registry_records().await?;
        let genesis_key = self.auth.registry.borrow().sequencer_keys().keys()[0].key;
        let sequencer =
            SequencerKeys::from_records(&schedule, &genesis_key).map_err(|e| inconsistent(&e.to_string()))?;
        let participants: Vec<Participant> = records
            .iter()
            .map(Participant::try_from)
            .collect::<Result<_, _>>()
            .map_err(|e| inconsistent(&e.to_string()))?;
        Ok(ProofKeys {
            participants,
            sequencer,
        })
    }
}

/// The registry a proof bundle carries its signer's record from ([`Verifier::proof_keys`]).
pub(crate) struct ProofKeys {
    participants: Vec<Participant>,
    sequencer: SequencerKeys,
}

/// The proof bundle of event `event` of block `height`, disclosing one item it names: a pack (`gtin`, `serial`) or
/// a container (an empty GTIN and its element string).
pub(crate) fn bundle_from(
    keys: &ProofKeys,
    height: u64,
    event: &BlockEvent,
    item: (&str, &str),
) -> Result<ProofBundle, VerifyError> {
    let BlockEvent {
        header,
        envelope,
        inclusion,
    } = event;
    let id: Hash = event_id(&envelope.payload);
    check_in_block(&id, header, inclusion)?;
    // The signer's key when it signed: its current key or one it rotated out since.
    let signer = keys
        .participants
        .iter()
        .find(|p| p.id == envelope.signer)
        .ok_or_else(|| inconsistent("signer not in the registry"))?;
    let digest = event_digest(&envelope.payload);
    let key = signer
        .keys()
        .find(|k| k.verify_digest(&digest, &envelope.signature).is_ok())
        .ok_or_else(|| inconsistent("no key of the signer verifies its sealed event"))?;
    bundle_of_event(
        header,
        envelope,
        inclusion.clone(),
        height,
        item,
        key,
        RegistryRecords {
            participants: &keys.participants,
            sequencer: &keys.sequencer,
        },
    )
    .ok_or_else(|| inconsistent("the event does not name the item, or its signer was not in the registry then"))
}

/// The event's inclusion, as read from the store, leads to the header's `merkle_root` (what the bundle's reader
/// checks; a store that disagrees with its blocks is reported, not passed on).
fn check_in_block(id: &Hash, header: &SignedHeader, inclusion: &InclusionProof) -> Result<(), VerifyError> {
    let decoded = BlockHeader::decode(header.header.as_slice()).map_err(|_| inconsistent("undecodable header"))?;
    let root: Hash = decoded
        .merkle_root
        .as_slice()
        .try_into()
        .map_err(|_| inconsistent("header without a merkle root"))?;
    let hashes: Vec<Hash> = inclusion
        .hashes
        .iter()
        .map(|h| h.as_slice().try_into())
        .collect::<Result<_, _>>()
        .map_err(|_| inconsistent("a proof hash is not 32 bytes"))?;
    verify_inclusion(
        &leaf_hash(id),
        inclusion.leaf_index,
        inclusion.tree_size,
        &hashes,
        &root,
    )
    .map_err(|e| inconsistent(&format!("the event's inclusion in its block: {e}")))
}

pub fn inconsistent(what: &str) -> VerifyError {
    VerifyError::Inconsistent(what.to_string())
}

/// What a scan shows of a registered product: its master data and its owner (public, as printed on the pack).
fn product_info(product: &ProductRecord) -> Option<pedigree_core::pb::ProductInfo> {
    let master = product.master.as_ref()?;
    Some(pedigree_core::pb::ProductInfo {
        name: master.name.clone(),
        strength: master.strength.clone(),
        dosage_form: master.dosage_form.clone(),
        pack_size: master.pack_size,
        national_codes: master.national_codes.clone(),
        owner: product.owner.clone(),
    })
}
