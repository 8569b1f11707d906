//! The runs API: start, get, list, approve / reject a gate, resume, cancel, fork, history,
//! feedback, notification log; the admin API: audit log and DLQ operations.

mod admin;
mod dlq;
mod events;
mod feedback;
mod gates;
mod notices;
mod operations;
mod runs;
mod views;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub use dlq::ResolveBody;
pub use events::run_events;
pub use feedback::FeedbackBody;
pub use gates::GateBody;
pub use operations::{CancelBody, ForkBody};
pub use runs::StartBody;
pub use views::{
    ArtifactsView, CheckpointView, ClipView, Decided, DlqList, ErrorBody, FeedbackList,
    FeedbackView, FileView, Forked, ForkedFrom, History, NoticeList, NoticeView, RunList, RunState,
    RunSummary, RunView, Started, TaskFound, TaskList, TaskView,
};

mod openapi;
pub use openapi::ApiDoc;

/// The API routes (without state).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/runs", post(runs::start).get(runs::list))
        .route("/v1/runs/{id}", get(runs::get))
        .route("/v1/runs/{id}/approve", post(gates::approve))
        .route("/v1/runs/{id}/reject", post(gates::reject))
        .route("/v1/runs/{id}/resume", post(gates::resume))
        .route("/v1/runs/{id}/cancel", post(operations::cancel))
        .route("/v1/runs/{id}/fork", post(operations::fork))
        .route("/v1/runs/{id}/history", get(operations::history))
        .route("/v1/runs/{id}/feedback", post(feedback::give).get(feedback::list))
        .route("/v1/runs/{id}/events", get(events::events))
        .route("/v1/runs/{id}/notifications", get(notices::list))
        .route("/v1/admin/runs/{id}/audit", get(admin::audit))
        .route("/v1/admin/dlq", get(dlq::list))
        .route("/v1/admin/dlq/redrive", post(dlq::redrive).get(dlq::redrive_status))
        .route("/v1/admin/dlq/{message_id}", get(dlq::show))
        .route("/v1/admin/dlq/{message_id}/replay", post(dlq::replay))
        .route("/v1/admin/dlq/{message_id}/resolve", post(dlq::resolve))
}

/// The run id in the path (`/v1/runs/{id}/…`), parsed: 400 `invalid_run_id` otherwise.
pub(crate) struct RunIdPath(pub myloware::RunId);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for RunIdPath {
    type Rejection = crate::ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, crate::ApiError> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state).await.map_err(|e| {
                crate::ApiError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    "invalid_run_id",
                    e.body_text(),
                )
            })?;
        parse_run_id(&raw).map(RunIdPath)
    }
}

pub(crate) fn parse_run_id(raw: &str) -> Result<myloware::RunId, crate::ApiError> {
    raw.parse().map_err(|e: myloware::domain::IdError| {
        crate::ApiError::new(axum::http::StatusCode::BAD_REQUEST, "invalid_run_id", e.to_string())
    })
}
