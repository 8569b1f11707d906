//! Start, get and list runs.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use myloware::domain::{IdempotencyKey, ProjectName, RunStatus};
use myloware::engine::StartRequest;
use myloware::ports::ListQuery;
use serde::Deserialize;

use super::RunIdPath;
use super::views::{RunSummary, RunView};
use crate::extract::ApiJson;
use crate::request_id::RequestId;
use crate::{ApiError, AppState, Caller};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    #[serde(alias = "workflow")]
    project: Option<String>,
    brief: String,
    clips: Option<u32>,
}

fn bad(code: &str, detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, detail)
}

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
        Json(serde_json::json!({ "run_id": out.run.run_id, "status": out.run.status })),
    )
        .into_response();
    if out.replayed {
        resp.headers_mut().insert("idempotent-replayed", "true".parse().expect("static"));
    }
    Ok(resp)
}

pub async fn get(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
) -> Result<Json<RunView>, ApiError> {
    let run = st.engine.get_for(&id, &caller.viewer()).await?;
    Ok(Json(RunView::build(&st.engine, run).await?))
}

#[derive(Deserialize)]
pub struct ListParams {
    status: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
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
    Ok(Json(serde_json::json!({ "runs": runs, "next_cursor": page.next_cursor })))
}
