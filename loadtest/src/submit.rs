//! gRPC clients over a small pool of connections: custody submissions routed by role and kind, and scans.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use pedigree_core::custody_rpc::Rpc;
use pedigree_core::kind::EventKind;
use pedigree_core::participant::Role;
use pedigree_core::pb::verifier_service_client::VerifierServiceClient;
use pedigree_core::pb::{SignedEnvelope, SubmitResponse, VerifyRequest, VerifyResponse};
use pedigree_runtime::sign_in::{Bearer, sign_in};
use pedigree_runtime::tls::ClientTls;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::parties::Party;
use tonic::{Response, Status};

/// Connections to one endpoint, handed out round robin.
pub struct Pool {
    channels: Vec<Channel>,
    next: AtomicUsize,
    /// The session calls to the verifier carry (none for custody, which checks each envelope's signature).
    bearer: Option<Bearer>,
}

impl Pool {
    /// `connections` TLS connections to `endpoint` (checked against `tls`), unauthenticated.
    pub async fn connect(endpoint: &str, connections: usize, tls: &ClientTls) -> anyhow::Result<Self> {
        let mut channels = Vec::new();
        for _ in 0..connections.max(1) {
            let channel = tls
                .endpoint(endpoint)?
                .timeout(Duration::from_secs(30))
                .tcp_nodelay(true)
                .connect()
                .await
                .with_context(|| format!("connecting to {endpoint}"))?;
            channels.push(channel);
        }
        Ok(Self {
            channels,
            next: AtomicUsize::new(0),
            bearer: None,
        })
    }

    /// Signs in to the verifier as `reader` (once: the session is shared by every connection of the pool).
    pub async fn signed_in(mut self, reader: &Party, chain_id: &[u8]) -> anyhow::Result<Self> {
        let session = sign_in(self.channel(), &reader.key, chain_id, &reader.id).await?;
        self.bearer = Some(Bearer::new(&session.token)?);
        Ok(self)
    }

    /// A connection whose calls carry the pool's session (if it signed in).
    pub fn authed(&self) -> InterceptedService<Channel, Bearer> {
        let bearer = self.bearer.clone().unwrap_or_else(Bearer::anonymous);
        InterceptedService::new(self.channel(), bearer)
    }

    pub fn channel(&self) -> Channel {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.channels.len();
        self.channels[i].clone()
    }

    /// Sends an envelope to the RPC of its signer's role's service that takes its kind.
    pub async fn submit(
        &self,
        role: Role,
        kind: EventKind,
        envelope: SignedEnvelope,
    ) -> Result<Response<SubmitResponse>, Status> {
        let Some(rpc) = Rpc::of(role, kind) else {
            return Err(Status::invalid_argument(format!(
                "{} may not sign {}",
                role.as_str(),
                kind.as_str()
            )));
        };
        rpc.call(self.channel(), envelope).await
    }

    /// One scan over gRPC.
    pub async fn verify(&self, code: String) -> Result<Response<VerifyResponse>, Status> {
        VerifierServiceClient::new(self.authed())
            .verify(VerifyRequest {
                code,
                ..VerifyRequest::default()
            })
            .await
    }
}

/// The name an error is counted under: the gRPC status code.
pub fn status_name(status: &Status) -> String {
    format!("{:?}", status.code())
}
