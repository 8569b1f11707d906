//! Replicate-style endpoints (replicate.com/docs/topics/predictions): create a prediction for a
//! model (or a version) with a per-request webhook, read it back, the account's webhook secret,
//! and the output files, served from another host name than the API (as replicate.delivery is)
//! so a client that sends its token there is caught (`credential_leaks`). Replicate takes no
//! idempotency key: every create starts (and bills) a new prediction.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::callbacks::{self, Kind};
use super::clips::{self, Clip};
use super::{AppState, Job, Shared, new_id};

fn authorized(h: &HeaderMap) -> bool {
    h.get("authorization").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("Bearer "))
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({ "title": "Unauthenticated", "detail": "You did not pass a valid authentication token", "status": 401 }))).into_response()
}

/// The prediction object as Replicate answers it (and posts it to the webhook).
pub(super) fn prediction_json(s: &Shared, id: &str, job: &Job) -> Value {
    let done = job.done(Shared::now_ms());
    let (status, output, error) = match (done, &job.failure) {
        (false, _) => ("processing", Value::Null, Value::Null),
        (true, Some(f)) => ("failed", Value::Null, json!(f)),
        (true, None) => ("succeeded", json!(files_url(s, id)), Value::Null),
    };
    json!({
        "id": id,
        "model": job.run_id.clone().unwrap_or_else(|| "google/veo-3.1-fast".into()),
        "version": "dfb0de7b7a1e1a3f1c3e0a5b2d8f6e4c9a7b5d3e1f0c2a4b6d8e0f1a3c5e7b9d",
        "input": {},
        "output": output,
        "error": error,
        "logs": "",
        "status": status,
        "data_removed": false,
        "created_at": "2026-12-01T00:00:00.000Z",
        "urls": {
            "get": format!("{}/v1/predictions/{id}", s.base_url),
            "cancel": format!("{}/v1/predictions/{id}/cancel", s.base_url),
            "web": format!("https://replicate.com/p/{id}"),
        },
    })
}

/// Output files live on another host name than the API (`localhost` for `127.0.0.1`).
fn files_url(s: &Shared, id: &str) -> String {
    let other_host = s.base_url.replacen("127.0.0.1", "localhost", 1);
    format!("{other_host}/replicate/files/{id}.mp4")
}

fn create(s: &AppState, model: String, body: &Value) -> Response {
    let Some(input) = body.get("input").filter(|i| i.is_object()) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "detail": "input is required", "status": 422 })),
        )
            .into_response();
    };
    if input.get("prompt").and_then(Value::as_str).is_none_or(str::is_empty) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "detail": "input.prompt is required", "status": 422 })),
        )
            .into_response();
    }
    s.bump(|st| st.video_submissions += 1);
    let delay = s.callback_delay();
    let id = new_id("rp").replace('_', "");
    let job = {
        let c = s.config.read().unwrap();
        let completed = body["webhook_events_filter"]
            .as_array()
            .is_none_or(|f| f.iter().any(|e| e == "completed"));
        Job {
            failure: c.video_failure.clone(),
            // The model stands where a run id would (the prediction object names it).
            run_id: Some(model),
            ready_at: Shared::now_ms() + delay.as_millis() as i64,
            callback: body["webhook"]
                .as_str()
                .map(str::to_owned)
                .filter(|_| completed && !c.drop_callbacks),
            clip: Clip::new(
                &input["prompt"],
                &input["duration"],
                clips::created(&s.jobs.lock().unwrap()),
            ),
        }
    };
    s.jobs.lock().unwrap().predictions.insert(id.clone(), job.clone());
    s.bump(|st| st.video_jobs += 1);
    callbacks::schedule(s.clone(), Kind::Prediction, id.clone());
    (StatusCode::CREATED, Json(prediction_json(s, &id, &job))).into_response()
}

/// `POST /v1/models/{owner}/{name}/predictions`.
pub(super) async fn create_for_model(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((owner, name)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    create(&s, format!("{owner}/{name}"), &body)
}

/// `POST /v1/predictions` (with a `version`).
pub(super) async fn create_for_version(
    State(s): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    if body["version"].as_str().is_none_or(str::is_empty) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "detail": "version is required", "status": 422 })),
        )
            .into_response();
    }
    create(&s, "version".into(), &body)
}

/// `GET /v1/predictions/{id}`.
pub(super) async fn get(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    let forgotten = s.video_status_asked();
    let job = s.jobs.lock().unwrap().predictions.get(&id).cloned().filter(|_| !forgotten);
    match job {
        Some(j) => Json(prediction_json(&s, &id, &j)).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({ "detail": "Not found." }))).into_response(),
    }
}

/// `GET /v1/webhooks/default/secret`.
pub(super) async fn secret(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    Json(json!({ "key": s.secrets.replicate.to_whsec() })).into_response()
}

/// `GET /replicate/files/{id}.mp4`: public, like Replicate's delivery URLs.
pub(super) async fn file(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    if headers.contains_key("authorization") {
        s.bump(|st| st.credential_leaks += 1);
    }
    let id = file.trim_end_matches(".mp4");
    let job = s.jobs.lock().unwrap().predictions.get(id).cloned();
    match job {
        Some(j) if j.done(Shared::now_ms()) && j.failure.is_none() => {
            clips::video_file(&s, id, &j).await
        }
        _ => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
