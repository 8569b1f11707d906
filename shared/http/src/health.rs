//! `GET /health`: the process answers (public). `GET /health?deep=1` (admin key): how it is set
//! up — each provider's mode, the video adapter, the stage — and whether the run store
//! answers; 503 when it does not.

use std::collections::HashMap;
use std::time::Instant;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use myloware::domain::RunId;
use serde_json::json;

use crate::AppState;

pub(crate) async fn health(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if !matches!(q.get("deep").map(String::as_str), Some("1" | "true")) {
        return Json(json!({ "status": "ok" })).into_response();
    }
    if let Err(e) = s.api_keys.check_admin(&headers) {
        return e.into_response();
    }
    let started = Instant::now();
    // A read of a run that does not exist: the store answers, and nothing is touched.
    let store = s.engine.store.get_run(&RunId::new()).await;
    let ms = started.elapsed().as_millis() as u64;
    let (status, store) = match store {
        Ok(_) => (StatusCode::OK, json!({ "ok": true, "ms": ms })),
        Err(e) => {
            tracing::error!(error = %e, "deep health: the run store does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "ok": false, "ms": ms, "error": e.to_string() }),
            )
        }
    };
    let body = json!({
        "status": if status.is_success() { "ok" } else { "degraded" },
        "providers": s.setup.providers,
        "video_adapter": s.setup.video_adapter,
        "stage": s.setup.stage,
        "checks": { "store": store },
    });
    (status, Json(body)).into_response()
}
