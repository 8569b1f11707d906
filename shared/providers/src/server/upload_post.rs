//! Upload-Post-style endpoints: the multipart upload (asynchronous with `async_upload=true`,
//! under the caller's `request_id`) and its status, which says `pending` until the upload is
//! done and answers 404 `not_found` for a request id it never received. Every POST is counted.

use axum::Json;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use myloware::time::{Clock, SystemClock};
use serde_json::json;

use super::{AppState, Upload, new_id};

/// `POST /api/upload` (multipart: `video`, `title`, `user`, `platform[]`, `async_upload`,
/// `request_id`).
pub(super) async fn upload(State(s): State<AppState>, mut form: Multipart) -> Response {
    let (mut video, mut request_id, mut asynchronous) = (None, None, false);
    let (mut user, mut title, mut platforms) = (None, None, 0);
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("video") => video = field.text().await.ok(),
            Some("user") => user = field.text().await.ok(),
            Some("title") => title = field.text().await.ok(),
            Some("platform[]") => platforms += 1,
            Some("request_id") => request_id = field.text().await.ok(),
            Some("async_upload") => {
                asynchronous = field.text().await.ok().as_deref() == Some("true")
            }
            _ => {}
        }
    }
    s.bump(|st| st.publish_posts += 1);
    // The documented required fields: `user`, at least one `platform[]`, `video`, `title`.
    let missing = [
        ("user", user.is_none_or(|u| u.is_empty())),
        ("platform[]", platforms == 0),
        ("video", video.is_none_or(|v| v.is_empty())),
        ("title", title.is_none_or(|t| t.is_empty())),
    ]
    .into_iter()
    .find(|(_, missing)| *missing);
    if let Some((field, _)) = missing {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "success": false, "error": format!("{field} is required") })),
        )
            .into_response();
    }
    let request_id = request_id.filter(|r| !r.is_empty()).unwrap_or_else(|| new_id("req"));
    let delay = s.callback_delay();
    let now = SystemClock.now();
    let (upload, fresh) = {
        let mut jobs = s.jobs.lock().unwrap();
        let fresh = !jobs.uploads.contains_key(&request_id);
        let upload = jobs
            .uploads
            .entry(request_id.clone())
            .or_insert_with(|| Upload {
                url: format!("https://www.tiktok.com/@myloware/video/{}", new_id("post")),
                ready_at: if asynchronous { now.plus(delay).millis() } else { now.millis() },
            })
            .clone();
        (upload, fresh)
    };
    if fresh {
        s.bump(|st| st.publish_jobs += 1);
    }
    if asynchronous {
        return Json(json!({
            "success": true,
            "request_id": request_id,
            "message": "Upload initiated in background",
        }))
        .into_response();
    }
    Json(json!({
        "success": true,
        "request_id": request_id,
        "status": "completed",
        "results": [{ "platform": "tiktok", "success": true, "url": upload.url }],
    }))
    .into_response()
}

#[derive(serde::Deserialize)]
pub(super) struct StatusQuery {
    request_id: String,
}

/// `GET /api/uploadposts/status?request_id=`.
pub(super) async fn status(State(s): State<AppState>, Query(q): Query<StatusQuery>) -> Response {
    let upload = s.jobs.lock().unwrap().uploads.get(&q.request_id).cloned();
    match upload {
        Some(u) if u.ready_at <= SystemClock.now().millis() => Json(json!({
            "request_id": q.request_id,
            "status": "completed",
            "completed": 1,
            "total": 1,
            "results": [{ "platform": "tiktok", "success": true, "post_url": u.url }],
        }))
        .into_response(),
        Some(_) => Json(json!({
            "request_id": q.request_id, "status": "pending", "completed": 0, "total": 1,
            "results": [],
        }))
        .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "status": "not_found", "request_id": q.request_id })),
        )
            .into_response(),
    }
}
