//! Operator actions on a run: cancel, fork from a checkpoint, history. Each action is audited
//! on the run with the caller's key fingerprint.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::RunIdPath;
use crate::extract::{ApiJson, OptionalJson};
use crate::request_id::RequestId;
use crate::{ApiError, AppState, Caller, Scope};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    reason: Option<String>,
}

/// `POST /v1/runs/{id}/cancel` `{"reason"?}`: in-flight messages and late callbacks are then
/// ignored.
pub async fn cancel(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
    rid: RequestId,
    OptionalJson(body): OptionalJson<CancelBody>,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(json!({ "run_id": run.run_id, "status": run.status, "current_step": run.step })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForkBody {
    from_version: u64,
}

/// `POST /v1/runs/{id}/fork` `{"from_version": V}` (operator scope): 201 with the new run. A
/// fork is a new run: it passes the caller's rate limit, the 24-hour cap and the budget, and
/// waits at the last gate its source had passed before that checkpoint.
pub async fn fork(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
    rid: RequestId,
    ApiJson(body): ApiJson<ForkBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Scope::Operator)?;
    let actor = caller.fingerprint;
    let run = st.engine.fork(&id, body.from_version, &actor, Some(&actor), Some(rid.0)).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "run_id": run.run_id, "status": run.status, "current_step": run.step,
            "forked_from": { "run_id": id, "version": body.from_version },
        })),
    ))
}

/// `GET /v1/runs/{id}/history`: every checkpoint (version, step, status, time, error).
pub async fn history(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
) -> Result<Json<Value>, ApiError> {
    let entries = st.engine.history_for(&id, &caller.viewer()).await?;
    let checkpoints: Vec<Value> = entries
        .iter()
        .map(|c| {
            json!({
                "version": c.version, "step": c.step, "status": c.status,
                "at": c.at.rfc3339(), "error": c.error,
            })
        })
        .collect();
    Ok(Json(json!({ "run_id": id, "checkpoints": checkpoints })))
}
