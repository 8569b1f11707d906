//! Whole video runs on LocalStack: HTTP API → SQS → step handler → DynamoDB/S3, with the fake
//! providers calling the webhook routes over real HTTP with real signatures.

use myloware::domain::Step;
use myloware_tests::{App, Options};
use serde_json::Value;

/// The acceptance run: N=3, both gates approved over HTTP, video callbacks in reverse order, one
/// twice, one before the run registered its wait. Returns the final view and the step history.
async fn acceptance_run(app: &App) -> (Value, Vec<(u64, Step, String)>) {
    app.fakes.video.deliver_early(0);
    let id = app.start_run(3, "a calm ocean at dawn").await;
    app.wait_for(&id, "awaiting_ideation_approval").await;
    let (code, body) = app.decide(&id, "approve", "ideation").await;
    assert_eq!(code, 200, "{body}");
    app.wait_for(&id, "awaiting_video_generation").await;
    let mut jobs = app.fakes.video.take_outbox();
    assert_eq!(jobs.len(), 2, "clip 0's callback went out early, before the wait was registered");
    jobs.reverse();
    for job in &jobs {
        assert_eq!(app.fakes.video.send(job).await, Ok(200));
    }
    assert_eq!(app.fakes.video.send(&jobs[0]).await, Ok(200), "a provider retry is answered 200");
    app.wait_for(&id, "awaiting_render").await;
    let renders = app.fakes.render.take_outbox();
    assert_eq!(renders.len(), 1);
    assert_eq!(app.fakes.render.send(&renders[0]).await, Ok(200));
    app.wait_for(&id, "awaiting_publish_approval").await;
    let (code, body) = app.decide(&id, "approve", "publish").await;
    assert_eq!(code, 200, "{body}");
    let view = app.wait_for(&id, "completed").await;
    let run_id = id.parse().unwrap();
    let history = app
        .engine
        .store
        .history(&run_id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.version, c.step, c.status.to_string()))
        .collect();
    (view, history)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_run_completes_and_paid_jobs_are_counted_once() {
    let app = App::spawn(Options::default()).await;
    let (view, history) = acceptance_run(&app).await;
    assert_eq!(app.fakes.video.jobs_started(), 3);
    assert_eq!(app.fakes.render.jobs_started(), 1);
    assert_eq!(app.fakes.publish.jobs_started(), 1);

    let a = &view["artifacts"];
    assert_eq!(a["clips"].as_array().unwrap().len(), 3);
    for clip in a["clips"].as_array().unwrap() {
        assert!(clip["key"].as_str().unwrap().contains("/clips/"), "{clip}");
    }
    assert!(a["published_url"].as_str().unwrap().starts_with("https://"));
    assert_eq!(view["history_length"].as_u64().unwrap() as usize, history.len());
    // The presigned URL really serves the rendered video from S3.
    let url = a["final_video"]["url"].as_str().expect("final video url");
    let video = reqwest::get(url).await.unwrap();
    assert_eq!(video.status(), 200);
    assert!(video.bytes().await.unwrap().windows(4).any(|w| w == b"ftyp"));

    let steps: Vec<Step> = history.iter().map(|h| h.1).collect();
    for s in Step::WORKFLOW {
        assert!(steps.contains(&s), "history {history:?} lacks {s}");
    }
    let versions: Vec<u64> = history.iter().map(|h| h.0).collect();
    assert_eq!(
        versions,
        (1..=versions.len() as u64).collect::<Vec<_>>(),
        "one checkpoint per version"
    );

    let (code, list) = app.get("/v1/runs?status=completed&limit=5").await;
    assert_eq!(code, 200);
    assert_eq!(list["runs"][0]["run_id"], view["run_id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_message_delivered_twice_ends_identical() {
    let once = App::spawn(Options::default()).await;
    let (view_once, history_once) = acceptance_run(&once).await;
    let twice = App::spawn(Options { duplicate_messages: true, ..Default::default() }).await;
    let (view_twice, history_twice) = acceptance_run(&twice).await;
    let dups = twice.driver.as_ref().unwrap().duplicates_sent();
    assert!(
        dups >= history_twice.len(),
        "the driver duplicated every step message ({dups} copies)"
    );
    assert_eq!(twice.fakes.video.jobs_started(), 3);
    assert_eq!(twice.fakes.render.jobs_started(), 1);
    assert_eq!(twice.fakes.publish.jobs_started(), 1);
    assert_eq!(view_once["status"], view_twice["status"]);
    assert_eq!(view_once["version"], view_twice["version"]);
    let strip = |h: &[(u64, Step, String)]| {
        h.iter().map(|(v, s, st)| (*v, *s, st.clone())).collect::<Vec<_>>()
    };
    assert_eq!(strip(&history_once), strip(&history_twice));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_video_fails_the_run_and_a_rejected_gate_rejects_it() {
    let app = App::spawn(Options::default()).await;
    app.fakes.video.fail_index(1, "content_policy_violation: the prompt was refused");
    let failing = app.start_run(2, "waves").await;
    app.wait_for(&failing, "awaiting_ideation_approval").await;
    // Wrong gate → 409, unknown run → 404, bad body → 400/422, no key → 401.
    let (code, body) = app.decide(&failing, "approve", "publish").await;
    assert_eq!((code, body["error"].as_str()), (409, Some("not_waiting_at_gate")));
    let (code, _) = app.decide("3f0e8a53-5b0e-4c47-9d7e-2f1f7c0f7a11", "approve", "ideation").await;
    assert_eq!(code, 404);
    let (code, body) =
        app.post(&format!("/v1/runs/{failing}/approve"), serde_json::json!({"gate": "nope"})).await;
    assert_eq!((code, body["error"].as_str()), (422, Some("invalid_body")));
    let r = reqwest::Client::new()
        .post(format!("{}/v1/runs", app.base_url))
        .json(&serde_json::json!({"brief": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    assert_eq!(app.decide(&failing, "approve", "ideation").await.0, 200);
    app.wait_for(&failing, "awaiting_video_generation").await;
    for job in app.fakes.video.take_outbox() {
        app.fakes.video.send(&job).await.unwrap();
    }
    let view = app.wait_for_terminal(&failing).await;
    assert_eq!(view["status"], "failed");
    assert_eq!(view["error"]["code"], "video_failed");
    assert!(
        view["error"]["message"].as_str().unwrap().contains("content_policy_violation"),
        "{view}"
    );
    assert_eq!(app.fakes.render.jobs_started(), 0, "a failed run never renders");

    let rejected = app.start_run(2, "clouds").await;
    app.wait_for(&rejected, "awaiting_ideation_approval").await;
    let (code, body) = app.decide(&rejected, "reject", "ideation").await;
    assert_eq!((code, body["status"].as_str()), (200, Some("rejected")));
    let view = app.wait_for_terminal(&rejected).await;
    assert_eq!(view["status"], "rejected");
    assert_eq!(view["decisions"][0]["decision"], "reject");
    let audit = app.engine.store.audit_log(&rejected.parse().unwrap()).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "gate_rejected");
}
