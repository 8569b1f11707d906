//! `/v1/admin/dlq…`: the step queue's dead letters (admin scope). List, show one, replay one,
//! resolve one, start a redrive of all and follow its progress. Same operations on both backends.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use myloware::engine::{DeadLetterView, DlqAction};
use myloware::ports::{DeadLetters, MoveTask};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::views::{DlqList, ErrorBody, TaskFound, TaskList, TaskView};
use crate::extract::OptionalJson;
use crate::{ApiError, AppState, Caller, Scope};

fn dlq(st: &AppState, caller: &Caller) -> Result<(Arc<dyn DeadLetters>, String), ApiError> {
    caller.require(Scope::Admin)?;
    let dlq = st.dlq.clone().ok_or_else(|| {
        ApiError::new(StatusCode::NOT_IMPLEMENTED, "dlq_not_configured", "this server has no DLQ")
    })?;
    Ok((dlq, caller.fingerprint.clone()))
}

#[derive(Deserialize)]
pub struct ListParams {
    limit: Option<u32>,
}

/// `GET /v1/admin/dlq?limit=`: oldest first.
#[utoipa::path(get, path = "/v1/admin/dlq", tag = "admin", security(("api_key" = [])), params(("limit" = Option<u32>, Query, description = "1 to 1000 (50)")),
    responses((status = 200, body = DlqList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 501, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> Result<Json<DlqList>, ApiError> {
    let (dlq, _) = dlq(&st, &caller)?;
    let limit = p.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_limit",
            "limit must be 1..=1000",
        ));
    }
    let messages = st.engine.dlq_list(dlq.as_ref(), limit).await?;
    Ok(Json(DlqList { messages }))
}

/// `GET /v1/admin/dlq/{message_id}`.
#[utoipa::path(get, path = "/v1/admin/dlq/{message_id}", tag = "admin", security(("api_key" = [])), params(("message_id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 501, body = ErrorBody)))]
pub async fn show(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DeadLetterView>, ApiError> {
    let (dlq, _) = dlq(&st, &caller)?;
    Ok(Json(st.engine.dlq_show(dlq.as_ref(), &id).await?))
}

/// `POST /v1/admin/dlq/{message_id}/replay`: back to the step queue, then out of the DLQ.
#[utoipa::path(post, path = "/v1/admin/dlq/{message_id}/replay", tag = "admin", security(("api_key" = [])), params(("message_id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 501, body = ErrorBody)))]
pub async fn replay(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DlqAction>, ApiError> {
    let (dlq, actor) = dlq(&st, &caller)?;
    Ok(Json(st.engine.dlq_replay(dlq.as_ref(), &id, &actor).await?))
}

/// Why a dead letter is resolved.
#[derive(Debug, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// Kept in the run's audit log.
    pub reason: Option<String>,
}

/// `POST /v1/admin/dlq/{message_id}/resolve` `{"reason"?}`: delete it, audited.
#[utoipa::path(post, path = "/v1/admin/dlq/{message_id}/resolve", tag = "admin", security(("api_key" = [])), params(("message_id" = String, Path)), request_body(content = Option<ResolveBody>),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 501, body = ErrorBody)))]
pub async fn resolve(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<ResolveBody>,
) -> Result<Json<DlqAction>, ApiError> {
    let (dlq, actor) = dlq(&st, &caller)?;
    let reason = body.reason;
    Ok(Json(st.engine.dlq_resolve(dlq.as_ref(), &id, &actor, reason).await?))
}

/// `POST /v1/admin/dlq/redrive`: start moving everything back (202 with the task).
#[utoipa::path(post, path = "/v1/admin/dlq/redrive", tag = "admin", security(("api_key" = [])), 
    responses((status = 202, body = TaskView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 501, body = ErrorBody)))]
pub async fn redrive(
    State(st): State<AppState>,
    caller: Caller,
) -> Result<(StatusCode, Json<TaskView>), ApiError> {
    let (dlq, actor) = dlq(&st, &caller)?;
    let t = st.engine.dlq_redrive(dlq.as_ref(), &actor).await?;
    Ok((StatusCode::ACCEPTED, Json(TaskView::from(&t))))
}

#[derive(Deserialize)]
pub struct StatusParams {
    handle: Option<String>,
}

/// `GET /v1/admin/dlq/redrive[?handle=]`: the latest move tasks, newest first, or the one a
/// redrive started (`{"task": …}`, 404 when unknown).
#[utoipa::path(get, path = "/v1/admin/dlq/redrive", tag = "admin", security(("api_key" = [])), params(("handle" = Option<String>, Query)),
    responses((status = 200, body = TaskList, description = "the tasks; with handle: {task: TaskView}"), (status = 404, body = ErrorBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 501, body = ErrorBody)))]
pub async fn redrive_status(
    State(st): State<AppState>,
    caller: Caller,
    Query(p): Query<StatusParams>,
) -> Result<Json<Value>, ApiError> {
    let (dlq, _) = dlq(&st, &caller)?;
    let tasks = dlq.redrive_tasks().await.map_err(myloware::engine::EngineError::from)?;
    // Two shapes by the query: a list, or the one task asked for.
    let value = |v: serde_json::Result<Value>| v.unwrap_or_default();
    match p.handle {
        None => {
            let list = TaskList { tasks: tasks.iter().map(TaskView::from).collect() };
            Ok(Json(value(serde_json::to_value(list))))
        }
        Some(h) => match MoveTask::find(&tasks, &h) {
            Some(t) => Ok(Json(value(serde_json::to_value(TaskFound { task: t.into() })))),
            None => {
                Err(ApiError::new(StatusCode::NOT_FOUND, "task_not_found", "no such move task"))
            }
        },
    }
}
