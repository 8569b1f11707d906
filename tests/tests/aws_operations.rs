//! Operator workflows on LocalStack over HTTP: a poisoned step stalls, lands in the DLQ and
//! finishes after the fix through a redrive or a replay; resolve + resume; cancel with late
//! callbacks answered "ignored"; fork of a finished run from its editing checkpoint.

use std::time::Duration;

use myloware_tests::{App, Options};
use reqwest::Method;
use serde_json::{Value, json};

fn three_quick_attempts(c: &mut myloware::config::EngineConfig) {
    c.retries = c
        .retries
        .clone()
        .with_max_attempts(3)
        .with_backoff(Duration::from_millis(300), Duration::from_secs(1));
}

fn app_opts() -> Options {
    Options { tune: Some(three_quick_attempts), ..Default::default() }
}

/// Take a one-clip run to production with the video API failing: it stalls there.
async fn stall_at_production(app: &App, brief: &str) -> String {
    let id = app.start_run(1, brief).await;
    app.wait_for(&id, "awaiting_ideation_approval").await;
    assert_eq!(app.decide(&id, "approve", "ideation").await.0, 200);
    let view = app.wait_for(&id, "stalled").await;
    assert_eq!(view["current_step"], "production", "{view}");
    assert_eq!(view["error"]["code"], "retries_exhausted", "{view}");
    assert_eq!(view["error"]["attempts"], 3, "{view}");
    assert!(view["error"]["message"].as_str().unwrap().contains("HTTP 503"), "{view}");
    id
}

/// The DLQ's messages once `n` are there.
async fn dlq_messages(app: &App, n: usize) -> Vec<Value> {
    for _ in 0..100 {
        let (code, body) = app.admin(Method::GET, "/v1/admin/dlq", Value::Null).await;
        assert_eq!(code, 200, "{body}");
        let msgs = body["messages"].as_array().cloned().unwrap_or_default();
        if msgs.len() >= n {
            return msgs;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the DLQ never held {n} message(s)");
}

/// Deliver the run's callbacks and approve publishing: it completes.
async fn finish(app: &App, id: &str) {
    app.wait_for(id, "awaiting_video_generation").await;
    for job in app.fakes.video.take_outbox() {
        assert_eq!(app.fakes.video.send(&job).await, Ok(200));
    }
    app.wait_for(id, "awaiting_render").await;
    for job in app.fakes.render.take_outbox() {
        assert_eq!(app.fakes.render.send(&job).await, Ok(200));
    }
    app.wait_for(id, "awaiting_publish_approval").await;
    assert_eq!(app.decide(id, "approve", "publish").await.0, 200);
    app.wait_for(id, "completed").await;
}

async fn audit_actions(app: &App, id: &str) -> Vec<String> {
    let (code, body) =
        app.admin(Method::GET, &format!("/v1/admin/runs/{id}/audit"), Value::Null).await;
    assert_eq!(code, 200, "{body}");
    body.as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_poisoned_step_stalls_into_the_dlq_and_a_redrive_after_the_fix_completes_the_run() {
    let app = App::spawn(app_opts()).await;
    app.fakes.video.outage_for_index(0, Some("HTTP 503 from the video API"));
    let id = stall_at_production(&app, "poison then redrive").await;
    let msgs = dlq_messages(&app, 1).await;
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    let m = &msgs[0];
    assert_eq!((m["run_id"].as_str(), m["step"].as_str()), (Some(id.as_str()), Some("production")));
    assert_eq!(
        (m["attempts"].as_u64(), m["error"]["code"].as_str()),
        (Some(3), Some("retries_exhausted"))
    );
    assert!(m["age_secs"].as_u64().is_some(), "{m}");
    let mid = m["message_id"].as_str().unwrap();
    let (code, one) = app.admin(Method::GET, &format!("/v1/admin/dlq/{mid}"), Value::Null).await;
    assert_eq!((code, one["run_id"].as_str()), (200, Some(id.as_str())), "{one}");
    // The normal key cannot touch the DLQ.
    assert_eq!(app.get("/v1/admin/dlq").await.0, 403);

    // The cause is fixed; redrive everything and follow the move task.
    app.fakes.video.outage_for_index(0, None);
    let (code, task) = app.admin(Method::POST, "/v1/admin/dlq/redrive", json!({})).await;
    assert_eq!(code, 202, "{task}");
    let handle = task["handle"].as_str().unwrap().to_owned();
    let mut done = false;
    let mut last = Value::Null;
    for _ in 0..100 {
        let path = format!("/v1/admin/dlq/redrive?handle={handle}");
        let (_, found) = app.admin(Method::GET, &path, Value::Null).await;
        last = found.clone();
        if found["task"]["status"] == "COMPLETED" {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(done, "the redrive task completed: {task} / {last}");
    finish(&app, &id).await;
    assert_eq!(app.fakes.video.jobs_started(), 1, "one paid video job in all");
    let actions = audit_actions(&app, &id).await;
    for a in ["run_stalled", "dlq_redriven", "run_redriven"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    assert!(dlq_messages(&app, 0).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replay_one_message_resolve_another_and_resume_its_run() {
    let app = App::spawn(app_opts()).await;
    app.fakes.video.outage_for_index(0, Some("HTTP 503 from the video API"));
    let a = stall_at_production(&app, "replayed run").await;
    let b = stall_at_production(&app, "resolved run").await;
    let msgs = dlq_messages(&app, 2).await;
    let mid = |run: &str| {
        msgs.iter().find(|m| m["run_id"] == run).unwrap()["message_id"].as_str().unwrap().to_owned()
    };
    app.fakes.video.outage_for_index(0, None);

    let (code, r) =
        app.admin(Method::POST, &format!("/v1/admin/dlq/{}/replay", mid(&a)), json!({})).await;
    assert_eq!((code, r["action"].as_str()), (200, Some("replayed")), "{r}");
    finish(&app, &a).await;

    let path = format!("/v1/admin/dlq/{}/resolve", mid(&b));
    let (code, r) = app.admin(Method::POST, &path, json!({ "reason": "handled by resume" })).await;
    assert_eq!((code, r["action"].as_str()), (200, Some("resolved")), "{r}");
    assert!(dlq_messages(&app, 0).await.is_empty(), "both left the DLQ");
    let (code, _) = app.admin(Method::POST, &path, json!({})).await;
    assert_eq!(code, 404, "a resolved message is gone");
    assert_eq!(
        app.get(&format!("/v1/runs/{b}")).await.1["status"],
        "stalled",
        "resolve runs nothing"
    );
    let (code, body) = app.post(&format!("/v1/runs/{b}/resume"), json!({})).await;
    assert_eq!((code, body["error"].as_str()), (403, Some("forbidden")), "a plain key: {body}");
    let (code, body) = app.operator(&format!("/v1/runs/{b}/resume"), json!({})).await;
    assert_eq!(code, 200, "{body}");
    finish(&app, &b).await;
    assert_eq!(app.fakes.video.jobs_started(), 2, "one paid job per run");
    assert!(audit_actions(&app, &a).await.contains(&"dlq_replayed".to_owned()));
    let b_actions = audit_actions(&app, &b).await;
    assert!(
        b_actions.contains(&"dlq_resolved".into()) && b_actions.contains(&"run_resumed".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancelled_run_answers_late_callbacks_ignored() {
    let app = App::spawn(Options::default()).await;
    let id = app.start_run(2, "cancel me while waiting").await;
    app.wait_for(&id, "awaiting_ideation_approval").await;
    assert_eq!(app.decide(&id, "approve", "ideation").await.0, 200);
    app.wait_for(&id, "awaiting_video_generation").await;
    let (code, body) =
        app.post(&format!("/v1/runs/{id}/cancel"), json!({ "reason": "wrong brief" })).await;
    assert_eq!((code, body["status"].as_str()), (200, Some("cancelled")), "{body}");
    for job in app.fakes.video.take_outbox() {
        let d = app.fakes.video.delivery(&job);
        let (code, ack) = app.webhook_owned(&d.path, &d.headers, &d.body).await;
        assert_eq!((code, ack["status"].as_str()), (200, Some("ignored")), "{ack}");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let view = app.get(&format!("/v1/runs/{id}")).await.1;
    assert_eq!(view["status"], "cancelled");
    let (code, again) = app.post(&format!("/v1/runs/{id}/cancel"), json!({})).await;
    assert_eq!((code, again["status"].as_str()), (200, Some("cancelled")), "idempotent");
    let (code, h) = app.get(&format!("/v1/runs/{id}/history")).await;
    assert_eq!(code, 200);
    let last = h["checkpoints"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["status"], "cancelled", "{h}");
    assert!(audit_actions(&app, &id).await.contains(&"run_cancelled".into()));
    let (code, body) = app.post(&format!("/v1/runs/{id}/cancel"), json!({ "reason": 5 })).await;
    assert_eq!((code, body["error"].as_str()), (422, Some("invalid_body")), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fork_from_the_editing_checkpoint_renders_again_without_new_video_jobs() {
    let app = App::spawn(Options::default()).await;
    let id = app.start_run(2, "fork me").await;
    app.wait_for(&id, "awaiting_ideation_approval").await;
    assert_eq!(app.decide(&id, "approve", "ideation").await.0, 200);
    finish(&app, &id).await;
    let (videos, renders) = (app.fakes.video.jobs_started(), app.fakes.render.jobs_started());
    let (_, h) = app.get(&format!("/v1/runs/{id}/history")).await;
    let editing = h["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["step"] == "editing")
        .expect("an editing checkpoint")["version"]
        .as_u64()
        .unwrap();
    let path = format!("/v1/runs/{id}/fork");
    let (code, _) = app.post(&path, json!({ "from_version": editing })).await;
    assert_eq!(code, 403, "forking restarts work: the operator scope");
    let (code, fork) = app.operator(&path, json!({ "from_version": editing })).await;
    assert_eq!(code, 201, "{fork}");
    assert_eq!(fork["forked_from"]["version"], editing);
    let fid = fork["run_id"].as_str().unwrap().to_owned();
    // The source had passed the ideation gate: the fork waits there, nothing paid yet.
    app.wait_for(&fid, "awaiting_ideation_approval").await;
    assert_eq!(app.fakes.render.jobs_started(), renders);
    assert_eq!(app.decide(&fid, "approve", "ideation").await.0, 200);
    app.wait_for(&fid, "awaiting_render").await;
    for job in app.fakes.render.take_outbox() {
        assert_eq!(app.fakes.render.send(&job).await, Ok(200));
    }
    app.wait_for(&fid, "awaiting_publish_approval").await;
    assert_eq!(app.decide(&fid, "approve", "publish").await.0, 200);
    app.wait_for(&fid, "completed").await;
    assert_eq!(app.fakes.video.jobs_started(), videos, "no new video jobs");
    assert_eq!(app.fakes.render.jobs_started(), renders + 1, "one new render");
    assert!(audit_actions(&app, &id).await.contains(&"run_forked".into()));
    let (code, bad) = app.operator(&path, json!({ "from_version": 9999 })).await;
    assert_eq!(code, 404, "{bad}");
}
