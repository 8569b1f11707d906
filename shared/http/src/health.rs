//! `GET /health`: the process answers (public, cheap). `GET /health?deep=1` (admin key): how it
//! is set up — each provider's mode, the video adapter, the stage — and each dependency
//! checked at once, with its latency: the run store (a read), the step queue (its depth), the
//! blob store (a read), and every real provider's host (a TCP connection, no key sent). 503
//! `degraded` when any does not answer within its time.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use myloware::domain::RunId;
use serde_json::{Value, json};

use crate::AppState;

/// How long one dependency may take to answer.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// Run `check`, timed: `{ok, ms, …}`.
async fn timed<F>(check: F) -> Value
where
    F: Future<Output = Result<Value, String>>,
{
    let started = Instant::now();
    let result = tokio::time::timeout(CHECK_TIMEOUT, check).await;
    let ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(Ok(mut extra)) => {
            extra["ok"] = json!(true);
            extra["ms"] = json!(ms);
            extra
        }
        Ok(Err(e)) => json!({ "ok": false, "ms": ms, "error": e }),
        Err(_) => {
            json!({ "ok": false, "ms": ms, "error": format!("no answer within {CHECK_TIMEOUT:?}") })
        }
    }
}

/// Whether `base`'s host takes a TCP connection (DNS and the network path; nothing is sent).
async fn reachable(base: &str) -> Result<Value, String> {
    let rest = base.split_once("://").map_or(base, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    let default_port = if base.starts_with("http://") { 80 } else { 443 };
    let target = if authority.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
        authority.to_owned()
    } else {
        format!("{authority}:{default_port}")
    };
    tokio::net::TcpStream::connect(&target).await.map_err(|e| format!("{target}: {e}"))?;
    Ok(json!({ "host": target }))
}

/// `GET /health`: the process answers; `?deep=1` (admin key) checks every dependency.
#[utoipa::path(get, path = "/health", tag = "health",
    params(("deep" = Option<String>, Query, description = "1: check every dependency (admin key)")),
    responses((status = 200, body = Object), (status = 401, body = crate::api::ErrorBody),
        (status = 403, body = crate::api::ErrorBody), (status = 503, body = Object, description = "degraded")))]
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
    let engine = &s.engine;
    // Reads that touch nothing: a run that does not exist, the queue's depth, the blob store.
    let store = timed(async {
        engine.store.get_run(&RunId::new()).await.map(|_| json!({})).map_err(|e| e.to_string())
    });
    let queue = timed(async {
        engine.queue.depth().await.map(|d| json!({ "depth": d })).map_err(|e| e.to_string())
    });
    let blobs =
        timed(async { engine.blobs.check().await.map(|()| json!({})).map_err(|e| e.to_string()) });
    let providers = async {
        let mut set = tokio::task::JoinSet::new();
        for (kind, base) in s.setup.endpoints.clone() {
            set.spawn(async move { (kind, timed(reachable(&base)).await) });
        }
        let mut out = BTreeMap::new();
        while let Some(Ok((kind, v))) = set.join_next().await {
            out.insert(kind, v);
        }
        out
    };
    let (store, queue, blobs, reach) = tokio::join!(store, queue, blobs, providers);
    let mut checks = json!({ "store": store, "queue": queue, "blobs": blobs });
    for (kind, v) in reach {
        checks[format!("provider:{kind}")] = v;
    }
    let all_ok = checks.as_object().is_some_and(|m| m.values().all(|v| v["ok"] == true));
    if !all_ok {
        tracing::error!(checks = %checks, "deep health: a dependency does not answer");
    }
    let status = if all_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({
        "status": if all_ok { "ok" } else { "degraded" },
        "providers": s.setup.providers,
        "video_adapter": s.setup.video_adapter,
        "stage": s.setup.stage,
        "checks": checks,
    });
    (status, Json(body)).into_response()
}

/// The committed document, which `tests/openapi.rs` keeps equal to what the code's annotations
/// generate (`ApiDoc::json`): served as text, so no function carries the generator.
const OPENAPI_JSON: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json"));

/// `GET /openapi.json`: this API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", tag = "health",
    responses((status = 200, body = Object, description = "the OpenAPI document")))]
pub(crate) async fn openapi_json() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}
