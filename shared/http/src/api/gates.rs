//! Approve / reject a gate: `{"gate": "ideation"|"publish", "comment"?, "ideas"?}`; 409 when the
//! run is not waiting at that gate. An approval of the ideation gate may carry `ideas`, the
//! reviewer's edit (same shape as the run's `ideas`): 422 `invalid_ideas` when it breaks the
//! project's schema, and then nothing is written or paid. Every decision is audited on the run.

use axum::Json;
use axum::extract::State;
use myloware::domain::{Decision, Gate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::RunIdPath;
use super::views::{Decided, ErrorBody, RunState};
use crate::extract::ApiJson;
use crate::request_id::RequestId;
use crate::{ApiError, AppState, Caller, Scope};

/// A decision at a gate.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GateBody {
    /// `ideation` or `publish`.
    #[schema(value_type = String, example = "ideation")]
    pub gate: Gate,
    /// Why (at most 2,000 characters).
    pub comment: Option<String>,
    /// The reviewer's edit of the ideas (`{title, prompts, overlays?, caption}`; ideation
    /// approvals only).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub ideas: Option<serde_json::Value>,
}

async fn decide(
    st: AppState,
    caller: Caller,
    id: myloware::RunId,
    rid: RequestId,
    body: GateBody,
    decision: Decision,
) -> Result<Json<Decided>, ApiError> {
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
    Ok(Json(Decided {
        run_id: out.run.run_id.to_string(),
        status: out.run.status.to_string(),
        current_step: out.run.step.to_string(),
        gate: body.gate.as_str().to_owned(),
        decision: decision.as_str().to_owned(),
        replayed: out.replayed,
    }))
}

/// Approve a gate (at the ideation gate, optionally with edited ideas).
#[utoipa::path(post, path = "/v1/runs/{id}/approve", tag = "gates", security(("api_key" = [])),
    params(("id" = String, Path, description = "run id")), request_body = GateBody,
    responses((status = 200, body = Decided), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn approve(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
    rid: RequestId,
    ApiJson(body): ApiJson<GateBody>,
) -> Result<Json<Decided>, ApiError> {
    decide(st, caller, id, rid, body, Decision::Approve).await
}

/// Reject a gate: the run ends `rejected`.
#[utoipa::path(post, path = "/v1/runs/{id}/reject", tag = "gates", security(("api_key" = [])),
    params(("id" = String, Path, description = "run id")), request_body = GateBody,
    responses((status = 200, body = Decided), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn reject(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
    rid: RequestId,
    ApiJson(body): ApiJson<GateBody>,
) -> Result<Json<Decided>, ApiError> {
    decide(st, caller, id, rid, body, Decision::Reject).await
}

/// `POST /v1/runs/{id}/resume` (operator scope): a failed or stalled run continues from its
/// failed step.
#[utoipa::path(post, path = "/v1/runs/{id}/resume", tag = "operations", security(("api_key" = [])),
    params(("id" = String, Path, description = "run id")),
    responses((status = 200, body = RunState), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resume(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
    rid: RequestId,
) -> Result<Json<RunState>, ApiError> {
    caller.require(Scope::Operator)?;
    let actor = caller.fingerprint;
    let run = st.engine.resume(&id, &actor, Some(rid.0)).await?;
    Ok(Json(RunState::of(&run)))
}
