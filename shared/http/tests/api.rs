//! The runs API router in-process (tower `oneshot`) on the in-memory engine: status codes and
//! error codes for good and bad input.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

fn app(keys: &[&str]) -> axum::Router {
    common::app_with(keys, Default::default()).0
}

async fn call(
    app: &axum::Router,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (parts.status, parts.headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn post(path: &str, key: Option<&str>, content_type: &str, body: &str) -> Request<Body> {
    let mut b = Request::post(path).header("content-type", content_type);
    if let Some(k) = key {
        b = b.header("x-api-key", k);
    }
    b.body(Body::from(body.to_owned())).unwrap()
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).header("x-api-key", "k1").body(Body::empty()).unwrap()
}

#[tokio::test]
async fn bad_input_gets_a_clear_error() {
    let app = app(&["k1", "k2"]);
    let json = "application/json";
    let cases = [
        (post("/v1/runs", None, json, r#"{"brief":"b"}"#), 401, "unauthorized"),
        (post("/v1/runs", Some("nope"), json, r#"{"brief":"b"}"#), 401, "unauthorized"),
        (
            post("/v1/runs", Some("k1"), "text/plain", r#"{"brief":"b"}"#),
            415,
            "unsupported_media_type",
        ),
        (post("/v1/runs", Some("k1"), json, r#"{"brief":"#), 400, "malformed_json"),
        (post("/v1/runs", Some("k1"), json, r#"{"clips":2}"#), 422, "invalid_body"),
        (post("/v1/runs", Some("k1"), json, r#"{"brief":"b","extra":1}"#), 422, "invalid_body"),
        (post("/v1/runs", Some("k1"), json, r#"{"brief":"   "}"#), 400, "invalid_brief"),
        (post("/v1/runs", Some("k1"), json, r#"{"brief":"b","clips":0}"#), 400, "invalid_clips"),
        (post("/v1/runs", Some("k1"), json, r#"{"brief":"b","clips":13}"#), 400, "invalid_clips"),
        (
            post("/v1/runs", Some("k1"), json, r#"{"brief":"b","project":"Bad Name"}"#),
            400,
            "invalid_project",
        ),
        (get("/v1/runs/not-a-uuid"), 400, "invalid_run_id"),
        (get("/v1/runs/3f0e8a53-5b0e-4c47-9d7e-2f1f7c0f7a11"), 404, "run_not_found"),
        (get("/v1/runs?status=bogus"), 400, "invalid_status"),
        (get("/v1/runs?limit=0"), 400, "invalid_limit"),
        (get("/v1/runs?cursor=zzz"), 400, "invalid_cursor"),
        (
            post(
                "/v1/runs/3f0e8a53-5b0e-4c47-9d7e-2f1f7c0f7a11/approve",
                Some("k2"),
                json,
                r#"{"gate":"ideation"}"#,
            ),
            404,
            "run_not_found",
        ),
        (
            post(
                "/v1/runs/3f0e8a53-5b0e-4c47-9d7e-2f1f7c0f7a11/approve",
                Some("k2"),
                json,
                r#"{}"#,
            ),
            422,
            "invalid_body",
        ),
    ];
    for (i, (req, status, code)) in cases.into_iter().enumerate() {
        let (got, headers, body) = call(&app, req).await;
        assert_eq!(
            (got.as_u16(), body["error"].as_str()),
            (status, Some(code)),
            "case {i}: {body}"
        );
        assert!(body["detail"].is_string(), "case {i}: {body}");
        assert!(headers.contains_key("x-request-id"), "case {i}");
    }
}

#[tokio::test]
async fn start_is_idempotent_and_gates_conflict_when_not_waiting() {
    let app = app(&["k1"]);
    let start = || {
        let mut r = post(
            "/v1/runs",
            Some("k1"),
            "application/json",
            r#"{"brief":"a calm ocean","clips":2}"#,
        );
        r.headers_mut().insert("idempotency-key", "abc-123".parse().unwrap());
        r.headers_mut().insert("x-request-id", "req-42".parse().unwrap());
        r
    };
    let (s1, h1, b1) = call(&app, start()).await;
    let (s2, h2, b2) = call(&app, start()).await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(b1["run_id"], b2["run_id"]);
    assert_eq!(b1["status"], "pending");
    assert!(!h1.contains_key("idempotent-replayed"));
    assert_eq!(h2["idempotent-replayed"], "true");
    assert_eq!(h1["x-request-id"], "req-42");

    let id = b1["run_id"].as_str().unwrap();
    let (s, _, body) = call(
        &app,
        post(
            &format!("/v1/runs/{id}/approve"),
            Some("k1"),
            "application/json",
            r#"{"gate":"ideation"}"#,
        ),
    )
    .await;
    assert_eq!((s, body["error"].as_str()), (StatusCode::CONFLICT, Some("not_waiting_at_gate")));
    let (s, _, view) = call(&app, get(&format!("/v1/runs/{id}"))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (view["status"].as_str(), view["current_step"].as_str()),
        (Some("pending"), Some("ideation"))
    );
    assert_eq!(view["history_length"], 1);
    let (_, _, list) = call(&app, get("/v1/runs?status=pending")).await;
    assert_eq!(list["runs"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn no_configured_key_refuses_everything() {
    let app = app(&[]);
    let (s, _, body) =
        call(&app, post("/v1/runs", Some("anything"), "application/json", r#"{"brief":"b"}"#))
            .await;
    assert_eq!((s.as_u16(), body["error"].as_str()), (500, Some("api_keys_missing")));
    let (s, _, _) = call(&app, Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::OK);
}
