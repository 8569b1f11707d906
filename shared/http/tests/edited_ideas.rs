//! The ideation gate approved with a reviewer's edit, over the API: an edit that breaks the
//! project's schema is refused with 422 and the validation message before anything is paid or
//! written; a valid edit is what production uses, and the LLM's original stays in the run.

mod common;

use axum::http::StatusCode;
use myloware::engine::Disposition;
use serde_json::{Value, json};

async fn call(app: &axum::Router, method: &str, path: &str, body: Value) -> (StatusCode, Value) {
    common::call_json(app, "k1", method, path, body).await
}

/// Three clips of aismr, as a reviewer would rewrite them.
fn edit(overlay: &str) -> Value {
    json!({
        "title": "Three signs in glass",
        "prompts": [
            "A glass ram's horn tapped slowly with a silver spoon, macro",
            "A velvet bull figurine brushed with a soft brush, macro",
            "Two mirrored marbles rolling across felt, macro",
        ],
        "overlays": [overlay, "Taurus: velvet bull", "Gemini: twin marbles"],
        "caption": "Three signs, three textures",
    })
}

#[tokio::test]
async fn an_edited_idea_list_is_vetted_before_anything_is_paid() {
    let (app, fakes, backend, engine) = common::app_and_engine(&["k1"], Default::default());
    let (status, started) = call(
        &app,
        "POST",
        "/v1/runs",
        json!({ "brief": "zodiac glass", "project": "aismr", "clips": 3 }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let id = started["run_id"].as_str().unwrap().to_owned();
    let pump = || async {
        while let Some(m) = backend.queue.pop() {
            assert_eq!(engine.handle_message(&m, "test").await.unwrap(), Disposition::Ack);
        }
    };
    pump().await;
    let (_, run) = call(&app, "GET", &format!("/v1/runs/{id}"), Value::Null).await;
    assert_eq!(run["status"], "awaiting_ideation_approval", "{run}");
    let original = run["artifacts"]["ideas"].clone();
    let approve = format!("/v1/runs/{id}/approve");

    // Breaks aismr's schema (an overlay longer than its 40 characters): 422, naming the place.
    let long = "Aries: a glass horn tapped with a silver spoon at dawn";
    let (status, body) =
        call(&app, "POST", &approve, json!({ "gate": "ideation", "ideas": edit(long) })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"], "invalid_ideas", "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("/overlays/0") && detail.contains("longer than 40"), "{detail}");
    // The wrong count and a missing field are refused the same way.
    let mut two = edit("Aries: glass horn");
    two["prompts"].as_array_mut().unwrap().pop();
    let (status, body) =
        call(&app, "POST", &approve, json!({ "gate": "ideation", "ideas": two })).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_ideas"))
    );
    let mut untitled = edit("Aries: glass horn");
    untitled.as_object_mut().unwrap().remove("title");
    let (status, _) =
        call(&app, "POST", &approve, json!({ "gate": "ideation", "ideas": untitled })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // A term the project blocks, or one the safety checker blocks: refused as unsafe.
    let mut faces = edit("Aries: glass horn");
    faces["prompts"][1] = json!("A velvet bull held up to a smiling face, macro");
    let (status, body) =
        call(&app, "POST", &approve, json!({ "gate": "ideation", "ideas": faces })).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("content_blocked")),
        "{body}"
    );
    // Ideas only with an approval of the ideation gate.
    let (status, _) = call(
        &app,
        "POST",
        &format!("/v1/runs/{id}/reject"),
        json!({ "gate": "ideation", "ideas": edit("Aries: x") }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Nothing was paid or written by any of them.
    assert_eq!(fakes.video.submissions().total(), 0, "no video was paid for");
    let (_, still) = call(&app, "GET", &format!("/v1/runs/{id}"), Value::Null).await;
    assert_eq!(still["status"], "awaiting_ideation_approval");
    assert_eq!(still["version"], run["version"], "nothing written");
    assert!(backend.queue.is_empty());

    // A valid edit: production uses it, the original is kept with the decision.
    let good = edit("Aries: glass horn");
    let (status, body) = call(
        &app,
        "POST",
        &approve,
        json!({ "gate": "ideation", "ideas": good, "comment": "tighter" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Sent again (a client retry): the same decision, answered as a replay.
    let (status, again) =
        call(&app, "POST", &approve, json!({ "gate": "ideation", "ideas": good })).await;
    assert_eq!((status, again["replayed"].as_bool()), (StatusCode::OK, Some(true)), "{again}");
    pump().await;
    let prompts: Vec<String> = fakes.video.requests().into_iter().map(|r| r.prompt).collect();
    assert_eq!(
        prompts,
        good["prompts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    );
    assert_eq!(fakes.video.submissions().total(), 3, "each clip paid once");
    let (_, run) = call(&app, "GET", &format!("/v1/runs/{id}"), Value::Null).await;
    assert_eq!(run["artifacts"]["ideas"]["title"], "Three signs in glass");
    let decision = &run["decisions"][0];
    assert_eq!(decision["original_ideas"], original, "{run}");
    assert_eq!(decision["comment"], "tighter");
}
