//! The API router on the in-memory engine with fake providers, for in-process tests.

use std::sync::Arc;

use myloware::adapters::MemoryBackend;
use myloware::config::EngineConfig;
use myloware::engine::Engine;
use myloware::fakes::FakeSet;
use myloware::time::{Clock, ManualClock, SystemClock, Timestamp};
use myloware::webhooks::WebhookSecret;
use myloware_http::{ApiKeys, AppState, WebhookSecrets, api_router};

/// The router, its fakes (for their counters) and its backend (to inspect what was stored).
#[allow(dead_code)]
pub fn app_with(keys: &[&str], config: EngineConfig) -> (axum::Router, FakeSet, MemoryBackend) {
    let (router, fakes, backend, _) = app_and_engine(keys, config);
    (router, fakes, backend)
}

/// [`app_with`] on a clock standing still 10 s into a minute (and an hour): for tests of
/// per-minute and per-hour limits, so no window rolls over between their requests.
#[allow(dead_code)]
pub fn app_standing(keys: &[&str], config: EngineConfig) -> (axum::Router, FakeSet, MemoryBackend) {
    let clock = ManualClock::new(Timestamp(1_796_000_400_000 + 10_000));
    let (router, fakes, backend, _) = app_and_engine_at(keys, config, Arc::new(clock));
    (router, fakes, backend)
}

/// The same, with the engine behind the router (to run the steps its messages ask for).
pub fn app_and_engine(
    keys: &[&str],
    config: EngineConfig,
) -> (axum::Router, FakeSet, MemoryBackend, Engine) {
    app_and_engine_at(keys, config, Arc::new(SystemClock))
}

fn app_and_engine_at(
    keys: &[&str],
    config: EngineConfig,
    clock: Arc<dyn Clock>,
) -> (axum::Router, FakeSet, MemoryBackend, Engine) {
    let secret = WebhookSecret::parse("s3cret").unwrap();
    let fakes = FakeSet::silent(secret.clone());
    let backend = MemoryBackend::default();
    let engine = backend.engine(fakes.providers(), clock, config);
    let router = api_router(AppState::new(
        engine.clone(),
        ApiKeys::new(keys),
        Arc::new(WebhookSecrets::single(secret.clone(), secret.clone(), 300)),
    ));
    (router, fakes, backend, engine)
}

/// The API router whose deep health reports `setup`.
#[allow(dead_code)]
pub fn app_with_setup(keys: &[&str], setup: myloware_http::Setup) -> axum::Router {
    let secret = WebhookSecret::parse("s3cret").unwrap();
    let fakes = FakeSet::silent(secret.clone());
    let backend = MemoryBackend::default();
    let engine = backend.engine(fakes.providers(), Arc::new(SystemClock), Default::default());
    api_router(
        AppState::new(
            engine,
            ApiKeys::new(keys),
            Arc::new(WebhookSecrets::single(secret.clone(), secret, 300)),
        )
        .with_setup(setup),
    )
}

/// Both surfaces on one router (as `serve` has them), on the same kind of engine.
#[allow(dead_code)]
pub fn local_app(keys: &[&str]) -> axum::Router {
    let secret = WebhookSecret::parse("s3cret").unwrap();
    let fakes = FakeSet::silent(secret.clone());
    let backend = MemoryBackend::default();
    let engine = backend.engine(fakes.providers(), Arc::new(SystemClock), Default::default());
    myloware_http::local_router(AppState::new(
        engine,
        ApiKeys::new(keys),
        Arc::new(WebhookSecrets::single(secret.clone(), secret, 300)),
    ))
}

/// The webhook router on the same kind of engine (secret `s3cret` for every provider).
#[allow(dead_code)]
pub fn webhook_app() -> (axum::Router, MemoryBackend) {
    let secret = WebhookSecret::parse("s3cret").unwrap();
    let fakes = FakeSet::silent(secret.clone());
    let backend = MemoryBackend::default();
    let engine = backend.engine(fakes.providers(), Arc::new(SystemClock), Default::default());
    let router = myloware_http::webhook_router(AppState::new(
        engine,
        ApiKeys::new(["k1"]),
        Arc::new(WebhookSecrets::single(secret.clone(), secret, 300)),
    ));
    (router, backend)
}

/// Send a JSON request (`Value::Null`: no body) with `key`; the status and the JSON answer.
#[allow(dead_code)]
pub async fn call_json(
    app: &axum::Router,
    key: &str,
    method: &str,
    path: &str,
    body: serde_json::Value,
) -> (axum::http::StatusCode, serde_json::Value) {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("x-api-key", key)
        .header("content-type", "application/json")
        .body(if body.is_null() { Body::empty() } else { Body::from(body.to_string()) })
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}
