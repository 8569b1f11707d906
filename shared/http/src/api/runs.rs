//! Start, get and list runs.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use myloware::domain::{IdempotencyKey, ProjectName, RunStatus};
use myloware::engine::StartRequest;
use myloware::ports::ListQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::RunIdPath;
use super::views::{ErrorBody, RunList, RunSummary, RunView, Started};
use crate::extract::ApiJson;
use crate::request_id::RequestId;
use crate::{ApiError, AppState, Caller};

/// What a run starts from.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    /// The project (`demo` when absent).
    #[serde(alias = "workflow")]
    pub project: Option<String>,
    /// The brief (1 to 10,000 characters).
    pub brief: String,
    /// Clips to make (the project's count when absent).
    pub clips: Option<u32>,
}

fn bad(code: &str, detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, detail)
}

/// Start a run.
#[utoipa::path(post, path = "/v1/runs", tag = "runs", security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key and request returns the same run")),
    request_body = StartBody,
    responses(
        (status = 201, body = Started),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody),
    ))]
pub async fn start(
    State(st): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    rid: RequestId,
    ApiJson(body): ApiJson<StartBody>,
) -> Result<impl IntoResponse, ApiError> {
    // The key was checked first (the auth layer); the rate limit, safety and budget follow
    // inside start_run, after the request was validated (bad input writes nothing, not even a
    // rate-limit count).
    // The light project by default: a twelve-clip aismr run is asked for by name.
    let project = ProjectName::parse(body.project.as_deref().unwrap_or("demo"))
        .map_err(|e| bad("invalid_project", e.to_string()))?;
    let idempotency_key = headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str().map_err(|_| bad("invalid_idempotency_key", "not ASCII")).and_then(|s| {
                IdempotencyKey::parse(s).map_err(|e| bad("invalid_idempotency_key", e.to_string()))
            })
        })
        .transpose()?;
    let out = st
        .engine
        .start_run(StartRequest {
            project,
            brief: body.brief,
            clips: body.clips,
            idempotency_key,
            request_id: Some(rid.0),
            caller: Some(caller.fingerprint.clone()),
            owner: Some(caller.principal),
        })
        .await?;
    let mut resp = (
        StatusCode::CREATED,
        Json(Started { run_id: out.run.run_id.to_string(), status: out.run.status.to_string() }),
    )
        .into_response();
    if out.replayed {
        resp.headers_mut().insert("idempotent-replayed", "true".parse().expect("static"));
    }
    Ok(resp)
}

/// A run: status, step, open wait, artifacts (presigned URLs), decisions, error.
#[utoipa::path(get, path = "/v1/runs/{id}", tag = "runs", security(("api_key" = [])),
    params(("id" = String, Path, description = "run id")),
    responses((status = 200, body = RunView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
) -> Result<Json<RunView>, ApiError> {
    let run = st.engine.get_for(&id, &caller.viewer()).await?;
    Ok(Json(RunView::build(&st.engine, run).await?))
}

/// A page of runs.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only runs with this status.
    status: Option<String>,
    /// Page size, 1 to 100 (20).
    limit: Option<u32>,
    /// The cursor of the previous page.
    cursor: Option<String>,
}

/// Runs the key may see, newest first.
#[utoipa::path(get, path = "/v1/runs", tag = "runs", security(("api_key" = [])), params(ListParams),
    responses((status = 200, body = RunList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> Result<Json<RunList>, ApiError> {
    let status = p
        .status
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<RunStatus>().map_err(|e| bad("invalid_status", e)))
        .transpose()?;
    let viewer = caller.viewer();
    let owner = (!viewer.all).then_some(viewer.principal);
    let limit = p.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(bad("invalid_limit", "limit must be 1..=100"));
    }
    let page = st.engine.list_runs(&ListQuery { status, owner, limit, cursor: p.cursor }).await?;
    let runs: Vec<RunSummary> = page.runs.iter().map(RunSummary::from).collect();
    Ok(Json(RunList { runs, next_cursor: page.next_cursor }))
}
