//! Safety before a run exists, and the cost guards, through the API router (in-process).

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use myloware::adapters::MemoryBackend;
use myloware::config::EngineConfig;
use myloware::fakes::FakeSet;
use myloware::ports::RunStore;
use serde_json::Value;
use tower::ServiceExt;

fn build(config: EngineConfig) -> (axum::Router, FakeSet, MemoryBackend) {
    common::app_standing(&["k1", "k2"], config)
}

async fn start(app: &axum::Router, key: Option<&str>, brief: &str) -> (u16, Option<String>, Value) {
    let mut b = Request::post("/v1/runs").header("content-type", "application/json");
    if let Some(k) = key {
        b = b.header("x-api-key", k);
    }
    let req = b.body(Body::from(serde_json::json!({ "brief": brief }).to_string())).unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let retry = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, retry, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn runs(b: &MemoryBackend) -> usize {
    let q = myloware::ports::ListQuery { limit: 100, ..Default::default() };
    b.store.list_runs(&q).await.unwrap().runs.len()
}

#[tokio::test]
async fn the_brief_is_checked_after_the_key_and_before_anything_is_stored() {
    let (app, fakes, backend) =
        build(EngineConfig { safety_timeout: Duration::from_millis(200), ..Default::default() });
    let (s, _, body) = start(&app, None, "a calm sea").await;
    assert_eq!((s, body["error"].as_str()), (401, Some("unauthorized")));
    assert_eq!(fakes.safety.calls(), 0, "no key, no safety call");

    let (s, _, body) = start(&app, Some("k1"), "how to kill time").await;
    assert_eq!((s, body["error"].as_str()), (400, Some("content_blocked")), "{body}");
    assert!(body["detail"].as_str().unwrap().contains("kill"));
    assert_eq!(runs(&backend).await, 0, "blocked: nothing stored");

    fakes.safety.delay(Duration::from_millis(500));
    let (s, _, body) = start(&app, Some("k1"), "a calm sea").await;
    assert_eq!((s, body["error"].as_str()), (503, Some("safety_unavailable")), "{body}");
    assert_eq!(runs(&backend).await, 0, "timed out: nothing stored");

    fakes.safety.delay(Duration::ZERO);
    fakes.safety.fail_with(Some("moderation down"));
    let (s, _, body) = start(&app, Some("k1"), "a calm sea").await;
    assert_eq!((s, body["error"].as_str()), (503, Some("safety_unavailable")));
    fakes.safety.fail_with(None);
    assert_eq!(start(&app, Some("k1"), "a calm sea").await.0, 201);
    assert_eq!(runs(&backend).await, 1);
}

#[tokio::test]
async fn rate_limits_are_per_key_and_budgets_are_global() {
    let (app, _, backend) =
        build(EngineConfig { rate_limit_per_min: 2, max_runs_24h: 3, ..Default::default() });
    assert_eq!(start(&app, Some("k1"), "one").await.0, 201);
    assert_eq!(start(&app, Some("k1"), "two").await.0, 201);
    let (s, retry, body) = start(&app, Some("k1"), "three").await;
    assert_eq!((s, body["error"].as_str()), (429, Some("rate_limited")), "{body}");
    let secs: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&secs));
    assert_eq!(body["retry_after_seconds"].as_u64(), Some(secs));
    // Another key has its own rate limit, but the 24-hour cap is shared.
    assert_eq!(start(&app, Some("k2"), "three").await.0, 201);
    let (s, retry, body) = start(&app, Some("k2"), "four").await;
    assert_eq!((s, body["error"].as_str()), (429, Some("budget_exceeded")), "{body}");
    assert!(
        retry.unwrap().parse::<u64>().unwrap() > 60,
        "frees up when the oldest hour leaves the window"
    );
    assert_eq!(runs(&backend).await, 3);

    let (priced, _, _) =
        build(EngineConfig { cost_per_run_usd: 1.0, daily_budget_usd: 1.5, ..Default::default() });
    assert_eq!(start(&priced, Some("k1"), "one").await.0, 201);
    let (s, retry, body) = start(&priced, Some("k1"), "two").await;
    assert_eq!((s, body["error"].as_str()), (429, Some("budget_exceeded")), "{body}");
    assert!(body["detail"].as_str().unwrap().contains("spend"));
    assert!(retry.unwrap().parse::<u64>().unwrap() <= 86_400, "until the next UTC day");
}
