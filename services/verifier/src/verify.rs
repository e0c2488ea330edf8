//! One scan, one Redis round trip, one verdict.

use std::sync::Arc;
use std::time::Instant;

use pedigree_core::Hash;
use pedigree_core::gs1::{ScannedCode, parse_scan};
use pedigree_core::keys::EVENT_TAG;
use pedigree_core::participant::Participant;
use pedigree_core::pb::{PackRecord, PackStatus, ProofBundle, VerifyResponse};
use pedigree_core::proof::block_inclusion;
use pedigree_core::state::pack_key;
use pedigree_core::verdict::{Lookup, today_utc, verdict};
use pedigree_store::Store;

use crate::error::VerifyError;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct Verifier {
    pub store: Store,
    pub metrics: Arc<Metrics>,
}

impl Verifier {
    /// Verifies what a scanner typed (element string, bracketed form or Digital Link).
    pub async fn verify_code(&self, code: &str, with_proof: bool) -> Result<VerifyResponse, VerifyError> {
        let scanned = parse_scan(code);
        match scanned {
            Ok(scanned) => self.verify(&scanned, with_proof).await,
            Err(e) => {
                self.metrics.bad_request();
                Err(e.into())
            }
        }
    }

    pub async fn verify(&self, code: &ScannedCode, with_proof: bool) -> Result<VerifyResponse, VerifyError> {
        let started = Instant::now();
        let Some(serial) = &code.serial else {
            self.metrics.bad_request();
            return Err(VerifyError::MissingSerial);
        };
        let (product, pack) = self
            .store
            .lookup(code.gtin.as_str(), &pack_key(&code.gtin, serial))
            .await?;
        let verdict = verdict(
            code,
            &Lookup {
                product: product.as_ref(),
                pack: pack.as_ref(),
            },
            today_utc(),
        );
        self.metrics.verified(verdict, started.elapsed());
        let proof = match (&pack, with_proof) {
            (Some(p), true) => Some(self.bundle(p).await?),
            _ => None,
        };
        Ok(VerifyResponse {
            proof,
            verdict: verdict as i32,
            gtin: code.gtin.as_str().to_string(),
            serial: serial.as_str().to_string(),
            lot: code.lot.as_ref().map(|l| l.as_str().to_string()).unwrap_or_default(),
            expiry: code.expiry.as_ref().map(|e| e.as_str()).unwrap_or_default(),
            status: pack.as_ref().map_or(PackStatus::Unspecified as i32, |p| p.status),
            holder: pack.as_ref().map(|p| p.holder.clone()).unwrap_or_default(),
            height: pack.as_ref().map_or(0, |p| p.last_height),
            decommission_reason: pack.as_ref().map_or(0, |p| p.decommission_reason),
        })
    }
}

impl Verifier {
    /// The proof bundle of a pack's last event.
    async fn bundle(&self, pack: &PackRecord) -> Result<ProofBundle, VerifyError> {
        let block = self
            .store
            .block(pack.last_height)
            .await?
            .ok_or(VerifyError::NoBlock(pack.last_height))?;
        let id: Hash = pack
            .last_event_id
            .as_slice()
            .try_into()
            .map_err(|_| inconsistent("pack's last event id"))?;
        let inclusion =
            block_inclusion(&block, &id).ok_or_else(|| inconsistent("pack's last event not in its block"))?;
        let envelope = block.events[inclusion.leaf_index as usize].clone();
        // The signer's key when it signed: its current key or one it rotated out since (the registry keeps them).
        let record = self
            .store
            .participant(&envelope.signer)
            .await?
            .ok_or_else(|| inconsistent("signer not in the registry"))?;
        let signer = Participant::try_from(&record).map_err(|e| inconsistent(&e.to_string()))?;
        let key = signer
            .keys()
            .find(|k| k.verify(EVENT_TAG, &envelope.payload, &envelope.signature).is_ok())
            .ok_or_else(|| inconsistent("no key of the signer verifies its sealed event"))?;
        Ok(ProofBundle {
            signer_public_key: key.to_sec1(),
            envelope: Some(envelope),
            inclusion: Some(inclusion),
            header: block.header,
        })
    }
}

pub fn inconsistent(what: &str) -> VerifyError {
    VerifyError::Inconsistent(what.to_string())
}
