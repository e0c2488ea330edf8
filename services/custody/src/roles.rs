//! The three role services and the governance service; each RPC names the one kind of event it takes.

use std::sync::Arc;

use pedigree_core::kind::EventKind;
use pedigree_core::pb::distributor_service_server::DistributorService;
use pedigree_core::pb::governance_service_server::GovernanceService;
use pedigree_core::pb::manufacturer_service_server::ManufacturerService;
use pedigree_core::pb::pharmacy_service_server::PharmacyService;
use pedigree_core::pb::{SignedEnvelope, SubmitResponse};
use tonic::{Request, Response, Status};

use crate::submit::Submitter;

/// One handle, three services: they differ only in the RPCs they expose.
#[derive(Clone)]
pub struct Roles(pub Arc<Submitter>);

impl Roles {
    async fn take(
        &self,
        request: Request<SignedEnvelope>,
        kind: EventKind,
    ) -> Result<Response<SubmitResponse>, Status> {
        Ok(Response::new(self.0.submit(request.into_inner(), kind).await?))
    }
}

#[tonic::async_trait]
impl ManufacturerService for Roles {
    async fn commission(&self, r: Request<SignedEnvelope>) -> Result<Response<SubmitResponse>, Status> {
        self.take(r, EventKind::Commission).await
    }
    async fn ship(&self, r: Request<SignedEnvelope>) -> Result<Response<SubmitResponse>, Status> {
        self.take(r, EventKind::Ship).await
    }
    async fn decommission(&self, r: Request<SignedEnvelope>) -> Result<Response<SubmitResponse>, Status> {
        self.take(r, EventKind::Decommission).await
    }
    async fn undo(&self, r: Request<SignedEnvelope>) -> Result<Response<SubmitResponse>, Status> {
        self.take(r, EventKind::Undo).await
    }
    async fn recall(&self, r: Request<SignedEnvelope>) -> Result<Response<SubmitResponse>, Status> {
        self.take(r, EventKind::Recall).await
    }
    async fn withdraw(&self, r: Request<SignedEnvelope>) -> Result<Response<SubmitResponse>, Status> {
        self.take(r, EventKind::Withdraw).await
    }
}

#[tonic::async_trait]
impl DistributorService for Roles {
    async fn receive(&self, r: Request<SignedEnvelope>) -> Result<Response<SubmitResponse>, Status> {
        self.take(r, EventKind::Receive).await
    }
    async fn ship(&self, r: Request<SignedEnvelope>) -> Result<Response<SubmitResponse>, Status> {
        self.take(r, EventKind::Ship).await
    }
    async fn decommission(&self, r: Request<SignedEnvelope>) -> Result<Response<SubmitResponse>, Status> {
        self.take(r, EventKind::Decommission).await
    }
    async fn undo(&self, r: Request<SignedEnvelope>) -> Result<Response<SubmitResponse>, Status> {
        self.take(r, EventKind::Undo).await
    }
}

#[tonic::async_trait]
impl PharmacyService for Roles {
    async fn receive(&self, r: Request<SignedEnvelope>) -> Result<Response<SubmitResponse>, Status> {
        self.take(r, EventKind::Receive).await
    }
    async fn dispense(&self, r: Request<SignedEnvelope>) -> Result<Response<SubmitResponse>, Status> {
        self.take(r, EventKind::Dispense).await
    }
    async fn decommission(&self, r: Request<SignedEnvelope>) -> Result<Response<SubmitResponse>, Status> {
        self.take(r, EventKind::Decommission).await
    }
    async fn undo(&self, r: Request<SignedEnvelope>) -> Result<Response<SubmitResponse>, Status> {
        self.take(r, EventKind::Undo).await
    }
    async fn r#return(&self, r: Request<SignedEnvelope>) -> Result<Response<SubmitResponse>, Status> {
        self.take(r, EventKind::Return).await
    }
}

#[tonic::async_trait]
impl GovernanceService for Roles {
    async fn register_participant(&self, r: Request<SignedEnvelope>) -> Result<Response<SubmitResponse>, Status> {
        self.take(r, EventKind::Register).await
    }
    async fn rotate_key(&self, r: Request<SignedEnvelope>) -> Result<Response<SubmitResponse>, Status> {
        self.take(r, EventKind::RotateKey).await
    }
    async fn revoke_participant(&self, r: Request<SignedEnvelope>) -> Result<Response<SubmitResponse>, Status> {
        self.take(r, EventKind::Revoke).await
    }
}
