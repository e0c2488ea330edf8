//! One scan, one Redis round trip, one verdict.

use std::sync::Arc;
use std::time::Instant;

use pedigree_core::gs1::{ScannedCode, parse_scan};
use pedigree_core::pb::{PackStatus, VerifyResponse};
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
    pub async fn verify_code(&self, code: &str) -> Result<VerifyResponse, VerifyError> {
        let scanned = parse_scan(code);
        match scanned {
            Ok(scanned) => self.verify(&scanned).await,
            Err(e) => {
                self.metrics.bad_request();
                Err(e.into())
            }
        }
    }

    pub async fn verify(&self, code: &ScannedCode) -> Result<VerifyResponse, VerifyError> {
        let started = Instant::now();
        let Some(serial) = &code.serial else {
            self.metrics.bad_request();
            return Err(VerifyError::MissingSerial);
        };
        let (product_known, pack) = self
            .store
            .lookup(code.gtin.as_str(), &pack_key(&code.gtin, serial))
            .await?;
        let verdict = verdict(
            code,
            &Lookup {
                product_known,
                pack: pack.as_ref(),
            },
            today_utc(),
        );
        self.metrics.verified(verdict, started.elapsed());
        Ok(VerifyResponse {
            verdict: verdict as i32,
            gtin: code.gtin.as_str().to_string(),
            serial: serial.as_str().to_string(),
            lot: code.lot.as_ref().map(|l| l.as_str().to_string()).unwrap_or_default(),
            expiry: code.expiry.as_ref().map(|e| e.as_str()).unwrap_or_default(),
            status: pack.as_ref().map_or(PackStatus::Unspecified as i32, |p| p.status),
            holder: pack.as_ref().map(|p| p.holder.clone()).unwrap_or_default(),
            height: pack.as_ref().map_or(0, |p| p.last_height),
        })
    }
}
