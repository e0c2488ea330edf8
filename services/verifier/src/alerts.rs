//! Alerts (docs/verdicts.md, "Alerts"; docs/access.md): a signed-in participant's scan that contradicts the ledger
//! raises one, recorded in the alerts log before the verdict is answered with its id; the product's owner lists,
//! reads and closes them; the scanner reads its own. Nobody else learns that an alert exists.

use std::time::{SystemTime, UNIX_EPOCH};

use pedigree_core::alert::{AlertId, alert_code, check_close, may_close, may_read};
use pedigree_core::gs1::ScannedCode;
use pedigree_core::pb::{
    Alert, AlertClosed, AlertLogRecord, AlertRaised, CloseAlertRequest, ListAlertsRequest, ListAlertsResponse,
    ProductRecord, Verdict, alert_log_record::Record,
};
use pedigree_store::StoredAlert;

use crate::access::{Caller, Denied};
use crate::error::VerifyError;
use crate::verify::Verifier;

/// The most alerts one list answers.
const MAX_LIST: usize = 500;

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

impl Verifier {
    /// Raises the alert `verdict` calls for when `caller` is a supply-chain participant (not an auditor or an
    /// authority, who inspect) and the product is known (its owner is who investigates); returns its id once the alerts log holds it. Empty when the verdict raises none, and when
    /// the log did not take it: the verdict is still answered (a pharmacist must learn not to dispense), counted as
    /// `unrecorded`.
    pub(crate) async fn raise_alert(
        &self,
        code: &ScannedCode,
        verdict: Verdict,
        product: Option<&ProductRecord>,
        caller: &Caller,
    ) -> String {
        let (Some(scanner), Some(code_of_alert), Some(product), Some(serial)) =
            (caller.id(), alert_code(verdict), product, code.serial.as_ref())
        else {
            return String::new();
        };
        // Auditors and authorities inspect; alerts are for scans in the supply chain (EMVS: end users' operations).
        if product.owner.is_empty() || caller.reads_everything() {
            return String::new();
        }
        let id = AlertId::from_random(getrandom::u64().unwrap_or_else(|_| now_ms() as u64));
        let raised = AlertRaised {
            id: id.to_string(),
            code: code_of_alert as i32,
            gtin: code.gtin.as_str().to_string(),
            serial: serial.as_str().to_string(),
            scanned_lot: code.lot.as_ref().map(|l| l.as_str().to_string()).unwrap_or_default(),
            scanned_expiry: code.expiry.as_ref().map(|e| e.as_str()).unwrap_or_default(),
            scanner: scanner.to_string(),
            owner: product.owner.clone(),
            raised_at_ms: now_ms(),
        };
        let record = AlertLogRecord {
            record: Some(Record::Raised(raised)),
        };
        match self.alert_log.append(id.as_str(), &record).await {
            Ok(()) => {
                self.metrics.alert("raised");
                id.to_string()
            }
            // In the log, not yet in Redis: raised all the same, and readable once folded.
            Err(crate::alert_log::AlertLogError::NotFolded) => {
                self.metrics.alert("raised");
                id.to_string()
            }
            Err(e) => {
                tracing::warn!(error = %e, alert = %id, "an alert could not be recorded");
                self.metrics.alert("unrecorded");
                String::new()
            }
        }
    }

    /// The caller's alerts after `request.after`, oldest first.
    pub(crate) async fn list_alerts(
        &self,
        caller: &Caller,
        request: &ListAlertsRequest,
    ) -> Result<ListAlertsResponse, VerifyError> {
        let id = caller.id().ok_or(Denied::Alerts)?;
        let limit = match request.limit as usize {
            0 => MAX_LIST,
            n => n.min(MAX_LIST),
        };
        let found = self.store.alerts_of(id, request.after, limit).await?;
        let next = found.last().map_or(request.after, |a| a.cursor);
        let alerts = found
            .iter()
            .filter(|a| !(request.open_only && a.closed.is_some()))
            .map(StoredAlert::alert)
            .collect();
        Ok(ListAlertsResponse { alerts, next })
    }

    /// Alert `typed_id`, if the caller may read it; the same NOT_FOUND as for an unknown id otherwise.
    pub(crate) async fn get_alert(&self, caller: &Caller, typed_id: &str) -> Result<Alert, VerifyError> {
        Ok(self.readable_alert(caller, typed_id).await?.alert())
    }

    async fn readable_alert(&self, caller: &Caller, typed_id: &str) -> Result<StoredAlert, VerifyError> {
        let who = caller.id().ok_or(Denied::Alerts)?;
        let id = AlertId::parse(typed_id)?;
        match self.store.alert(id.as_str()).await? {
            Some(alert) if may_read(&alert.raised, who) => Ok(alert),
            _ => Err(VerifyError::UnknownAlert),
        }
    }

    /// Closes an open alert on the caller's product with a root cause. Two owners' devices closing it at once: the
    /// first close in the log's order is kept, and the other is told it was closed already.
    pub(crate) async fn close_alert(&self, caller: &Caller, request: &CloseAlertRequest) -> Result<Alert, VerifyError> {
        let alert = self.readable_alert(caller, &request.id).await?;
        let who = caller.id().ok_or(Denied::Alerts)?;
        if !may_close(&alert.raised, who) {
            return Err(Denied::CloseAlert.into());
        }
        let root_cause = check_close(request.root_cause, &request.note)?;
        if let Some(closed) = &alert.closed {
            return Err(VerifyError::AlertClosed(closed.closed_by.clone()));
        }
        let mut token = [0u8; 16];
        getrandom::fill(&mut token).map_err(|e| VerifyError::Inconsistent(format!("no randomness: {e}")))?;
        let record = AlertLogRecord {
            record: Some(Record::Closed(AlertClosed {
                id: alert.raised.id.clone(),
                closed_by: who.to_string(),
                closed_at_ms: now_ms(),
                root_cause: root_cause as i32,
                note: request.note.clone(),
                token: token.to_vec(),
            })),
        };
        self.alert_log.append(&alert.raised.id, &record).await?;
        let folded = self
            .store
            .alert(&alert.raised.id)
            .await?
            .ok_or(VerifyError::UnknownAlert)?;
        match &folded.closed {
            Some(closed) if closed.token == token => {
                self.metrics.alert("closed");
                Ok(folded.alert())
            }
            Some(closed) => Err(VerifyError::AlertClosed(closed.closed_by.clone())),
            None => Err(crate::alert_log::AlertLogError::NotFolded.into()),
        }
    }
}
