//! Looking at runs: the list (waiting at a gate first), a run's page, its media (clips and the
//! final cut, streamed from the store or redirected to a presigned URL), and its live updates.
//! Another principal's run is 404, as in the API.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use myloware::RunId;
use myloware::domain::{RunRecord, RunStatus};
use myloware::ports::ListQuery;
use myloware_http::{ApiError, Scope};
use serde::Deserialize;

use crate::Console;
use crate::respond::{ConsoleError, SignedIn, page, see_other};
use crate::session::Session;
use crate::views::{Flash, IdeasView, Nav, RunPage, RunRow, RunView, RunsPage};

/// `GET /console`.
pub(crate) async fn home() -> Response {
    see_other("/console/runs")
}

#[derive(Deserialize)]
pub(crate) struct ListParams {
    status: Option<String>,
}

/// The run `id` as `session` may see it: 404 otherwise (an unknown id or another's run).
pub(crate) async fn visible(
    st: &Console,
    session: &Session,
    id: &str,
) -> Result<RunRecord, ConsoleError> {
    let id: RunId = id.parse().map_err(|_| {
        ConsoleError::Api(ApiError::new(StatusCode::NOT_FOUND, "run_not_found", "no such run"))
    })?;
    Ok(st.app.engine.get_for(&id, &session.caller.viewer()).await?)
}

/// `GET /console/runs?status=`: the runs waiting for a person first, then the latest.
pub(crate) async fn list(
    State(st): State<Console>,
    SignedIn(session): SignedIn,
    Query(p): Query<ListParams>,
) -> Result<Response, ConsoleError> {
    let viewer = session.caller.viewer();
    let owner = (!viewer.all).then_some(viewer.principal);
    let filter = p.status.filter(|s| !s.is_empty());
    let wanted: Vec<Option<RunStatus>> = match &filter {
        Some(s) => {
            let status = s.parse::<RunStatus>().map_err(|e| {
                ConsoleError::Api(ApiError::new(StatusCode::BAD_REQUEST, "invalid_status", e))
            })?;
            vec![Some(status)]
        }
        None => vec![
            Some(RunStatus::AwaitingIdeationApproval),
            Some(RunStatus::AwaitingPublishApproval),
            None,
        ],
    };
    let now = st.app.engine.clock.now();
    let mut rows: Vec<RunRow> = Vec::new();
    for status in wanted {
        let q = ListQuery { status, owner: owner.clone(), limit: 50, cursor: None };
        for r in st.app.engine.list_runs(&q).await?.runs {
            if !rows.iter().any(|row| row.id == r.run_id.to_string()) {
                rows.push(RunRow::of(&r, now));
            }
        }
    }
    let csrf = st.sessions.csrf(&session.sid);
    let t = RunsPage {
        nav: Some(Nav::of(&session, csrf)),
        filter,
        statuses: RunStatus::ALL.iter().map(|s| s.as_str()).collect(),
        rows,
    };
    Ok(page(StatusCode::OK, &t))
}

/// The run page for `run`, with `flash` and the ideas form's values (`None`: the run's).
pub(crate) async fn render_run(
    st: &Console,
    session: &Session,
    run: &RunRecord,
    status: StatusCode,
    flash: Option<Flash>,
    ideas_form: Option<IdeasView>,
) -> Result<Response, ConsoleError> {
    let history = st
        .app
        .engine
        .store
        .history(&run.run_id)
        .await
        .map_err(myloware::engine::EngineError::from)?;
    let notices = st.app.engine.notice_log(&run.run_id).await?;
    let operator = session.caller.scope >= Scope::Operator;
    let now = st.app.engine.clock.now();
    let r = RunView::of(run, &history, &notices, operator, now);
    let ideas_form = ideas_form.or_else(|| run.state.ideas.as_ref().map(IdeasView::of));
    let csrf = st.sessions.csrf(&session.sid);
    let t = RunPage { nav: Some(Nav::of(session, csrf.clone())), r, ideas_form, csrf, flash };
    Ok(page(status, &t))
}

/// `GET /console/runs/{id}`.
pub(crate) async fn page_of(
    State(st): State<Console>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let run = visible(&st, &session, &id).await?;
    render_run(&st, &session, &run, StatusCode::OK, None, None).await
}

/// `GET /console/runs/{id}/version`: `{version, status}` (the live poll's fallback).
pub(crate) async fn version(
    State(st): State<Console>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let run = visible(&st, &session, &id).await?;
    let body = serde_json::json!({ "version": run.version, "status": run.status });
    Ok(axum::Json(body).into_response())
}

/// `GET /console/runs/{id}/events`: the run's event stream, as the API's.
pub(crate) async fn events(
    State(st): State<Console>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let run = visible(&st, &session, &id).await?;
    let poll = Duration::from_millis(500);
    Ok(myloware_http::api::run_events(st.app.engine.clone(), run.run_id, poll).into_response())
}

/// `GET /console/runs/{id}/media/final`.
pub(crate) async fn final_video(
    State(st): State<Console>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let run = visible(&st, &session, &id).await?;
    media(&st, run.state.final_video_key.as_deref()).await
}

/// `GET /console/runs/{id}/media/clip/{index}`.
pub(crate) async fn clip(
    State(st): State<Console>,
    SignedIn(session): SignedIn,
    Path((id, index)): Path<(String, u32)>,
) -> Result<Response, ConsoleError> {
    let run = visible(&st, &session, &id).await?;
    let key = run.state.clips.iter().find(|c| c.index == index).and_then(|c| c.blob_key.as_deref());
    media(&st, key).await
}

/// A stored video: a redirect to its presigned URL where the store gives web addresses (S3),
/// otherwise its bytes (the embedded store's files).
async fn media(st: &Console, key: Option<&str>) -> Result<Response, ConsoleError> {
    let Some(key) = key else {
        let e = ApiError::new(StatusCode::NOT_FOUND, "media_not_found", "no such video (yet)");
        return Err(e.into());
    };
    let engine = &st.app.engine;
    let url = engine
        .blobs
        .presign_get(key, engine.config.presign_ttl)
        .await
        .map_err(myloware::engine::EngineError::from)?;
    if url.starts_with("https://") || url.starts_with("http://") {
        return Ok(see_other(&url));
    }
    let bytes = engine.blobs.get(key).await.map_err(myloware::engine::EngineError::from)?;
    Ok(([(CONTENT_TYPE, "video/mp4")], bytes).into_response())
}
