//! Why a verification or ledger query failed, mapped once to gRPC status and once to HTTP.

use axum::http::StatusCode;
use pedigree_core::gs1::Gs1Error;
use tonic::{Code, Status};

use crate::access::Denied;
use crate::auth::AuthError;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{0}")]
    Code(#[from] Gs1Error),
    #[error("serial: the code carries no serial number (AI 21), a pack cannot be verified without it")]
    MissingSerial,
    #[error("event_id: must be 32 bytes, got {0}")]
    EventId(usize),
    #[error("{0}: {1}")]
    Field(&'static str, &'static str),
    #[error("height: must be 1 or more")]
    Height,
    #[error("block {0} does not exist")]
    NoBlock(u64),
    #[error("event_id: no committed event has this id")]
    NotCommitted,
    #[error("event_id: no event with this id that you may see")]
    UnknownEvent,
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("tree_size: {0}")]
    TreeSize(String),
    #[error("the ledger is inconsistent: {0}")]
    Inconsistent(String),
    #[error(transparent)]
    Stale(#[from] pedigree_store::Stale),
    #[error("state store unavailable: {0}")]
    Store(#[from] pedigree_store::StoreError),
    #[error(transparent)]
    RateLimited(#[from] pedigree_runtime::rate::Limited),
    #[error(transparent)]
    AlertId(#[from] pedigree_core::alert::BadAlertId),
    #[error("id: no alert with this id that you may read")]
    UnknownAlert,
    #[error(transparent)]
    Close(#[from] pedigree_core::alert::CloseError),
    #[error("the alert is closed already (by {0})")]
    AlertClosed(String),
    #[error(transparent)]
    AlertLog(#[from] crate::alert_log::AlertLogError),
    #[error(transparent)]
    Vrs(#[from] crate::vrs::VrsError),
    #[error("linkType: {0}")]
    NoLink(String),
    #[error("serial: no pack with this gtin and serial on the ledger")]
    UnknownPack,
    /// Derived state this answer needs is incomplete until a replay rebuilds it.
    #[error("{0}")]
    Rebuilding(&'static str),
}

impl VerifyError {
    /// The part of the request that is wrong, for HTTP clients.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            VerifyError::Code(e) => Some(e.field()),
            VerifyError::MissingSerial => Some("serial"),
            VerifyError::EventId(_) => Some("event_id"),
            VerifyError::Height => Some("height"),
            VerifyError::TreeSize(_) => Some("tree_size"),
            VerifyError::Field(field, _) => Some(field),
            VerifyError::AlertId(_) | VerifyError::UnknownAlert => Some("id"),
            VerifyError::Vrs(e) => e.field(),
            VerifyError::NoLink(_) => Some("linkType"),
            VerifyError::UnknownPack => Some("serial"),
            VerifyError::Close(pedigree_core::alert::CloseError::RootCause) => Some("root_cause"),
            VerifyError::Close(pedigree_core::alert::CloseError::Note(_)) => Some("note"),
            _ => None,
        }
    }

    fn code(&self) -> Code {
        match self {
            VerifyError::Code(_) | VerifyError::MissingSerial | VerifyError::EventId(_) | VerifyError::Height => {
                Code::InvalidArgument
            }
            VerifyError::TreeSize(_) | VerifyError::Field(..) => Code::InvalidArgument,
            VerifyError::NoBlock(_) | VerifyError::NotCommitted | VerifyError::UnknownEvent => Code::NotFound,
            VerifyError::Auth(AuthError::NonceLength(_)) => Code::InvalidArgument,
            VerifyError::Auth(AuthError::Store(_)) => Code::Unavailable,
            VerifyError::Auth(_) => Code::Unauthenticated,
            VerifyError::Denied(_) => Code::PermissionDenied,
            VerifyError::Inconsistent(_) => Code::Internal,
            VerifyError::Store(_) | VerifyError::Stale(_) | VerifyError::Rebuilding(_) => Code::Unavailable,
            VerifyError::RateLimited(_) => Code::ResourceExhausted,
            VerifyError::AlertId(_) | VerifyError::Close(_) => Code::InvalidArgument,
            VerifyError::UnknownAlert => Code::NotFound,
            VerifyError::AlertClosed(_) => Code::FailedPrecondition,
            VerifyError::AlertLog(_) => Code::Unavailable,
            VerifyError::Vrs(crate::vrs::VrsError::Field(..)) => Code::InvalidArgument,
            VerifyError::Vrs(crate::vrs::VrsError::UnknownRequester) => Code::PermissionDenied,
            VerifyError::Vrs(crate::vrs::VrsError::Anonymous) => Code::Unauthenticated,
            VerifyError::Vrs(crate::vrs::VrsError::UnknownProduct) => Code::NotFound,
            VerifyError::NoLink(_) | VerifyError::UnknownPack => Code::NotFound,
        }
    }

    /// When to retry (seconds), for refusals that say so: `Retry-After` in HTTP, `retry-after` metadata in gRPC.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            VerifyError::RateLimited(limited) => Some(limited.retry_after_secs()),
            _ => None,
        }
    }

    pub fn http_status(&self) -> StatusCode {
        match self.code() {
            Code::InvalidArgument => StatusCode::BAD_REQUEST,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Code::FailedPrecondition => StatusCode::CONFLICT,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<VerifyError> for Status {
    fn from(err: VerifyError) -> Status {
        let mut status = Status::new(err.code(), err.to_string());
        if let Some(secs) = err.retry_after_secs() {
            pedigree_runtime::shed::set_retry_after(&mut status, secs);
        }
        status
    }
}
