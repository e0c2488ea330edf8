//! The submission path shared by every custody RPC (served from `pedigree_core::custody_rpc`'s table): check, then
//! append and wait for the broker.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use pedigree_core::custody_rpc::TakeEvent;
use pedigree_core::envelope::check_envelope;
use pedigree_core::kind::EventKind;
use pedigree_core::pack_key::PackKey;
use pedigree_core::participant::{GOVERNANCE_ID, Registry};
use pedigree_core::pb::{SignedEnvelope, SubmitResponse};
use pedigree_kafka::Producer;
use pedigree_runtime::rate::RateLimit;
use prost::Message;
use tonic::Status;

use crate::error::SubmitError;
use crate::metrics::Metrics;

/// Shared state of the role services.
pub struct Submitter {
    /// The registry as last read from Redis (see [`crate::registry`]).
    pub registry: watch::Receiver<Arc<Registry>>,
    pub producer: Producer,
    /// Where the event is marked pending before it goes to the broker (its status is then PENDING, not NOT_FOUND).
    pub store: pedigree_store::Store,
    pub topic: String,
    /// The largest envelope a block can hold (see `pedigree_core::block_size`).
    pub max_envelope_bytes: usize,
    /// Set on shutdown: new submissions are refused while in-flight ones finish.
    pub draining: AtomicBool,
    /// Every answer, by outcome, and its latency.
    pub metrics: Metrics,
    /// Submissions per signer (counted once the signature checked out, so nobody spends another's budget).
    pub rate: RateLimit<String>,
    /// The longest custody waits for the broker: within the request timeout, so that a broker that does not answer
    /// gets "outcome unknown" (DEADLINE_EXCEEDED, naming the event), never the server's bare CANCELLED.
    pub broker_wait: Duration,
}

impl Submitter {
    /// Checks `envelope` as an event of `kind` and appends it; answers once the broker acknowledged it.
    pub async fn submit(&self, envelope: SignedEnvelope, kind: EventKind) -> Result<SubmitResponse, SubmitError> {
        if self.draining.load(Ordering::Relaxed) {
            return Err(SubmitError::ShuttingDown);
        }
        let len = envelope.encoded_len();
        if len > self.max_envelope_bytes {
            return Err(SubmitError::TooLarge {
                len,
                max: self.max_envelope_bytes,
            });
        }
        let registry = self.registry.borrow().clone();
        let event = check_envelope(&envelope, &registry)?;
        if event.body.kind() != kind {
            return Err(SubmitError::wrong_rpc(kind, event.body.kind()));
        }
        self.rate.check(&event.signer)?;
        // Keyed by the first pack (or the product for lot- and product-level events, the first container for
        // aggregation and container shipments) so a pack's events share a partition when the topic has several.
        let first_pack = event
            .body
            .lines()
            .into_iter()
            .find_map(|(g, s)| s.first().map(|s| PackKey::new(g, s)));
        let key = match (first_pack, event.body.gtin(), event.body.containers().first()) {
            (Some(pack), _, _) => pack.into_string(),
            (None, Some(gtin), _) => gtin.as_str().to_string(),
            (None, None, Some(container)) => container.element(),
            (None, None, None) => GOVERNANCE_ID.to_string(),
        };
        // Marked before the broker has it: an acknowledged event is never NOT_FOUND. (A mark whose event the broker
        // refused only answers PENDING to its own signer, who was told the submission failed.)
        let signer_index = registry.signer_index(&event.signer);
        self.store
            .mark_pending(&event.id, signer_index)
            .await
            .map_err(|e| SubmitError::Pending(e.to_string()))?;
        let unknown = |detail: String| SubmitError::OutcomeUnknown {
            id: hex::encode(event.id),
            detail,
        };
        let sent = tokio::time::timeout(
            self.broker_wait,
            self.producer
                .send(&self.topic, key.as_bytes(), &envelope.encode_to_vec()),
        )
        .await
        .map_err(|_| unknown(format!("the broker did not answer within {:?}", self.broker_wait)))?;
        sent.map_err(|e| {
            if e.is_queue_full() {
                SubmitError::Busy
            } else if e.certainly_not_stored() {
                SubmitError::Broker(e.to_string())
            } else {
                unknown(e.to_string())
            }
        })?;
        // Status now tells "in the topic, not yet sealed" from "not confirmed by the broker". Best effort: the
        // event is stored whatever happens to this mark.
        if let Err(e) = self.store.mark_appended(&event.id, signer_index).await {
            tracing::warn!(error = %e, "could not mark an appended event");
        }
        tracing::debug!(id = %hex::encode(event.id), kind = kind.as_str(), "event appended");
        Ok(SubmitResponse {
            event_id: event.id.to_vec(),
        })
    }
}

/// Every custody RPC hands its envelope here, with the kind of event the RPC takes.
impl TakeEvent for Submitter {
    async fn take(&self, envelope: SignedEnvelope, kind: EventKind) -> Result<SubmitResponse, Status> {
        let started = Instant::now();
        let submitted = self.submit(envelope, kind).await;
        let outcome = match &submitted {
            Ok(_) => "accepted",
            Err(e) => e.outcome(),
        };
        self.metrics.submitted(outcome, started.elapsed());
        Ok(submitted?)
    }
}
