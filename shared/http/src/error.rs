//! The error envelope: `{"error": "<code>", "detail": "…"}` with the right status code.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use myloware::engine::{EngineError, IntakeError};

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: String,
    /// Human detail.
    pub detail: String,
    /// Seconds before a retry can succeed (429s): sent as `Retry-After` and in the body.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with this status, code and detail.
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Self { status, code: code.to_owned(), detail: detail.into(), retry_after: None }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = %self.code, detail = %self.detail, "request failed");
        }
        let mut body = serde_json::json!({ "error": self.code, "detail": self.detail });
        match self.retry_after {
            Some(secs) => {
                body["retry_after_seconds"] = secs.into();
                let mut r = (self.status, Json(body)).into_response();
                r.headers_mut().insert("retry-after", secs.into());
                r
            }
            None => (self.status, Json(body)).into_response(),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        if let EngineError::OverBudget { retry_after_secs, .. } = &e {
            let mut err = ApiError::new(StatusCode::TOO_MANY_REQUESTS, e.code(), e.to_string());
            err.retry_after = Some(*retry_after_secs);
            return err;
        }
        let status = match &e {
            EngineError::NotFound(_) => StatusCode::NOT_FOUND,
            EngineError::ContentBlocked(_) => StatusCode::BAD_REQUEST,
            EngineError::SafetyUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            EngineError::Invalid { .. } => StatusCode::BAD_REQUEST,
            EngineError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            EngineError::Conflict { .. } => StatusCode::CONFLICT,
            EngineError::Store(myloware::ports::StoreError::Throttled(_)) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl From<IntakeError> for ApiError {
    fn from(e: IntakeError) -> Self {
        match e {
            IntakeError::Webhook(w) => ApiError::new(
                StatusCode::from_u16(w.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
                w.code(),
                w.to_string(),
            ),
            IntakeError::Engine(e) => e.into(),
        }
    }
}
