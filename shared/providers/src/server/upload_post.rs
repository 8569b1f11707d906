//! Upload-Post-style endpoints: multipart upload answered with the post URL, and a status query.

use axum::Json;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{AppState, new_id};

/// `POST /api/upload` (multipart: `video`, `title`, `user`, `platform[]`).
pub(super) async fn upload(
    State(s): State<AppState>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let mut video = None;
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some("video") {
            video = field.text().await.ok();
        }
    }
    let Some(video) = video.filter(|v| !v.is_empty()) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "success": false, "error": "video is required" })),
        )
            .into_response();
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or(video);
    let (request_id, url, fresh) = {
        let mut jobs = s.jobs.lock().unwrap();
        match jobs.uploads.get(&key) {
            Some((r, u)) => (r.clone(), u.clone(), false),
            None => {
                let r = new_id("req");
                let u = format!("https://www.tiktok.com/@myloware/video/{}", new_id("post"));
                jobs.uploads.insert(key, (r.clone(), u.clone()));
                (r, u, true)
            }
        }
    };
    if fresh {
        s.bump(|st| st.publish_jobs += 1);
    }
    Json(json!({
        "success": true,
        "request_id": request_id,
        "results": { "tiktok": { "success": true, "url": url } },
    }))
    .into_response()
}

#[derive(serde::Deserialize)]
pub(super) struct StatusQuery {
    request_id: String,
}

/// `GET /api/uploadposts/status?request_id=`.
pub(super) async fn status(State(s): State<AppState>, Query(q): Query<StatusQuery>) -> Response {
    let jobs = s.jobs.lock().unwrap();
    match jobs.uploads.values().find(|(r, _)| *r == q.request_id) {
        Some((_, url)) => Json(json!({
            "status": "completed",
            "request_id": q.request_id,
            "results": [{ "platform": "tiktok", "success": true, "post_url": url }],
        }))
        .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "status": "unknown", "request_id": q.request_id })),
        )
            .into_response(),
    }
}
