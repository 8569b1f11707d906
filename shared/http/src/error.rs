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
}

impl ApiError {
    /// An error with this status, code and detail.
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Self { status, code: code.to_owned(), detail: detail.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = %self.code, detail = %self.detail, "request failed");
        }
        (self.status, Json(serde_json::json!({ "error": self.code, "detail": self.detail })))
            .into_response()
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let status = match &e {
            EngineError::NotFound(_) => StatusCode::NOT_FOUND,
            EngineError::Invalid { .. } => StatusCode::BAD_REQUEST,
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
