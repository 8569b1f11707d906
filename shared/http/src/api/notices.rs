//! A run's notification delivery log: `GET /v1/runs/{id}/notifications` — each event sent to
//! each endpoint, where its delivery stands, how many attempts it took, the last answer.

use axum::Json;
use axum::extract::State;
use myloware::domain::NoticeDelivery;

use super::RunIdPath;
use super::views::{ErrorBody, NoticeList, NoticeView};
use crate::{ApiError, AppState, Caller};

fn view(d: &NoticeDelivery) -> NoticeView {
    NoticeView {
        event_id: d.event_id.clone(),
        event_type: d.kind.as_str().into(),
        endpoint: d.endpoint.clone(),
        state: d.state.as_str().into(),
        attempts: d.attempts,
        last_status: d.last_status,
        last_error: d.last_error.clone(),
        next_attempt_at: d.next_attempt_at.map(|t| t.rfc3339()),
        first_at: d.first_at.rfc3339(),
        updated_at: d.updated_at.rfc3339(),
    }
}

/// The run's notification deliveries, oldest first.
#[utoipa::path(get, path = "/v1/runs/{id}/notifications", tag = "runs", security(("api_key" = [])),
    params(("id" = String, Path, description = "run id")),
    responses((status = 200, body = NoticeList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
) -> Result<Json<NoticeList>, ApiError> {
    st.engine.get_for(&id, &caller.viewer()).await?;
    let log = st.engine.notice_log(&id).await?;
    Ok(Json(NoticeList { run_id: id.to_string(), deliveries: log.iter().map(view).collect() }))
}
