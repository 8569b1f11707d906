//! Gemini-style Veo endpoints (ai.google.dev/gemini-api/docs/video): `predictLongRunning`
//! answers an operation, polled until `done`; its video is downloaded with the API key, which
//! answers a redirect to storage on another host name — a client that sends its key there is
//! caught (`credential_leaks`). No callback: polling is how it ends. No idempotency key.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::clips::{self, Clip};
use super::{AppState, Job, Shared, new_id};

fn authorized(h: &HeaderMap) -> bool {
    h.get("x-goog-api-key").and_then(|v| v.to_str().ok()).is_some_and(|v| !v.is_empty())
}

fn error(status: StatusCode, message: &str) -> Response {
    let name = match status {
        StatusCode::NOT_FOUND => "NOT_FOUND",
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => "PERMISSION_DENIED",
        _ => "INVALID_ARGUMENT",
    };
    (
        status,
        Json(json!({ "error": { "code": status.as_u16(), "message": message, "status": name } })),
    )
        .into_response()
}

/// `POST /v1beta/models/{model}:predictLongRunning` (the path segment holds the colon).
pub(super) async fn predict(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(model_action): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::FORBIDDEN, "Method doesn't allow unregistered callers.");
    }
    let Some(model) = model_action.strip_suffix(":predictLongRunning") else {
        return error(StatusCode::NOT_FOUND, "unknown method");
    };
    if body["instances"][0]["prompt"].as_str().is_none_or(str::is_empty) {
        return error(StatusCode::BAD_REQUEST, "instances[0].prompt is required");
    }
    s.bump(|st| st.video_submissions += 1);
    let delay = s.callback_delay();
    let id = new_id("op").replace('_', "");
    let job = Job {
        failure: s.config.read().unwrap().video_failure.clone(),
        run_id: Some(model.to_owned()),
        ready_at: Shared::now_ms() + delay.as_millis() as i64,
        callback: None,
        clip: Clip::new(
            &body["instances"][0]["prompt"],
            &body["parameters"]["durationSeconds"],
            clips::created(&s.jobs.lock().unwrap()),
        ),
    };
    s.jobs.lock().unwrap().operations.insert(id.clone(), job);
    s.bump(|st| st.video_jobs += 1);
    Json(json!({ "name": format!("models/{model}/operations/{id}") })).into_response()
}

/// `GET /v1beta/models/{model}/operations/{id}`.
pub(super) async fn operation(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((model, id)): Path<(String, String)>,
) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::FORBIDDEN, "Method doesn't allow unregistered callers.");
    }
    let forgotten = s.video_status_asked();
    let Some(job) = s.jobs.lock().unwrap().operations.get(&id).cloned().filter(|_| !forgotten)
    else {
        return error(StatusCode::NOT_FOUND, &format!("Operation {id} not found"));
    };
    let name = format!("models/{model}/operations/{id}");
    if !job.done(Shared::now_ms()) {
        return Json(json!({ "name": name, "metadata": {} })).into_response();
    }
    match job.failure {
        Some(f) => Json(json!({ "name": name, "done": true, "error": { "code": 3, "message": f } }))
            .into_response(),
        None => Json(json!({
            "name": name,
            "done": true,
            "response": {
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
                "generateVideoResponse": { "generatedSamples": [
                    { "video": { "uri": format!("{}/v1beta/files/{id}:download?alt=media", s.base_url) } }
                ] }
            }
        }))
        .into_response(),
    }
}

/// `GET /v1beta/files/{id}:download`: with the key, a redirect to storage on another host.
pub(super) async fn download(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::FORBIDDEN, "Method doesn't allow unregistered callers.");
    }
    let id = file.trim_end_matches(":download").to_owned();
    if !s.jobs.lock().unwrap().operations.contains_key(&id) {
        return error(StatusCode::NOT_FOUND, "File not found");
    }
    let storage = s.base_url.replacen("127.0.0.1", "localhost", 1);
    (StatusCode::FOUND, [("location", format!("{storage}/gemini/blob/{id}.mp4"))]).into_response()
}

/// `GET /gemini/blob/{id}.mp4`: the storage side; the API key must never arrive here.
pub(super) async fn blob(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    if headers.contains_key("x-goog-api-key") {
        s.bump(|st| st.credential_leaks += 1);
    }
    let id = file.trim_end_matches(".mp4");
    let job = s.jobs.lock().unwrap().operations.get(id).cloned();
    match job {
        Some(j) if j.done(Shared::now_ms()) && j.failure.is_none() => {
            clips::video_file(&s, id, &j).await
        }
        _ => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
