//! The OpenAPI document: generated from the code, a valid OpenAPI 3.1 document (checked against
//! the OpenAPI Initiative's schema, `docs/schemas/oas-3.1.schema.yaml`), the same as the
//! committed `docs/openapi.json` (`MYLOWARE_WRITE_OPENAPI=1` rewrites it), served at
//! `/openapi.json`; and every route in it, called, answers one of the statuses it documents.

mod common;

use std::path::PathBuf;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use myloware_http::api::ApiDoc;
use serde_json::{Value, json};
use tower::ServiceExt;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn spec() -> Value {
    serde_json::from_str(&ApiDoc::json()).unwrap()
}

#[test]
fn the_document_is_openapi_3_1_and_the_committed_one() {
    let generated = ApiDoc::json();
    let path = root().join("docs/openapi.json");
    if std::env::var("MYLOWARE_WRITE_OPENAPI").as_deref() == Ok("1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json differs from the code: run MYLOWARE_WRITE_OPENAPI=1 cargo test -p myloware-http --test openapi"
    );
    let yaml = std::fs::read_to_string(root().join("docs/schemas/oas-3.1.schema.yaml")).unwrap();
    let schema: Value = serde_yaml::from_str(&yaml).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the OpenAPI 3.1 schema compiles");
    let doc = spec();
    let errors: Vec<String> =
        validator.iter_errors(&doc).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "not a valid OpenAPI 3.1 document: {errors:#?}");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    // The checker checks: a document without paths' responses is refused.
    let mut broken = doc.clone();
    broken["paths"]["/v1/runs"]["post"].as_object_mut().unwrap().remove("responses");
    broken["openapi"] = json!("3.0.3");
    assert!(validator.iter_errors(&broken).next().is_some());
}

async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (u16, Vec<u8>) {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(k) = key {
        b = b.header("x-api-key", k);
    }
    let req = match body {
        Some(v) => b.header("content-type", "application/json").body(Body::from(v.to_string())),
        None => b.body(Body::empty()),
    }
    .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.into_body().collect().await.unwrap().to_bytes().to_vec())
}

#[tokio::test]
async fn every_documented_route_answers_as_documented() {
    let app = common::local_app(&["ops:admin"]);
    let (_, started) =
        call(&app, "POST", "/v1/runs", Some("ops"), Some(json!({ "brief": "b" }))).await;
    let run: Value = serde_json::from_slice(&started).unwrap();
    let id = run["run_id"].as_str().unwrap().to_owned();
    // A run that has ended, for the event stream (it closes after `end`).
    let (_, other) =
        call(&app, "POST", "/v1/runs", Some("ops"), Some(json!({ "brief": "c" }))).await;
    let ended =
        serde_json::from_slice::<Value>(&other).unwrap()["run_id"].as_str().unwrap().to_owned();
    call(&app, "POST", &format!("/v1/runs/{ended}/cancel"), Some("ops"), Some(json!({}))).await;

    let doc = spec();
    let mut called = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let run = if path.contains("/events") { &ended } else { &id };
            let mut uri = path.replace("{id}", run).replace("{message_id}", "missing-message");
            if path.contains("/events") {
                uri.push_str("?poll_ms=100");
            }
            let body = match (method.as_str(), path.as_str()) {
                ("post", "/v1/runs") => Some(json!({ "brief": "another" })),
                ("post", p) if p.ends_with("/approve") || p.ends_with("/reject") => {
                    Some(json!({ "gate": "ideation" }))
                }
                ("post", p) if p.ends_with("/fork") => Some(json!({ "from_version": 1 })),
                ("post", p) if p.ends_with("/feedback") => Some(json!({ "rating": 5 })),
                ("post", _) => Some(json!({})),
                _ => None,
            };
            let (status, bytes) = call(&app, &method.to_uppercase(), &uri, Some("ops"), body).await;
            let documented: Vec<u16> = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .filter_map(|k| k.parse().ok())
                .collect();
            assert!(
                documented.contains(&status),
                "{method} {path}: {status} is not among {documented:?}: {}",
                String::from_utf8_lossy(&bytes)
            );
            called += 1;
        }
    }
    assert!(called >= 25, "{called} operations called");
    // Served, the same document.
    let (status, served) = call(&app, "GET", "/openapi.json", None, None).await;
    assert_eq!((status, serde_json::from_slice::<Value>(&served).unwrap()), (200, doc));
}
