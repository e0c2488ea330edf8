//! The client side of signing in: sign a session request with the participant's key, get a token, and send it on
//! every later call ([`Bearer`], a tonic interceptor).

use anyhow::Context;
use pedigree_core::keys::KeyPair;
use pedigree_core::pb::Session;
use pedigree_core::pb::auth_service_client::AuthServiceClient;
use pedigree_core::session::new_session_request;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::transport::Channel;

/// Adds `authorization: Bearer <token>` to every request (or nothing, for an anonymous caller).
#[derive(Clone, Debug)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Bearer {
    pub fn new(token: &str) -> anyhow::Result<Self> {
        let value = format!("Bearer {token}")
            .parse()
            .context("the session token is not valid metadata")?;
        Ok(Self(Some(value)))
    }

    /// Sends no credentials.
    pub fn anonymous() -> Self {
        Self(None)
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// Signs in as `participant_id` on chain `chain_id` through the verifier at `channel`.
pub async fn sign_in(
    channel: Channel,
    key: &KeyPair,
    chain_id: &[u8],
    participant_id: &str,
) -> anyhow::Result<Session> {
    let request = new_session_request(key, chain_id, participant_id);
    let session = AuthServiceClient::new(channel)
        .start_session(request)
        .await
        .map_err(|s| {
            anyhow::anyhow!(
                "signing in as {participant_id} refused ({:?}): {}",
                s.code(),
                s.message()
            )
        })?;
    Ok(session.into_inner())
}
