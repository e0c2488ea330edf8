//! Alerts as the verifiers fold them from the alerts log (the Kafka topic that is their source of truth): the only
//! keys a verifier writes beside its sign-in nonces, under an ACL that allows it nothing else.
//!
//! Every write is idempotent (`HSETNX`, `ZADD NX`), so two verifiers folding the same record, or one folding it
//! again after a restart, change nothing: the first close of an alert in log order is the one kept. `alerts:folded`
//! is the next log offset to fold; it is absent from a Redis that lost its state, and folding then starts again
//! from the log's first record.

use pedigree_core::alert::alert_of;
use pedigree_core::pb::{Alert, AlertClosed, AlertLogRecord, AlertRaised, alert_log_record::Record};
use prost::Message;

use crate::Result;
use crate::error::StoreError;
use crate::schema::{ALERTS_FOLDED, alert_key, alerts_of_key};
use crate::store::Store;

/// Fields of an alert's hash.
const RAISED: &str = "raised";
const CLOSED: &str = "closed";
const CURSOR: &str = "cursor";

/// An alert's hash fields as read: raised, closed, cursor.
type AlertRow = (Option<Vec<u8>>, Option<Vec<u8>>, Option<u64>);

/// An alert as Redis holds it: what raised it, its first close, and its cursor (its log offset + 1: lists go by it).
#[derive(Clone, Debug, PartialEq)]
pub struct StoredAlert {
    pub raised: AlertRaised,
    pub closed: Option<AlertClosed>,
    pub cursor: u64,
}

impl StoredAlert {
    pub fn alert(&self) -> Alert {
        alert_of(&self.raised, self.closed.as_ref(), self.cursor)
    }
}

impl Store {
    /// Folds the log record at `offset` in (idempotent). A record that does not decode is skipped: the log is
    /// written only by verifiers, which encode what they write.
    pub async fn fold_alert(&self, offset: i64, payload: &[u8]) -> Result<()> {
        let Ok(AlertLogRecord { record: Some(record) }) = AlertLogRecord::decode(payload) else {
            tracing::warn!(offset, "an alerts log record that does not decode: skipped");
            return Ok(());
        };
        // Cursors start at 1, so that "after 0" lists from the first alert.
        let cursor = offset + 1;
        let mut con = self.con.clone();
        let mut pipe = redis::pipe();
        pipe.atomic();
        match record {
            Record::Raised(raised) => {
                let key = alert_key(&raised.id);
                pipe.cmd("HSETNX")
                    .arg(&key)
                    .arg(RAISED)
                    .arg(raised.encode_to_vec())
                    .ignore();
                pipe.cmd("HSETNX").arg(&key).arg(CURSOR).arg(cursor).ignore();
                for who in [&raised.owner, &raised.scanner] {
                    pipe.cmd("ZADD")
                        .arg(alerts_of_key(who))
                        .arg("NX")
                        .arg(cursor)
                        .arg(&raised.id)
                        .ignore();
                }
            }
            Record::Closed(closed) => {
                pipe.cmd("HSETNX")
                    .arg(alert_key(&closed.id))
                    .arg(CLOSED)
                    .arg(closed.encode_to_vec())
                    .ignore();
            }
        }
        pipe.query_async::<()>(&mut con).await?;
        Ok(())
    }

    /// Records that every log record before `next` is folded.
    pub async fn set_alerts_folded(&self, next: i64) -> Result<()> {
        let mut con = self.con.clone();
        redis::cmd("SET")
            .arg(ALERTS_FOLDED)
            .arg(next)
            .query_async::<()>(&mut con)
            .await?;
        Ok(())
    }

    /// The next log offset to fold, or `None` when Redis holds no alerts state (new or emptied).
    pub async fn alerts_folded(&self) -> Result<Option<i64>> {
        let mut con = self.con.clone();
        let raw: Option<i64> = redis::cmd("GET").arg(ALERTS_FOLDED).query_async(&mut con).await?;
        Ok(raw)
    }

    /// Alert `id`, if folded.
    pub async fn alert(&self, id: &str) -> Result<Option<StoredAlert>> {
        Ok(self.alerts(&[id.to_string()]).await?.pop().flatten())
    }

    /// The alerts with these ids, in one round trip.
    async fn alerts(&self, ids: &[String]) -> Result<Vec<Option<StoredAlert>>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut con = self.con.clone();
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.cmd("HMGET").arg(alert_key(id)).arg(RAISED).arg(CLOSED).arg(CURSOR);
        }
        let rows: Vec<AlertRow> = pipe.query_async(&mut con).await?;
        rows.into_iter()
            .zip(ids)
            .map(|((raised, closed, cursor), id)| {
                let Some(raised) = raised else {
                    return Ok(None);
                };
                let corrupt = |source| StoreError::Corrupt {
                    key: alert_key(id),
                    source,
                };
                Ok(Some(StoredAlert {
                    raised: AlertRaised::decode(raised.as_slice()).map_err(corrupt)?,
                    closed: closed
                        .map(|c| AlertClosed::decode(c.as_slice()))
                        .transpose()
                        .map_err(corrupt)?,
                    // Written in the same transaction as the raise.
                    cursor: cursor.unwrap_or_default(),
                }))
            })
            .collect()
    }

    /// Up to `limit` alerts of `participant` (raised on its products or by its scans) after cursor `after`, oldest
    /// first.
    pub async fn alerts_of(&self, participant: &str, after: u64, limit: usize) -> Result<Vec<StoredAlert>> {
        let mut con = self.con.clone();
        let ids: Vec<String> = redis::cmd("ZRANGEBYSCORE")
            .arg(alerts_of_key(participant))
            .arg(format!("({after}"))
            .arg("+inf")
            .arg("LIMIT")
            .arg(0)
            .arg(limit)
            .query_async(&mut con)
            .await?;
        Ok(self.alerts(&ids).await?.into_iter().flatten().collect())
    }
}
