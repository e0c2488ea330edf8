//! gRPC faces of the verifier: `VerifierService` and `LedgerService`.

use pedigree_core::Hash;
use pedigree_core::pb::ledger_service_server::LedgerService;
use pedigree_core::pb::verifier_service_server::VerifierService;
use pedigree_core::pb::{
    Block, ConsistencyProof, EventState, EventStatus, GetBlockRequest, GetConsistencyProofRequest,
    GetEventStatusRequest, GetHeadRequest, GetInclusionProofRequest, Head, LogInclusionProof, VerifyRequest,
    VerifyResponse, event_outcome,
};
use tonic::{Request, Response, Status};

use crate::error::VerifyError;
use crate::verify::Verifier;

#[tonic::async_trait]
impl VerifierService for Verifier {
    async fn verify(&self, request: Request<VerifyRequest>) -> Result<Response<VerifyResponse>, Status> {
        let request = request.into_inner();
        Ok(Response::new(
            self.verify_code(&request.code, request.include_proof).await?,
        ))
    }
}

#[tonic::async_trait]
impl LedgerService for Verifier {
    async fn get_event_status(&self, request: Request<GetEventStatusRequest>) -> Result<Response<EventStatus>, Status> {
        let raw = request.into_inner().event_id;
        let id: Hash = raw.as_slice().try_into().map_err(|_| VerifyError::EventId(raw.len()))?;
        let outcome = self.store.event_outcome(&id).await.map_err(VerifyError::from)?;
        let status = match outcome.and_then(|o| o.outcome.map(|x| (x, o.height))) {
            None => EventStatus {
                state: EventState::Pending as i32,
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
        let height = request.into_inner().height;
        if height == 0 {
            return Err(VerifyError::Height.into());
        }
        let block = self.store.block(height).await.map_err(VerifyError::from)?;
        Ok(Response::new(block.ok_or(VerifyError::NoBlock(height))?))
    }

    async fn get_head(&self, _: Request<GetHeadRequest>) -> Result<Response<Head>, Status> {
        let height = self.store.head().await.map_err(VerifyError::from)?;
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
        let request = request.into_inner();
        Ok(Response::new(
            self.log_inclusion(&request.event_id, request.tree_size).await?,
        ))
    }

    async fn get_consistency_proof(
        &self,
        request: Request<GetConsistencyProofRequest>,
    ) -> Result<Response<ConsistencyProof>, Status> {
        let request = request.into_inner();
        Ok(Response::new(
            self.log_consistency(request.old_size, request.new_size).await?,
        ))
    }
}
