//! Engine errors with stable codes; the HTTP layer maps them to status codes.

use crate::ports::{BlobError, QueueError, StoreError};

/// What went wrong in an engine operation.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// No such run.
    #[error("run {0} not found")]
    NotFound(String),
    /// The request is not valid.
    #[error("{detail}")]
    Invalid {
        /// Stable code.
        code: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The request is well-formed, but what it carries breaks the run's rules (an edited idea
    /// list that does not keep the project's schema).
    #[error("{detail}")]
    Unprocessable {
        /// Stable code.
        code: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The run is not in a state that allows this.
    #[error("{detail}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// Why.
        detail: String,
    },
    /// The content-safety checker blocked the text.
    #[error("content blocked: {0}")]
    ContentBlocked(String),
    /// The content-safety checker failed or timed out (fail closed).
    #[error("the safety checker is unavailable: {0}")]
    SafetyUnavailable(String),
    /// A cost guard refused the request.
    #[error("{detail}")]
    OverBudget {
        /// Stable code (`budget_exceeded`, `rate_limited`).
        code: &'static str,
        /// Why.
        detail: String,
        /// When to try again.
        retry_after_secs: u64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The queue failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The blob store failed.
    #[error(transparent)]
    Blob(#[from] BlobError),
}

impl EngineError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::NotFound(_) => "run_not_found",
            EngineError::Invalid { code, .. }
            | EngineError::Unprocessable { code, .. }
            | EngineError::Conflict { code, .. } => code,
            EngineError::ContentBlocked(_) => "content_blocked",
            EngineError::SafetyUnavailable(_) => "safety_unavailable",
            EngineError::OverBudget { code, .. } => code,
            EngineError::Store(e) => e.code(),
            EngineError::Queue(e) => e.code(),
            EngineError::Blob(_) => "blob_unavailable",
        }
    }

    /// Shorthand for an invalid-request error.
    pub fn invalid(code: &'static str, detail: impl Into<String>) -> Self {
        EngineError::Invalid { code, detail: detail.into() }
    }
}
