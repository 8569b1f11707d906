//! Remotion-style endpoints: submit a render with a callback URL, status, output.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::callbacks::{self, Kind};
use super::{AppState, Job, Shared, new_id};

/// `POST /api/render` → 202 `{job_id, status}`; calls back `callback_url` when done.
pub(super) async fn render(
    State(s): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<Value>,
) -> Response {
    s.bump(|st| st.render_submissions += 1);
    if let Err(why) = refusal(&req) {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": why }))).into_response();
    }
    let callback_url = req["callback_url"].as_str().map(str::to_owned);
    let template = req["template"].clone();
    let delay = s.callback_delay();
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let run_id = req["run_id"].as_str().map(str::to_owned);
    let (id, fresh) = {
        let mut jobs = s.jobs.lock().unwrap();
        match key.as_ref().and_then(|k| jobs.render_keys.get(k)).cloned() {
            Some(id) => (id, false),
            None => {
                let id = new_id("render");
                let c = s.config.read().unwrap();
                let job = Job {
                    failure: c.render_failure.clone(),
                    run_id,
                    ready_at: Shared::now_ms() + delay.as_millis() as i64,
                    callback: callback_url.filter(|_| !c.drop_callbacks),
                    clip: None,
                };
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
        callbacks::schedule(s.clone(), Kind::Render, id.clone());
    }
    let answer = json!({ "job_id": id, "status": "queued", "template": template });
    (StatusCode::ACCEPTED, Json(answer)).into_response()
}

/// Why the MyloWare render service would answer 400 (`services/remotion/api/server.ts`,
/// `../reference/providers.md` §7): no template (composition code is disabled unless the
/// service is sandboxed), no clips, a frame rate other than 30 with a template, bad numbers or
/// a callback URL that is not http(s).
fn refusal(req: &Value) -> Result<(), String> {
    if req.get("composition_code").is_some() {
        return Err("composition_code is disabled on this server".into());
    }
    match req["template"].as_str() {
        Some(t)
            if !t.is_empty()
                && t.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)) => {}
        Some(_) => return Err("invalid template name".into()),
        None => return Err("template or composition_code is required".into()),
    }
    let clips = req["clips"].as_array().filter(|c| !c.is_empty());
    match clips {
        Some(c) if c.iter().all(|u| u.as_str().is_some_and(|u| !u.is_empty())) => {}
        _ => return Err("clips must be a non-empty array of URLs".into()),
    }
    if req["fps"].as_u64().unwrap_or(30) != 30 {
        return Err("fps must be 30 when rendering a template".into());
    }
    for field in ["duration_frames", "width", "height"] {
        if let Some(v) = req.get(field)
            && v.as_u64().is_none_or(|n| n == 0)
        {
            return Err(format!("{field} must be a positive number"));
        }
    }
    if let Some(cb) = req.get("callback_url") {
        let ok = cb.as_str().is_some_and(|u| u.starts_with("http://") || u.starts_with("https://"));
        if !ok {
            return Err("callback_url must be http(s)".into());
        }
    }
    Ok(())
}

fn render_status(j: &Job) -> &'static str {
    match (j.done(Shared::now_ms()), &j.failure) {
        (false, _) => "rendering",
        (true, Some(_)) => "error",
        (true, None) => "done",
    }
}

/// `GET /api/render/{id}`.
pub(super) async fn status(State(s): State<AppState>, Path(id): Path<String>) -> Response {
    match s.jobs.lock().unwrap().renders.get(&id) {
        Some(j) => {
            let status = render_status(j);
            Json(json!({
                "job_id": id, "status": status, "run_id": j.run_id,
                "error": (status == "error").then(|| j.failure.clone()),
                "output_url": (status == "done").then(|| format!("{}/output/{id}.mp4", s.base_url)),
            }))
            .into_response()
        }
        None => (StatusCode::NOT_FOUND, Json(json!({ "error": "no such render" }))).into_response(),
    }
}

/// `GET /output/{job}.mp4`.
pub(super) async fn output(State(s): State<AppState>, Path(file): Path<String>) -> Response {
    let id = file.trim_end_matches(".mp4");
    match s.jobs.lock().unwrap().renders.get(id) {
        Some(j) if render_status(j) == "done" => {
            ([("content-type", "video/mp4")], crate::SAMPLE_MP4).into_response()
        }
        _ => (StatusCode::NOT_FOUND, Json(json!({ "error": "no such output" }))).into_response(),
    }
}
