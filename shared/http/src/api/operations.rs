//! Operator actions on a run: cancel, fork from a checkpoint, history. Each action is audited
//! on the run with the caller's key fingerprint.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::RunIdPath;
use super::views::{CheckpointView, ErrorBody, Forked, ForkedFrom, History, RunState};
use crate::extract::{ApiJson, OptionalJson};
use crate::request_id::RequestId;
use crate::{ApiError, AppState, Caller, Scope};

/// Why a run is cancelled.
#[derive(Debug, Serialize, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// Kept in the run's audit log (at most 2,000 characters).
    pub reason: Option<String>,
}

/// `POST /v1/runs/{id}/cancel` `{"reason"?}`: in-flight messages and late callbacks are then
/// ignored.
#[utoipa::path(post, path = "/v1/runs/{id}/cancel", tag = "operations", security(("api_key" = [])),
    params(("id" = String, Path, description = "run id")), request_body(content = Option<CancelBody>),
    responses((status = 200, body = RunState), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn cancel(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
    rid: RequestId,
    OptionalJson(body): OptionalJson<CancelBody>,
) -> Result<Json<RunState>, ApiError> {
    st.engine.get_for(&id, &caller.viewer()).await?;
    let actor = caller.fingerprint;
    if body.reason.as_ref().is_some_and(|r| r.chars().count() > 2000) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_reason",
            "reason is longer than 2000 characters",
        ));
    }
    let run = st.engine.cancel(&id, &actor, body.reason, Some(rid.0)).await?;
    Ok(Json(RunState::of(&run)))
}

/// Where a fork starts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForkBody {
    /// The checkpoint (see the run's history).
    pub from_version: u64,
}

/// `POST /v1/runs/{id}/fork` `{"from_version": V}` (operator scope): 201 with the new run. A
/// fork is a new run: it passes the caller's rate limit, the 24-hour cap and the budget, and
/// waits at the last gate its source had passed before that checkpoint.
#[utoipa::path(post, path = "/v1/runs/{id}/fork", tag = "operations", security(("api_key" = [])),
    params(("id" = String, Path, description = "run id")), request_body = ForkBody,
    responses((status = 201, body = Forked), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn fork(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
    rid: RequestId,
    ApiJson(body): ApiJson<ForkBody>,
) -> Result<(StatusCode, Json<Forked>), ApiError> {
    caller.require(Scope::Operator)?;
    let actor = caller.fingerprint;
    let run = st.engine.fork(&id, body.from_version, &actor, Some(&actor), Some(rid.0)).await?;
    Ok((
        StatusCode::CREATED,
        Json(Forked {
            run_id: run.run_id.to_string(),
            status: run.status.to_string(),
            current_step: run.step.to_string(),
            forked_from: ForkedFrom { run_id: id.to_string(), version: body.from_version },
        }),
    ))
}

/// `GET /v1/runs/{id}/history`: every checkpoint (version, step, status, time, error).
#[utoipa::path(get, path = "/v1/runs/{id}/history", tag = "runs", security(("api_key" = [])),
    params(("id" = String, Path, description = "run id")),
    responses((status = 200, body = History), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn history(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
) -> Result<Json<History>, ApiError> {
    let entries = st.engine.history_for(&id, &caller.viewer()).await?;
    let checkpoints = entries
        .iter()
        .map(|c| CheckpointView {
            version: c.version,
            step: c.step.to_string(),
            status: c.status.to_string(),
            at: c.at.rfc3339(),
            error: c.error.clone(),
        })
        .collect();
    Ok(Json(History { run_id: id.to_string(), checkpoints }))
}
