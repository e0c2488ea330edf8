//! gRPC clients over a small pool of connections: custody submissions routed by role and kind, and scans.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use pedigree_core::custody_rpc::Rpc;
use pedigree_core::kind::EventKind;
use pedigree_core::participant::Role;
use pedigree_core::pb::verifier_service_client::VerifierServiceClient;
use pedigree_core::pb::{SignedEnvelope, SubmitResponse, VerifyRequest, VerifyResponse};
use tonic::transport::{Channel, Endpoint};
use tonic::{Response, Status};

/// Connections to one endpoint, handed out round robin.
pub struct Pool {
    channels: Vec<Channel>,
    next: AtomicUsize,
}

impl Pool {
    pub async fn connect(endpoint: &str, connections: usize) -> anyhow::Result<Self> {
        let mut channels = Vec::new();
        for _ in 0..connections.max(1) {
            let channel = Endpoint::from_shared(endpoint.to_string())
                .with_context(|| format!("endpoint {endpoint}"))?
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
        })
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
        VerifierServiceClient::new(self.channel())
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
