//! `GET /v1/runs/{id}/events`: a run as it happens, as Server-Sent Events (the engine's
//! [`RunEvent`]s: `checkpoint`, `clips`, `gate`, `end`; the stream closes after `end`). The run
//! is read every `poll_ms` (500; 100 to 5000). Served by `serve`; API Gateway buffers a
//! Lambda's answer, so on AWS the stream is read from `serve` or polled through
//! `GET /v1/runs/{id}`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use myloware::engine::{Engine, RunEvent, RunWatch};
use serde::Deserialize;
use serde_json::json;

use super::RunIdPath;
use super::views::ErrorBody;
use crate::{ApiError, AppState, Caller};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsParams {
    poll_ms: Option<u64>,
}

fn sse(e: &RunEvent) -> Event {
    let mut data = serde_json::to_value(e).unwrap_or_default();
    if let Some(m) = data.as_object_mut() {
        m.remove("event");
    }
    Event::default().event(e.name()).data(data.to_string())
}

/// `GET /v1/runs/{id}/events?poll_ms=`.
#[utoipa::path(get, path = "/v1/runs/{id}/events", tag = "runs", security(("api_key" = [])),
    params(("id" = String, Path, description = "run id"),
        ("poll_ms" = Option<u64>, Query, description = "how often the run is read, 100 to 5000 (500)")),
    responses((status = 200, content_type = "text/event-stream", body = String,
            description = "events checkpoint, clips, gate, end (then the stream closes)"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn events(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
    Query(p): Query<EventsParams>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let poll = p.poll_ms.unwrap_or(500);
    if !(100..=5000).contains(&poll) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_poll",
            "poll_ms must be 100..=5000",
        ));
    }
    st.engine.get_for(&id, &caller.viewer()).await?;
    Ok(run_events(st.engine.clone(), id, Duration::from_millis(poll)))
}

/// The SSE stream of run `id`'s events, read every `poll` (the caller checked the viewer may see
/// the run). Shared with the review console's live updates.
pub fn run_events(
    engine: Engine,
    id: myloware::RunId,
    poll: Duration,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let state = (engine, RunWatch::new(id), VecDeque::new(), poll);
    let stream = futures_util::stream::unfold(
        state,
        move |(engine, mut w, mut queued, poll): (Engine, RunWatch, VecDeque<Event>, Duration)| async move {
            loop {
                if let Some(e) = queued.pop_front() {
                    return Some((Ok(e), (engine, w, queued, poll)));
                }
                if w.ended() {
                    return None;
                }
                match engine.watch(&mut w).await {
                    Ok(events) if events.is_empty() => tokio::time::sleep(poll).await,
                    Ok(events) => queued.extend(events.iter().map(sse)),
                    // A store hiccup: the detail stays in the log (it may be the store's own words).
                    Err(e) => {
                        tracing::warn!(run_id = %id, error = %e, "events: the run could not be read");
                        let said = json!({ "error": "the run could not be read; trying again" });
                        queued.push_back(Event::default().event("error").data(said.to_string()));
                        tokio::time::sleep(poll).await;
                    }
                }
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}
