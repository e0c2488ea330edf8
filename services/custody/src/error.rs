//! Why a submission failed, and the one place that maps it to a gRPC status.

use pedigree_core::event::EventError;
use pedigree_core::kind::EventKind;
use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("this rpc takes {expected} events, the payload holds a {got} event")]
    WrongRpc { expected: &'static str, got: &'static str },
    #[error("event not stored: the broker refused it ({0}); retry later")]
    Broker(String),
    #[error(
        "outcome unknown: the broker did not confirm event {id} in time ({detail}); it may be stored. Query the \
         event (LedgerService.GetEventStatus) or resubmit the same envelope, which is always safe"
    )]
    OutcomeUnknown { id: String, detail: String },
    #[error("envelope of {len} bytes cannot fit in a block (at most {max} bytes per envelope)")]
    TooLarge { len: usize, max: usize },
    #[error("event not stored: cannot mark it pending ({0}); retry later")]
    Pending(String),
    #[error("service is shutting down")]
    ShuttingDown,
    #[error(transparent)]
    RateLimited(#[from] pedigree_runtime::rate::Limited),
    #[error(
        "event not stored: the broker is slower than the submissions (the producer queue is full); retry in {} s",
        RETRY_AFTER_SECS
    )]
    Busy,
}

/// How long a caller refused with [`SubmitError::Busy`] is told to wait.
const RETRY_AFTER_SECS: u64 = 1;

impl SubmitError {
    pub fn wrong_rpc(expected: EventKind, got: EventKind) -> Self {
        SubmitError::WrongRpc {
            expected: expected.as_str(),
            got: got.as_str(),
        }
    }
}

impl SubmitError {
    /// The gRPC status code the caller gets.
    pub fn code(&self) -> Code {
        match self {
            SubmitError::Event(e) => match e {
                EventError::UnknownSigner(_)
                | EventError::Signature(_)
                | EventError::RetiredKey { .. }
                | EventError::Revoked { .. } => Code::Unauthenticated,
                EventError::RoleNotAllowed { .. }
                | EventError::SignerMismatch { .. }
                | EventError::PrefixNotAttested { .. }
                | EventError::TransferConsent(_) => Code::PermissionDenied,
                EventError::RevokedCounterparty { .. } => Code::FailedPrecondition,
                EventError::PayloadTooLarge { .. } | EventError::TooManySerials { .. } => Code::InvalidArgument,
                _ => Code::InvalidArgument,
            },
            SubmitError::WrongRpc { .. } | SubmitError::TooLarge { .. } => Code::InvalidArgument,
            // The operation may have completed (gRPC's meaning of DEADLINE_EXCEEDED).
            SubmitError::OutcomeUnknown { .. } => Code::DeadlineExceeded,
            SubmitError::Broker(_) | SubmitError::Pending(_) | SubmitError::ShuttingDown => Code::Unavailable,
            SubmitError::RateLimited(_) | SubmitError::Busy => Code::ResourceExhausted,
        }
    }

    /// When to retry, for refusals that say so (`retry-after` metadata, seconds).
    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            SubmitError::RateLimited(limited) => Some(limited.retry_after_secs()),
            SubmitError::Busy => Some(RETRY_AFTER_SECS),
            _ => None,
        }
    }

    /// The `outcome` label of `pedigree_custody_submissions_total` (one of [`crate::metrics::OUTCOMES`]).
    pub fn outcome(&self) -> &'static str {
        match self {
            SubmitError::Event(_) => match self.code() {
                Code::Unauthenticated => "unauthenticated",
                Code::PermissionDenied => "permission_denied",
                Code::FailedPrecondition => "failed_precondition",
                _ => "invalid",
            },
            SubmitError::WrongRpc { .. } => "wrong_rpc",
            SubmitError::Broker(_) => "broker_refused",
            SubmitError::OutcomeUnknown { .. } => "outcome_unknown",
            SubmitError::TooLarge { .. } => "too_large",
            SubmitError::Pending(_) => "pending_failed",
            SubmitError::ShuttingDown => "shutting_down",
            SubmitError::RateLimited(_) => "rate_limited",
            SubmitError::Busy => "busy",
        }
    }
}

impl From<SubmitError> for Status {
    fn from(err: SubmitError) -> Status {
        let mut status = Status::new(err.code(), err.to_string());
        if let Some(secs) = err.retry_after_secs() {
            pedigree_runtime::shed::set_retry_after(&mut status, secs);
        }
        status
    }
}
