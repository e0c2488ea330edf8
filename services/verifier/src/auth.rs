//! Signing in and knowing who asks: a participant signs a session request once with the key the ledger holds for
//! it ([`Auth::start_session`]); every later call carries the session token, checked here with an HMAC and a lookup
//! in the registry as last read ([`Auth::caller`]), so that revocation and key rotation take effect within the
//! registry refresh delay and authentication costs no signature check per scan.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pedigree_core::keys::PublicKey;
use pedigree_core::participant::{GOVERNANCE_ID, Registry, Role};
use pedigree_core::pb::{ParticipantRole, Session, StartSessionRequest};
use pedigree_core::session::{MAX_CLOCK_SKEW_MS, NONCE_MAX, NONCE_MIN, SESSION_TAG, session_message};
use pedigree_store::Store;
use tokio::sync::watch;

use crate::access::Caller;
pub use crate::session::{Claims, SessionKey, TokenError};

/// Why credentials are refused (UNAUTHENTICATED / 401, but for a malformed nonce and an unreachable store).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("authorization: {0}")]
    Token(#[from] TokenError),
    #[error("authorization: must be \"Bearer <session token>\" (sign in with AuthService.StartSession)")]
    Scheme,
    #[error("participant_id: no such participant on this ledger")]
    UnknownParticipant,
    #[error("participant {0} is revoked")]
    Revoked(String),
    #[error("the session was opened with a key the participant no longer uses: sign in again")]
    KeyRotated,
    #[error("signature: does not verify under the participant's current key for this chain")]
    Signature,
    #[error("timestamp_ms: {0} ms away from the verifier's clock (at most 60000 allowed)")]
    Clock(i64),
    #[error("nonce: must be {NONCE_MIN} to {NONCE_MAX} bytes, got {0}")]
    NonceLength(usize),
    #[error("nonce: already used (a replayed sign-in request)")]
    Replay,
    #[error("state store unavailable: {0}")]
    Store(#[from] pedigree_store::StoreError),
}

/// Sessions and the registry they are checked against.
pub struct Auth {
    pub key: SessionKey,
    pub ttl: Duration,
    /// The chain a sign-in is bound to (the genesis hash).
    pub chain_id: pedigree_core::Hash,
    pub registry: watch::Receiver<Arc<Registry>>,
    pub store: Store,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Who may sign in: a registered participant not revoked, with its current key, or the governance key.
struct Signer<'a> {
    key: &'a PublicKey,
    role: Role,
}

impl<'a> Signer<'a> {
    fn of(registry: &'a Registry, id: &str) -> Result<Self, AuthError> {
        if id == GOVERNANCE_ID {
            let key = registry.governance_key.as_ref().ok_or(AuthError::UnknownParticipant)?;
            return Ok(Self {
                key,
                role: Role::Governance,
            });
        }
        let participant = registry.get(id).ok_or(AuthError::UnknownParticipant)?;
        if participant.revoked.is_some() {
            return Err(AuthError::Revoked(participant.id.clone()));
        }
        Ok(Self {
            key: &participant.key,
            role: participant.role,
        })
    }
}

fn role_pb(role: Role) -> ParticipantRole {
    match role {
        Role::Manufacturer => ParticipantRole::Manufacturer,
        Role::Distributor => ParticipantRole::Distributor,
        Role::Pharmacy => ParticipantRole::Pharmacy,
        Role::Hospital => ParticipantRole::Hospital,
        Role::ThirdPartyLogistics => ParticipantRole::ThirdPartyLogistics,
        Role::Repackager => ParticipantRole::Repackager,
        Role::Auditor => ParticipantRole::Auditor,
        Role::Authority => ParticipantRole::Authority,
        Role::Governance => ParticipantRole::Unspecified,
    }
}

impl Auth {
    /// Checks a signed session request and opens a session: the participant exists and is not revoked, its clock
    /// is close to ours, the signature verifies under its current key over this chain's session message, and the
    /// nonce was never used (claimed in Redis only once the signature verified, so junk cannot fill it).
    pub async fn start_session(&self, request: &StartSessionRequest) -> Result<Session, AuthError> {
        if !(NONCE_MIN..=NONCE_MAX).contains(&request.nonce.len()) {
            return Err(AuthError::NonceLength(request.nonce.len()));
        }
        let registry = self.registry.borrow().clone();
        let signer = Signer::of(&registry, &request.participant_id)?;
        let now = now_ms();
        let skew = request.timestamp_ms.saturating_sub(now);
        if skew.abs() > MAX_CLOCK_SKEW_MS {
            return Err(AuthError::Clock(skew));
        }
        let message = session_message(
            &self.chain_id,
            &request.participant_id,
            request.timestamp_ms,
            &request.nonce,
        );
        signer
            .key
            .verify(SESSION_TAG, &message, &request.signature)
            .map_err(|_| AuthError::Signature)?;
        // Kept past the skew window on both sides: a request old enough to outlive its nonce is refused by the clock.
        let window = Duration::from_millis(2 * MAX_CLOCK_SKEW_MS as u64);
        if !self.store.claim_nonce(&request.nonce, window).await? {
            return Err(AuthError::Replay);
        }
        let expires_at_ms = now.saturating_add(i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX));
        let token = self.key.issue(&Claims {
            participant: request.participant_id.clone(),
            key_id: signer.key.key_id(),
            expires_at_ms,
        });
        tracing::debug!(participant = %request.participant_id, "session opened");
        Ok(Session {
            token,
            expires_at_ms,
            role: role_pb(signer.role) as i32,
        })
    }

    /// Who sent a request with this `authorization` value: anonymous without one; a participant for a valid
    /// session of a participant still registered, not revoked, with the key it signed in with; an error otherwise
    /// (credentials that do not check out are refused, never treated as anonymous).
    pub fn caller(&self, authorization: Option<&[u8]>) -> Result<Caller, AuthError> {
        let Some(value) = authorization else {
            return Ok(Caller::Anonymous);
        };
        let value = std::str::from_utf8(value).map_err(|_| AuthError::Scheme)?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or(AuthError::Scheme)?
            .trim();
        let claims = self.key.check(token, now_ms())?;
        let registry = self.registry.borrow().clone();
        let signer = Signer::of(&registry, &claims.participant)?;
        if signer.key.key_id() != claims.key_id {
            return Err(AuthError::KeyRotated);
        }
        Ok(Caller::Participant {
            index: registry.signer_index(&claims.participant),
            id: claims.participant,
            role: signer.role,
        })
    }
}
