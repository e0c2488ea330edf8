//! gRPC faces of the verifier: `VerifierService`, `LedgerService`, `NotificationService`, `AlertService`,
//! `TraceService` and `AuthService`. Every call first learns who
//! asks from its `authorization` metadata ([`Verifier::caller`]); what it may see is decided in [`crate::access`].

use pedigree_core::Hash;
use pedigree_core::pb::alert_service_server::AlertService;
use pedigree_core::pb::auth_service_server::AuthService;
use pedigree_core::pb::ledger_service_server::LedgerService;
use pedigree_core::pb::notification_service_server::NotificationService;
use pedigree_core::pb::trace_service_server::TraceService;
use pedigree_core::pb::verifier_service_server::VerifierService;
use pedigree_core::pb::{
    Block, ConsistencyProof, EventState, EventStatus, GetBlockRequest, GetConsistencyProofRequest,
    GetEventStatusRequest, GetHeadRequest, GetInclusionProofRequest, Head, LogInclusionProof, Notification, Session,
    StartSessionRequest, SubscribeRequest, VerifyRequest, VerifyResponse, event_outcome,
};
use tonic::{Request, Response, Status};

use crate::access::{Caller, Denied};
use crate::error::VerifyError;
use crate::verify::Verifier;

/// The `x-forwarded-for` entries of a request (believed only from trusted proxies: [`crate::client_ip`]).
fn forwarded<T>(request: &Request<T>) -> impl Iterator<Item = &[u8]> {
    request
        .metadata()
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| v.as_bytes())
}

impl Verifier {
    /// Who sent `request` (anonymous without an `authorization` entry; refused if it does not check out), once
    /// counted against that caller's rate.
    fn caller<T>(&self, request: &Request<T>) -> Result<Caller, VerifyError> {
        let authorization = request.metadata().get("authorization").map(|v| v.as_bytes());
        let caller = self.auth.caller(authorization)?;
        self.rates
            .admit(&caller, request.remote_addr().map(|peer| peer.ip()), forwarded(request))?;
        Ok(caller)
    }

    /// The caller, if it may read blocks, the head and log proofs.
    fn ledger_reader<T>(&self, request: &Request<T>) -> Result<Caller, VerifyError> {
        let caller = self.caller(request)?;
        caller.may_read_ledger()?;
        Ok(caller)
    }
}

#[tonic::async_trait]
impl AuthService for Verifier {
    async fn start_session(&self, request: Request<StartSessionRequest>) -> Result<Response<Session>, Status> {
        // Signing in is anonymous until it succeeds: counted by source address.
        self.rates
            .admit(
                &Caller::Anonymous,
                request.remote_addr().map(|peer| peer.ip()),
                forwarded(&request),
            )
            .map_err(VerifyError::from)?;
        let session = self
            .auth
            .start_session(request.get_ref())
            .await
            .map_err(VerifyError::from)?;
        Ok(Response::new(session))
    }
}

#[tonic::async_trait]
impl VerifierService for Verifier {
    async fn verify(&self, request: Request<VerifyRequest>) -> Result<Response<VerifyResponse>, Status> {
        let caller = self.caller(&request)?;
        let request = request.into_inner();
        Ok(Response::new(
            self.verify_code(&request.code, request.include_proof, &caller).await?,
        ))
    }
}

#[tonic::async_trait]
impl AlertService for Verifier {
    async fn list_alerts(
        &self,
        request: Request<pedigree_core::pb::ListAlertsRequest>,
    ) -> Result<Response<pedigree_core::pb::ListAlertsResponse>, Status> {
        let caller = self.caller(&request)?;
        Ok(Response::new(self.list_alerts(&caller, request.get_ref()).await?))
    }

    async fn get_alert(
        &self,
        request: Request<pedigree_core::pb::GetAlertRequest>,
    ) -> Result<Response<pedigree_core::pb::Alert>, Status> {
        let caller = self.caller(&request)?;
        Ok(Response::new(self.get_alert(&caller, &request.get_ref().id).await?))
    }

    async fn close_alert(
        &self,
        request: Request<pedigree_core::pb::CloseAlertRequest>,
    ) -> Result<Response<pedigree_core::pb::Alert>, Status> {
        let caller = self.caller(&request)?;
        Ok(Response::new(self.close_alert(&caller, request.get_ref()).await?))
    }
}

#[tonic::async_trait]
impl TraceService for Verifier {
    async fn trace_lot(
        &self,
        request: Request<pedigree_core::pb::TraceLotRequest>,
    ) -> Result<Response<pedigree_core::pb::LotTrace>, Status> {
        let caller = self.caller(&request)?;
        Ok(Response::new(self.trace_lot(&caller, request.get_ref()).await?))
    }

    async fn get_pack_history(
        &self,
        request: Request<pedigree_core::pb::PackHistoryRequest>,
    ) -> Result<Response<pedigree_core::pb::PackHistory>, Status> {
        let caller = self.caller(&request)?;
        Ok(Response::new(self.pack_history(&caller, request.get_ref()).await?))
    }
}

#[tonic::async_trait]
impl NotificationService for Verifier {
    type SubscribeStream = tokio_stream::wrappers::ReceiverStream<Result<Notification, Status>>;

    async fn subscribe(&self, request: Request<SubscribeRequest>) -> Result<Response<Self::SubscribeStream>, Status> {
        let caller = self.caller(&request)?;
        if caller == Caller::Anonymous {
            return Err(VerifyError::from(Denied::Notifications).into());
        }
        Ok(Response::new(self.subscribe(caller, request.get_ref()).await?))
    }
}

#[tonic::async_trait]
impl LedgerService for Verifier {
    async fn get_event_status(&self, request: Request<GetEventStatusRequest>) -> Result<Response<EventStatus>, Status> {
        let caller = self.caller(&request)?;
        if caller == Caller::Anonymous {
            return Err(VerifyError::from(Denied::Status).into());
        }
        let raw = request.into_inner().event_id;
        let id: Hash = raw.as_slice().try_into().map_err(|_| VerifyError::EventId(raw.len()))?;
        // A Redis that lost its state has lost the outcomes and pending marks too: UNAVAILABLE, not NOT_FOUND.
        self.ensure_fresh().await?;
        // The pending mark first, then the outcome: the block write records an outcome and deletes the mark in one
        // script, so read in this order one of the two is always seen (the other order can miss both, between the
        // reads, and answer NOT_FOUND for an acknowledged event).
        let pending = self.store.pending(&id).await.map_err(VerifyError::from)?;
        let outcome = self.store.event_outcome(&id).await.map_err(VerifyError::from)?;
        let pending = pending.filter(|_| outcome.is_none());
        let signer = match &outcome {
            Some(o) => Some(o.signer_index),
            None => pending.map(|p| p.signer_index),
        };
        // Someone else's event, or none: the same answer, so that ids cannot be probed.
        match signer {
            Some(signer) if caller.may_see_status(signer).map_err(VerifyError::from)? => {}
            _ => return Err(VerifyError::UnknownEvent.into()),
        }
        let status = match outcome.and_then(|o| o.outcome.map(|x| (x, o.height))) {
            None => EventStatus {
                state: EventState::Pending as i32,
                // Where it is: waiting in the events topic, or submitted without the broker's confirmation yet.
                reason: if pending.is_some_and(|p| p.appended) {
                    "in the events topic, not yet sealed".into()
                } else {
                    "submitted; the broker has not confirmed it (it may not be stored)".into()
                },
                ..EventStatus::default()
            },
            Some((event_outcome::Outcome::CommittedHeight(h), _)) => EventStatus {
                state: EventState::Committed as i32,
                height: h,
                ..EventStatus::default()
            },
            Some((event_outcome::Outcome::Rejected(r), height)) => EventStatus {
                state: EventState::Rejected as i32,
                height,
                reject_code: r.code,
                reason: r.reason,
            },
        };
        Ok(Response::new(status))
    }

    async fn get_block(&self, request: Request<GetBlockRequest>) -> Result<Response<Block>, Status> {
        self.ledger_reader(&request)?;
        let height = request.into_inner().height;
        if height == 0 {
            return Err(VerifyError::Height.into());
        }
        let block = self.store.block(height).await.map_err(VerifyError::from)?;
        Ok(Response::new(block.ok_or(VerifyError::NoBlock(height))?))
    }

    async fn get_head(&self, request: Request<GetHeadRequest>) -> Result<Response<Head>, Status> {
        self.ledger_reader(&request)?;
        let height = self.ensure_fresh().await?;
        if height == 0 {
            return Ok(Response::new(Head::default()));
        }
        let block = self.store.block(height).await.map_err(VerifyError::from)?;
        Ok(Response::new(Head {
            height,
            header: block.and_then(|b| b.header),
        }))
    }

    async fn get_inclusion_proof(
        &self,
        request: Request<GetInclusionProofRequest>,
    ) -> Result<Response<LogInclusionProof>, Status> {
        self.ledger_reader(&request)?;
        let request = request.into_inner();
        Ok(Response::new(
            self.log_inclusion(&request.event_id, request.tree_size).await?,
        ))
    }

    async fn get_consistency_proof(
        &self,
        request: Request<GetConsistencyProofRequest>,
    ) -> Result<Response<ConsistencyProof>, Status> {
        self.ledger_reader(&request)?;
        let request = request.into_inner();
        Ok(Response::new(
            self.log_consistency(request.old_size, request.new_size).await?,
        ))
    }
}
