//! Approve / reject a gate: `{"gate": "ideation"|"publish", "comment"?, "ideas"?}`; 409 when the
//! run is not waiting at that gate. An approval of the ideation gate may carry `ideas`, the
//! reviewer's edit (same shape as the run's `ideas`): 422 `invalid_ideas` when it breaks the
//! project's schema, and then nothing is written or paid. Every decision is audited on the run.

use axum::Json;
use axum::extract::State;
use myloware::domain::{Decision, Gate};
use serde::Deserialize;

use super::RunIdPath;
use crate::extract::ApiJson;
use crate::request_id::RequestId;
use crate::{ApiError, AppState, Caller, Scope};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateBody {
    gate: Gate,
    comment: Option<String>,
    /// The reviewer's edit of the ideas (ideation approvals only).
    #[serde(default)]
    ideas: Option<serde_json::Value>,
}

async fn decide(
    st: AppState,
    caller: Caller,
    id: myloware::RunId,
    rid: RequestId,
    body: GateBody,
    decision: Decision,
) -> Result<Json<serde_json::Value>, ApiError> {
    st.engine.get_for(&id, &caller.viewer()).await?;
    let actor = caller.fingerprint;
    if body.comment.as_ref().is_some_and(|c| c.chars().count() > 2000) {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid_comment",
            "comment is longer than 2000 characters",
        ));
    }
    let out = match body.ideas {
        None => {
            st.engine.decide(&id, body.gate, decision, body.comment, &actor, Some(rid.0)).await?
        }
        Some(ideas) if decision == Decision::Approve && body.gate == Gate::Ideation => {
            st.engine.approve_with_ideas(&id, &ideas, body.comment, &actor, Some(rid.0)).await?
        }
        Some(_) => {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "invalid_request",
                "ideas may only come with an approval of the ideation gate",
            ));
        }
    };
    Ok(Json(serde_json::json!({
        "run_id": out.run.run_id,
        "status": out.run.status,
        "current_step": out.run.step,
        "gate": body.gate,
        "decision": decision,
        "replayed": out.replayed,
    })))
}

pub async fn approve(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
    rid: RequestId,
    ApiJson(body): ApiJson<GateBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    decide(st, caller, id, rid, body, Decision::Approve).await
}

pub async fn reject(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
    rid: RequestId,
    ApiJson(body): ApiJson<GateBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    decide(st, caller, id, rid, body, Decision::Reject).await
}

/// `POST /v1/runs/{id}/resume` (operator scope): a failed or stalled run continues from its
/// failed step.
pub async fn resume(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
    rid: RequestId,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Scope::Operator)?;
    let actor = caller.fingerprint;
    let run = st.engine.resume(&id, &actor, Some(rid.0)).await?;
    Ok(Json(
        serde_json::json!({ "run_id": run.run_id, "status": run.status, "current_step": run.step }),
    ))
}
