//! `GET /v1/runs/{id}/events`: a run as it happens, as Server-Sent Events. `checkpoint` for
//! each version written (step, status, time, error), `clips` while it waits for its videos
//! (how many arrived of how many), `gate` when it waits for a person, and `end` with the final
//! status, after which the stream closes. The run is read every `poll_ms` (500; 100 to 5000):
//! any backend, any process that writes it. Served by `serve`; API Gateway buffers a Lambda's
//! answer, so on AWS the stream is read from `serve` or polled through `GET /v1/runs/{id}`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use myloware::domain::{Gate, RunId, RunRecord, Step, WaitKind};
use myloware::engine::Engine;
use serde::Deserialize;
use serde_json::json;

use super::parse_run_id;
use crate::{ApiError, AppState, Caller};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsParams {
    poll_ms: Option<u64>,
}

/// What the stream has told so far.
struct Watch {
    engine: Engine,
    id: RunId,
    poll: Duration,
    version: u64,
    clips: Option<(usize, usize)>,
    queued: VecDeque<Event>,
    ended: bool,
}

fn event(name: &str, data: serde_json::Value) -> Event {
    Event::default().event(name).data(data.to_string())
}

impl Watch {
    /// Read the run; queue what changed since the last look.
    async fn look(&mut self) -> Result<(), String> {
        let run = self.engine.get(&self.id).await.map_err(|e| e.to_string())?;
        if run.version > self.version {
            let history = self.engine.store.history(&self.id).await.map_err(|e| e.to_string())?;
            let mut previous_step = None;
            for c in history.iter() {
                if c.version > self.version {
                    self.queued.push_back(event(
                        "checkpoint",
                        json!({
                            "version": c.version, "step": c.step, "status": c.status,
                            "at": c.at.rfc3339(), "error": c.error,
                        }),
                    ));
                    // Told from the history, so a gate passed between two looks is told too.
                    if let Some(gate) = [Gate::Ideation, Gate::Publish]
                        .into_iter()
                        .find(|g| g.waiting_status() == c.status)
                    {
                        self.queued
                            .push_back(event("gate", json!({ "gate": gate, "status": c.status })));
                    }
                    // Leaving the clip wait: every clip arrived, however fast it went.
                    let all = (run.clip_count as usize, run.clip_count as usize);
                    if previous_step == Some(Step::WaitForVideos)
                        && c.step != Step::WaitForVideos
                        && self.clips != Some(all)
                    {
                        self.queued
                            .push_back(event("clips", json!({ "arrived": all.0, "of": all.1 })));
                        self.clips = Some(all);
                    }
                }
                previous_step = Some(c.step);
            }
            self.version = run.version;
        }
        let clips = self.clips_arrived(&run).await?;
        if let Some((arrived, of)) = clips
            && clips != self.clips
        {
            self.queued.push_back(event("clips", json!({ "arrived": arrived, "of": of })));
            self.clips = clips;
        }
        if run.status.is_terminal() {
            self.queued
                .push_back(event("end", json!({ "status": run.status, "error": run.error })));
            self.ended = true;
        }
        Ok(())
    }

    /// While the run waits for its clips: how many of them arrived.
    async fn clips_arrived(&self, run: &RunRecord) -> Result<Option<(usize, usize)>, String> {
        let Some(wait) = run.open_wait.as_ref().filter(|w| w.kind == WaitKind::Videos) else {
            return Ok(None);
        };
        let Some(provider) = wait.provider else { return Ok(None) };
        let jobs: Vec<_> = wait.jobs.iter().map(|j| j.job_id.clone()).collect();
        let found =
            self.engine.store.correlations(provider, &jobs).await.map_err(|e| e.to_string())?;
        let arrived = found.iter().filter(|c| c.arrival.is_some()).count();
        Ok(Some((arrived, jobs.len())))
    }
}

/// `GET /v1/runs/{id}/events?poll_ms=`.
pub async fn events(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(p): Query<EventsParams>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let id = parse_run_id(&id)?;
    let poll = p.poll_ms.unwrap_or(500);
    if !(100..=5000).contains(&poll) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_poll",
            "poll_ms must be 100..=5000",
        ));
    }
    st.engine.get_for(&id, &caller.viewer()).await?;
    let watch = Watch {
        engine: st.engine.clone(),
        id,
        poll: Duration::from_millis(poll),
        version: 0,
        clips: None,
        queued: VecDeque::new(),
        ended: false,
    };
    let stream = futures_util::stream::unfold(watch, |mut w| async move {
        loop {
            if let Some(e) = w.queued.pop_front() {
                return Some((Ok(e), w));
            }
            if w.ended {
                return None;
            }
            match w.look().await {
                // Nothing new: look again after a while.
                Ok(()) if w.queued.is_empty() => tokio::time::sleep(w.poll).await,
                Ok(()) => {}
                // A store hiccup: say so, and look again after a while.
                Err(why) => {
                    // The detail stays in the log (it may be a store's own words).
                    tracing::warn!(run_id = %w.id, error = %why, "events: the run could not be read");
                    let said = json!({ "error": "the run could not be read; trying again" });
                    w.queued.push_back(event("error", said));
                    tokio::time::sleep(w.poll).await;
                }
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
