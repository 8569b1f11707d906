//! OpenAI-style endpoints: chat completions (ideation), videos (create, status, content).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use myloware::time::{Clock, SystemClock};
use serde_json::{Value, json};

use super::callbacks::{self, Kind};
use super::clips::{self, Clip};
use super::{AppState, Job, Shared, new_id};

fn error(status: StatusCode, msg: &str) -> Response {
    (status, Json(json!({ "error": { "message": msg, "type": "invalid_request_error" } })))
        .into_response()
}

/// `POST /v1/chat/completions`: answers the ideation request with a JSON plan.
pub(super) async fn chat_completions(
    State(s): State<AppState>,
    Json(req): Json<Value>,
) -> Response {
    s.bump(|st| st.llm_calls += 1);
    let user = req["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default();
    let ask: Value = serde_json::from_str(user).unwrap_or(json!({ "brief": user, "clips": 3 }));
    let brief: String = ask["brief"].as_str().unwrap_or("a video").chars().take(60).collect();
    let clips = ask["clips"].as_u64().unwrap_or(3).clamp(1, 12);
    let plan = json!({
        "title": format!("{brief}"),
        "prompts": (1..=clips).map(|i| format!("Shot {i} of {clips}: {brief}, cinematic, vertical")).collect::<Vec<_>>(),
        "overlays": (1..=clips).map(|i| format!("Part {i}")).collect::<Vec<_>>(),
        "caption": format!("{brief} #myloware"),
    });
    Json(json!({
        "id": new_id("chatcmpl"),
        "object": "chat.completion",
        "created": SystemClock.now().secs(),
        "model": req["model"].as_str().unwrap_or("gpt-4o-mini"),
        "choices": [{ "index": 0, "message": { "role": "assistant", "content": plan.to_string() }, "finish_reason": "stop" }],
    }))
    .into_response()
}

fn video_json(id: &str, job: &Job) -> Value {
    let status = match (job.done(Shared::now_ms()), &job.failure) {
        (false, _) => "in_progress",
        (true, Some(_)) => "failed",
        (true, None) => "completed",
    };
    let mut v = json!({ "id": id, "object": "video", "model": "sora-2", "status": status,
        "progress": if status == "in_progress" { 0 } else { 100 } });
    if let (true, Some(f)) = (job.done(Shared::now_ms()), &job.failure) {
        v["error"] = json!({ "code": "generation_failed", "message": f });
    }
    v
}

/// `POST /v1/videos`: start a job (one per `Idempotency-Key`), call back when it finishes.
/// Every submission is counted; only a new key starts (and bills) a job.
pub(super) async fn create_video(
    State(s): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<Value>,
) -> Response {
    if req["prompt"].as_str().is_none_or(str::is_empty) {
        return error(StatusCode::BAD_REQUEST, "prompt is required");
    }
    let (outage, delay_ms) = {
        let c = s.config.read().unwrap();
        (c.video_submit_status, c.video_submit_delay_ms)
    };
    if let Some(code) = outage.and_then(|c| StatusCode::from_u16(c).ok()) {
        return error(code, "the video API is unavailable (configured outage)");
    }
    s.bump(|st| st.video_submissions += 1);
    let delay = s.callback_delay();
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (id, job, fresh) = {
        let mut jobs = s.jobs.lock().unwrap();
        if let Some(id) = key.as_ref().and_then(|k| jobs.video_keys.get(k)).cloned() {
            let job = jobs.videos[&id].clone();
            (id, job, false)
        } else {
            let id = new_id("video");
            let c = s.config.read().unwrap();
            let job = Job {
                failure: c.video_failure.clone(),
                run_id: None,
                ready_at: Shared::now_ms() + delay.as_millis() as i64,
                callback: c.openai_webhook_url.clone().filter(|_| !c.drop_callbacks),
                clip: Clip::new(&req["prompt"], &req["seconds"], clips::created(&jobs)),
            };
            jobs.videos.insert(id.clone(), job.clone());
            if let Some(k) = key {
                jobs.video_keys.insert(k, id.clone());
            }
            (id, job, true)
        }
    };
    if fresh {
        s.bump(|st| st.video_jobs += 1);
        callbacks::schedule(s.clone(), Kind::Video, id.clone());
    }
    if delay_ms > 0 {
        // The job has started; the answer is slow (a crash of the caller in between leaves a
        // job it never heard of).
        tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
    }
    (StatusCode::OK, Json(video_json(&id, &job))).into_response()
}

/// `GET /v1/videos/{id}`.
pub(super) async fn get_video(State(s): State<AppState>, Path(id): Path<String>) -> Response {
    if s.video_status_asked() {
        return error(StatusCode::NOT_FOUND, "no such video");
    }
    match s.jobs.lock().unwrap().videos.get(&id) {
        Some(job) => Json(video_json(&id, job)).into_response(),
        None => error(StatusCode::NOT_FOUND, "no such video"),
    }
}

/// `GET /v1/videos/{id}/content`: a real MP4 once the job completed.
pub(super) async fn video_content(State(s): State<AppState>, Path(id): Path<String>) -> Response {
    let job = s.jobs.lock().unwrap().videos.get(&id).cloned();
    match job {
        Some(job) if job.done(Shared::now_ms()) && job.failure.is_none() => {
            clips::video_file(&s, &id, &job).await
        }
        Some(_) => error(StatusCode::CONFLICT, "video is not completed"),
        None => error(StatusCode::NOT_FOUND, "no such video"),
    }
}

/// `POST /v1/moderations`: flags inputs containing a configured word.
pub(super) async fn moderations(State(s): State<AppState>, Json(req): Json<Value>) -> Response {
    s.bump(|st| st.moderation_calls += 1);
    let (words, delay) = {
        let c = s.config.read().unwrap();
        (c.blocked_words.clone(), c.moderation_delay_ms)
    };
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let input = req["input"].as_str().unwrap_or_default().to_lowercase();
    let flagged = words.iter().any(|w| input.contains(&w.to_lowercase()));
    Json(json!({
        "id": new_id("modr"),
        "model": "omni-moderation-latest",
        "results": [{ "flagged": flagged, "categories": { "violence": flagged } }],
    }))
    .into_response()
}
