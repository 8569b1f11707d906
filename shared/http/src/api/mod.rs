//! The runs API: start, get, list, approve / reject a gate.

mod admin;
mod gates;
mod runs;
mod views;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub use views::{ArtifactsView, RunSummary, RunView};

/// The API routes (without state).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/runs", post(runs::start).get(runs::list))
        .route("/v1/runs/{id}", get(runs::get))
        .route("/v1/runs/{id}/approve", post(gates::approve))
        .route("/v1/runs/{id}/reject", post(gates::reject))
        .route("/v1/runs/{id}/resume", post(gates::resume))
        .route("/v1/admin/runs/{id}/audit", get(admin::audit))
}

pub(crate) fn parse_run_id(raw: &str) -> Result<myloware::RunId, crate::ApiError> {
    raw.parse().map_err(|e: myloware::domain::IdError| {
        crate::ApiError::new(axum::http::StatusCode::BAD_REQUEST, "invalid_run_id", e.to_string())
    })
}
