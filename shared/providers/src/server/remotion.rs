//! Remotion-style endpoints: submit a render with a callback URL, status, output.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use myloware::fakes::deliveries::remotion_delivery;
use serde_json::{Value, json};

use super::{AppState, Job, callbacks, new_id};

/// `POST /api/render` → 202 `{job_id, status}`; calls back `callback_url` when done.
pub(super) async fn render(
    State(s): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<Value>,
) -> Response {
    let Some(callback_url) = req["callback_url"].as_str().map(str::to_owned) else {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": "callback_url is required" })))
            .into_response();
    };
    if !(callback_url.starts_with("http://") || callback_url.starts_with("https://")) {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": "callback_url must be http(s)" })))
            .into_response();
    }
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let run_id = req["run_id"].as_str().map(str::to_owned);
    let (id, fresh) = {
        let mut jobs = s.jobs.lock().unwrap();
        match key.as_ref().and_then(|k| jobs.render_keys.get(k)).cloned() {
            Some(id) => (id, false),
            None => {
                let id = new_id("render");
                let job = Job { status: "queued", failure: None, run_id: run_id.clone() };
                jobs.renders.insert(id.clone(), job);
                if let Some(k) = key {
                    jobs.render_keys.insert(k, id.clone());
                }
                (id, true)
            }
        }
    };
    if fresh {
        s.bump(|st| st.render_jobs += 1);
        let failure = s.config.read().unwrap().render_failure.clone();
        {
            let mut jobs = s.jobs.lock().unwrap();
            let j = jobs.renders.get_mut(&id).expect("just inserted");
            j.status = if failure.is_some() { "error" } else { "done" };
            j.failure = failure.clone();
        }
        let (secret, output) =
            (s.remotion_secret.clone(), format!("{}/output/{id}.mp4", s.base_url));
        let path = callback_url.clone();
        let job = id.clone();
        if !s.config.read().unwrap().drop_callbacks {
            callbacks::schedule(s.clone(), callback_url, s.callback_delay(), move || {
                let outcome = match &failure {
                    Some(f) => Err(f.as_str()),
                    None => Ok(output.clone()),
                };
                remotion_delivery(&secret, path.clone(), &job, run_id.clone(), outcome)
            });
        }
    }
    (StatusCode::ACCEPTED, Json(json!({ "job_id": id, "status": "queued" }))).into_response()
}

/// `GET /api/render/{id}`.
pub(super) async fn status(State(s): State<AppState>, Path(id): Path<String>) -> Response {
    match s.jobs.lock().unwrap().renders.get(&id) {
        Some(j) => Json(json!({
            "job_id": id, "status": j.status, "error": j.failure, "run_id": j.run_id,
            "output_url": (j.status == "done").then(|| format!("{}/output/{id}.mp4", s.base_url)),
        }))
        .into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({ "error": "no such render" }))).into_response(),
    }
}

/// `GET /output/{job}.mp4`.
pub(super) async fn output(State(s): State<AppState>, Path(file): Path<String>) -> Response {
    let id = file.trim_end_matches(".mp4");
    match s.jobs.lock().unwrap().renders.get(id) {
        Some(j) if j.status == "done" => {
            ([("content-type", "video/mp4")], crate::SAMPLE_MP4).into_response()
        }
        _ => (StatusCode::NOT_FOUND, Json(json!({ "error": "no such output" }))).into_response(),
    }
}
