//! A hostile caller over the API router (in-process, in-memory backend), counting what it
//! wrote: without a valid key nothing of a request is read (401 whatever it sent); another
//! principal's run is not found (404, as an id that does not exist); an idempotency key reused
//! with another request is 422 and writes nothing, while its retry costs no rate-limit slot;
//! a crafted list cursor is 400.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use myloware::adapters::MemoryBackend;
use myloware::ports::{ListQuery, RunStore};
use serde_json::{Value, json};
use tower::ServiceExt;

use common::call_json as call;

/// What the store and the queue hold: any write changes it.
async fn writes(b: &MemoryBackend) -> (usize, usize) {
    let q = ListQuery { limit: 100, ..Default::default() };
    (b.store.list_runs(&q).await.unwrap().runs.len(), b.queue.sent())
}

async fn raw(app: &axum::Router, req: Request<Body>) -> (StatusCode, Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn without_a_valid_key_nothing_of_the_request_is_read() {
    let (app, fakes, backend) = common::app_with(&["k1"], Default::default());
    let id = "3f0e8a53-5b0e-4c47-9d7e-2f1f7c0f7a11";
    let cases: Vec<(&str, String, Option<&str>, &str)> = vec![
        ("POST", "/v1/runs".into(), Some("application/json"), "{\"brief\":"),
        ("POST", "/v1/runs".into(), Some("text/plain"), "brief"),
        ("POST", "/v1/runs".into(), Some("application/json"), "{\"brief\":\"b\",\"x\":1}"),
        ("POST", "/v1/runs".into(), None, ""),
        ("GET", "/v1/runs?limit=abc&status=nope&cursor=%%%".into(), None, ""),
        ("GET", "/v1/runs/not-a-uuid".into(), None, ""),
        ("PUT", "/v1/runs".into(), Some("application/json"), "{}"),
        ("DELETE", format!("/v1/runs/{id}"), None, ""),
        ("POST", format!("/v1/runs/{id}/approve"), Some("application/xml"), "<gate/>"),
        ("POST", format!("/v1/runs/{id}/feedback"), Some("application/json"), "{\"rating\":\"x\"}"),
        ("GET", "/v1/admin/dlq?limit=-1".into(), None, ""),
    ];
    for key in [None, Some("wrong"), Some("")] {
        for (method, path, content_type, body) in &cases {
            let mut b = Request::builder().method(*method).uri(path);
            if let Some(ct) = content_type {
                b = b.header("content-type", *ct);
            }
            if let Some(k) = key {
                b = b.header("x-api-key", k);
            }
            let (status, err) = raw(&app, b.body(Body::from(body.to_string())).unwrap()).await;
            assert_eq!(
                (status, err["error"].as_str()),
                (StatusCode::UNAUTHORIZED, Some("unauthorized")),
                "{method} {path} with key {key:?}: {err}"
            );
        }
    }
    assert_eq!(writes(&backend).await, (0, 0), "nothing written");
    assert_eq!(fakes.safety.calls(), 0, "no safety check was paid for");
}

#[tokio::test]
async fn another_principals_run_is_not_found() {
    let (app, _fakes, backend) = common::app_with(
        &["ann-1@ann", "ann-2@ann", "bob-1@bob", "ops:operator"],
        Default::default(),
    );
    let (status, started) = call(&app, "ann-1", "POST", "/v1/runs", json!({ "brief": "b" })).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = started["run_id"].as_str().unwrap().to_owned();
    let before = writes(&backend).await;
    let run = format!("/v1/runs/{id}");
    let unknown = "/v1/runs/3f0e8a53-5b0e-4c47-9d7e-2f1f7c0f7a11";
    for (method, suffix, body) in [
        ("GET", "", Value::Null),
        ("GET", "/history", Value::Null),
        ("GET", "/feedback", Value::Null),
        ("POST", "/feedback", json!({ "rating": 1 })),
        ("POST", "/approve", json!({ "gate": "ideation" })),
        ("POST", "/reject", json!({ "gate": "ideation" })),
        ("POST", "/cancel", json!({ "reason": "mine now" })),
    ] {
        let (status, err) =
            call(&app, "bob-1", method, &format!("{run}{suffix}"), body.clone()).await;
        let (ghost, ghost_err) =
            call(&app, "bob-1", method, &format!("{unknown}{suffix}"), body).await;
        assert_eq!(
            (status, err["error"].as_str()),
            (StatusCode::NOT_FOUND, Some("run_not_found")),
            "{method} {suffix}: {err}"
        );
        assert_eq!(
            (status, &err["error"]),
            (ghost, &ghost_err["error"]),
            "the same answer as no run at all"
        );
    }
    assert_eq!(writes(&backend).await, before, "nothing written");
    let (_, bobs) = call(&app, "bob-1", "GET", "/v1/runs", Value::Null).await;
    assert_eq!(bobs["runs"], json!([]), "bob lists none of ann's runs");
    // Ann's other key is ann; an operator sees every run.
    let (status, _) = call(&app, "ann-2", "GET", &run, Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    let (_, anns) = call(&app, "ann-2", "GET", "/v1/runs", Value::Null).await;
    assert_eq!(anns["runs"][0]["run_id"], id.as_str());
    let (status, _) = call(&app, "ops", "GET", &run, Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    let (_, all) = call(&app, "ops", "GET", "/v1/runs", Value::Null).await;
    assert_eq!(all["runs"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_idempotency_key_means_one_request() {
    let config = myloware::config::EngineConfig { rate_limit_per_min: 1, ..Default::default() };
    // A clock standing still: the one start a minute cannot come back mid-test.
    let (app, fakes, backend) = common::app_standing(&["ann@ann", "bob@bob"], config);
    let start = |key: &'static str, idem: &'static str, brief: &'static str| {
        let app = app.clone();
        async move {
            let req = Request::post("/v1/runs")
                .header("x-api-key", key)
                .header("content-type", "application/json")
                .header("idempotency-key", idem)
                .body(Body::from(json!({ "brief": brief }).to_string()))
                .unwrap();
            raw(&app, req).await
        }
    };
    let (status, first) = start("ann", "k-1", "a calm sea").await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let checks = fakes.safety.calls();
    // The same request again: the same run, no rate-limit slot (the limit is 1 a minute), no
    // safety check, no new run (its first message is sent again while it has not started: a
    // duplicate is harmless, a lost one is not).
    for _ in 0..3 {
        let (status, again) = start("ann", "k-1", "a calm sea").await;
        assert_eq!((status, &again["run_id"]), (StatusCode::CREATED, &first["run_id"]), "{again}");
    }
    assert_eq!((writes(&backend).await.0, fakes.safety.calls()), (1, checks));
    let after_first = (writes(&backend).await, fakes.safety.calls());
    // The same key with another request: 422, nothing written, nothing checked.
    let (status, err) = start("ann", "k-1", "a stormy sea").await;
    assert_eq!(
        (status, err["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("idempotency_key_reused")),
        "{err}"
    );
    assert_eq!(
        (writes(&backend).await, fakes.safety.calls()),
        after_first,
        "the reuse wrote and paid nothing"
    );
    // Keys are per principal: bob's k-1 is his own run.
    let (status, bobs) = start("bob", "k-1", "a stormy sea").await;
    assert_eq!(status, StatusCode::CREATED, "{bobs}");
    assert_ne!(bobs["run_id"], first["run_id"]);
    // Ann's one start a minute was used by her first request only.
    let (status, err) = start("ann", "k-2", "a new sea").await;
    assert_eq!(
        (status, err["error"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"))
    );
}

#[tokio::test]
async fn a_crafted_cursor_is_a_bad_request() {
    let (app, _fakes, backend) = common::app_with(&["k1"], Default::default());
    for cursor in ["%25%25%25", "eyJwayI6IlgifQ", "99999999999999999999"] {
        let (status, err) =
            call(&app, "k1", "GET", &format!("/v1/runs?cursor={cursor}"), Value::Null).await;
        assert_eq!(
            (status, err["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_cursor")),
            "{cursor}: {err}"
        );
    }
    assert_eq!(writes(&backend).await, (0, 0));
}

#[tokio::test]
async fn a_signature_header_of_many_candidates_costs_no_more_than_one() {
    let (app, backend) = common::webhook_app();
    let body = serde_json::to_vec(&json!({
        "type": "video.completed",
        "data": { "id": "video_1", "pad": "x".repeat(250 * 1000) },
    }))
    .unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let fake = format!("v1,{}", "A".repeat(43) + "=");
    let request = |signature: String| {
        Request::post("/v1/webhooks/openai")
            .header("content-type", "application/json")
            .header("webhook-id", "msg_1")
            .header("webhook-timestamp", now.to_string())
            .header("webhook-signature", signature)
            .body(Body::from(body.clone()))
            .unwrap()
    };
    let time = |signature: String| {
        let app = app.clone();
        let req = request(signature);
        async move {
            let started = std::time::Instant::now();
            let (status, err) = raw(&app, req).await;
            (status, err, started.elapsed())
        }
    };
    let (mut one, mut many) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    for _ in 0..20 {
        let (status, err, took) = time(fake.clone()).await;
        assert_eq!(
            (status, err["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_signature")),
            "{err}"
        );
        one += took;
        let (status, err, took) = time(vec![fake.as_str(); 200].join(" ")).await;
        assert_eq!(
            (status, err["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_signature")),
            "{err}"
        );
        many += took;
    }
    println!(
        "webhook verification, 250 KB body, 20 requests each: 1 candidate {one:?}, 200 candidates {many:?} ({:.2}x)",
        many.as_secs_f64() / one.as_secs_f64()
    );
    assert_eq!(writes(&backend).await, (0, 0), "nothing written");
}
