//! Callback delivery with retries: a provider retries an undelivered callback with backoff
//! (signing each attempt afresh), so a receiver that was down when the job finished still gets
//! it. A job's callback stays pending (in the state file too) until it was delivered, so a
//! restarted server delivers what its previous life had not.

use std::time::Duration;

use myloware::fakes::deliveries::{openai_video_delivery, remotion_delivery, replicate_delivery};
use myloware::ports::Delivery;
use myloware::time::{Clock, SystemClock};

use super::{AppState, Shared};

const MAX_ATTEMPTS: u32 = 90;

/// Which job a callback is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Video,
    Render,
    Prediction,
}

/// Deliver the callback of job `id` once it is done (retrying until it lands), then mark it
/// delivered.
pub(super) fn schedule(state: AppState, kind: Kind, id: String) {
    tokio::spawn(async move {
        let Some((url, ready_at)) = pending(&state, kind, &id) else { return };
        let wait = ready_at - Shared::now_ms();
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        }
        let times = if state.config.read().unwrap().duplicate { 2 } else { 1 };
        for _ in 0..times {
            if !deliver(&state, &url, || build(&state, kind, &id)).await {
                return;
            }
        }
        {
            let mut jobs = state.jobs.lock().unwrap();
            let job = match kind {
                Kind::Video => jobs.videos.get_mut(&id),
                Kind::Render => jobs.renders.get_mut(&id),
                Kind::Prediction => jobs.predictions.get_mut(&id),
            };
            if let Some(j) = job {
                j.callback = None;
            }
        }
        state.persist();
    });
}

/// Schedule every callback a previous life of the server left pending.
pub(super) fn resume_pending(state: &AppState) {
    let pending: Vec<(Kind, String)> = {
        let jobs = state.jobs.lock().unwrap();
        let videos = jobs.videos.iter().map(|(id, j)| (Kind::Video, id, j));
        let renders = jobs.renders.iter().map(|(id, j)| (Kind::Render, id, j));
        videos
            .chain(renders)
            .filter(|(_, _, j)| j.callback.is_some())
            .map(|(k, id, _)| (k, id.clone()))
            .collect()
    };
    if !pending.is_empty() {
        tracing::info!(
            pending = pending.len(),
            "delivering callbacks pending from before a restart"
        );
    }
    for (kind, id) in pending {
        schedule(state.clone(), kind, id);
    }
}

fn pending(state: &Shared, kind: Kind, id: &str) -> Option<(String, i64)> {
    let jobs = state.jobs.lock().unwrap();
    let job = match kind {
        Kind::Video => jobs.videos.get(id),
        Kind::Render => jobs.renders.get(id),
        Kind::Prediction => jobs.predictions.get(id),
    }?;
    Some((job.callback.clone()?, job.ready_at))
}

/// The signed callback of job `id` as the provider sends it now.
fn build(state: &Shared, kind: Kind, id: &str) -> Delivery {
    let now = SystemClock.now().secs();
    match kind {
        Kind::Video => {
            let failure = state.jobs.lock().unwrap().videos.get(id).and_then(|j| j.failure.clone());
            openai_video_delivery(&state.secrets.openai, id, failure.as_deref(), now)
        }
        Kind::Render => {
            let (failure, run_id, url) = {
                let jobs = state.jobs.lock().unwrap();
                let j = jobs.renders.get(id);
                (
                    j.and_then(|j| j.failure.clone()),
                    j.and_then(|j| j.run_id.clone()),
                    j.and_then(|j| j.callback.clone()).unwrap_or_default(),
                )
            };
            let output = format!("{}/output/{id}.mp4", state.base_url);
            let outcome = match &failure {
                Some(f) => Err(f.as_str()),
                None => Ok(output),
            };
            remotion_delivery(&state.secrets.remotion, url, id, run_id, outcome)
        }
        Kind::Prediction => {
            let (prediction, url) = {
                let jobs = state.jobs.lock().unwrap();
                let j = jobs.predictions.get(id).expect("a scheduled prediction exists");
                (
                    super::replicate::prediction_json(state, id, j),
                    j.callback.clone().unwrap_or_default(),
                )
            };
            replicate_delivery(&state.secrets.replicate, url, &prediction, now)
        }
    }
}

/// Deliver until a 2xx answer (false: given up).
async fn deliver(state: &Shared, url: &str, build: impl Fn() -> Delivery) -> bool {
    for attempt in 0..MAX_ATTEMPTS {
        let d = build();
        let mut req = state.http.post(url).body(d.body);
        for (k, v) in &d.headers {
            req = req.header(k, v);
        }
        match req.send().await {
            Ok(r) if r.status().is_success() => {
                state.bump(|s| s.callbacks_delivered += 1);
                return true;
            }
            Ok(r) => {
                tracing::info!(url, status = %r.status(), attempt, "callback refused; will retry")
            }
            Err(e) => {
                tracing::info!(url, error = %e, attempt, "callback not delivered; will retry")
            }
        }
        state.bump(|s| s.callback_attempts_failed += 1);
        let backoff = Duration::from_millis((100u64 << attempt.min(5)).min(2_000));
        tokio::time::sleep(backoff).await;
    }
    tracing::warn!(url, "callback given up after {MAX_ATTEMPTS} attempts");
    false
}
