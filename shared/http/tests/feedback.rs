//! `POST/GET /v1/runs/{id}/feedback`: one rating per caller per run, updated in place; bad
//! ratings and comments get clear errors; an unknown run is 404.

mod common;

use axum::http::StatusCode;
use serde_json::{Value, json};

use common::call_json as call;

#[tokio::test]
async fn one_rating_per_caller_per_run_updatable() {
    let (app, _fakes, _backend) =
        common::app_with(&["ann-key", "bob-key:operator", "eve-key"], Default::default());
    let (_, started) = call(&app, "ann-key", "POST", "/v1/runs", json!({ "brief": "b" })).await;
    let path = format!("/v1/runs/{}/feedback", started["run_id"].as_str().unwrap());

    let (status, first) = call(&app, "ann-key", "POST", &path, json!({ "rating": 2 })).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, again) = call(
        &app,
        "ann-key",
        "POST",
        &path,
        json!({ "rating": 5, "comment": "better on a second look" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the same caller updates: {again}");
    assert_eq!(again["created_at"], first["created_at"]);
    assert_eq!(again["comment"], "better on a second look");
    let (status, _) = call(&app, "bob-key", "POST", &path, json!({ "rating": 3 })).await;
    assert_eq!(status, StatusCode::CREATED, "an operator (who sees every run) adds its own");
    // Another plain key's principal does not see the run at all.
    let (status, err) = call(&app, "eve-key", "POST", &path, json!({ "rating": 1 })).await;
    assert_eq!((status, err["error"].as_str()), (StatusCode::NOT_FOUND, Some("run_not_found")));

    let (status, list) = call(&app, "bob-key", "GET", &path, Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["count"], 2, "{list}");
    assert_eq!(list["average"], 4.0);
    let ratings: Vec<u64> = list["feedback"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rating"].as_u64().unwrap())
        .collect();
    assert_eq!(ratings, [5, 3]);

    for (body, code) in [
        (json!({ "rating": 0 }), "invalid_rating"),
        (json!({ "rating": 6 }), "invalid_rating"),
        (json!({ "rating": 3, "comment": "x".repeat(2001) }), "invalid_comment"),
    ] {
        let (status, err) = call(&app, "ann-key", "POST", &path, body).await;
        assert_eq!((status, err["error"].as_str()), (StatusCode::BAD_REQUEST, Some(code)), "{err}");
    }
    let (status, err) = call(&app, "ann-key", "POST", &path, json!({ "rating": "five" })).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body"))
    );
    let (status, _) = call(&app, "nobody", "POST", &path, json!({ "rating": 3 })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let unknown = "/v1/runs/3f0e8a53-5b0e-4c47-9d7e-2f1f7c0f7a11/feedback";
    let (status, err) = call(&app, "ann-key", "POST", unknown, json!({ "rating": 3 })).await;
    assert_eq!((status, err["error"].as_str()), (StatusCode::NOT_FOUND, Some("run_not_found")));
    // The failed attempts changed nothing.
    let (_, list) = call(&app, "ann-key", "GET", &path, Value::Null).await;
    assert_eq!(list["count"], 2);
}
