//! Operations through the CLI on the embedded backend, with the fake provider server as its own
//! process speaking the providers' HTTP APIs: a video API outage stalls a run into the DLQ,
//! `dlq list` shows it, `dlq redrive` after the fix finishes it, `dlq replay` finishes another;
//! callbacks that never come are found by polling the status APIs; `runs history`, `runs cancel`
//! and `runs fork` do what they say.

use std::process::{Command, Output, Stdio};

use myloware_tests::http::{
    ApiClient, ChildGuard, free_port, real_providers_at, spawn_fake_providers, wait_up,
};
use serde_json::{Value, json};

const OPENAI: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const REMOTION: &str = "ops-remotion-secret";

fn cli(base: &str, key: &str, args: &[&str]) -> String {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_myloware"))
        .args(args)
        .args(["--api-url", base, "--api-key", key])
        .output()
        .expect("run myloware");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn configure(fake: &str, patch: Value) {
    let r = reqwest::Client::new().post(format!("{fake}/_fake/config")).json(&patch).send().await;
    assert!(r.expect("configure").status().is_success());
}

async fn stats(fake: &str) -> Value {
    reqwest::get(format!("{fake}/_fake/stats")).await.unwrap().json().await.unwrap()
}

/// A one-clip run that stalls at production while the video API answers 503.
async fn stalled_run(api: &ApiClient, fake: &str, brief: &str) -> String {
    configure(fake, json!({ "video_submit_status": 503 })).await;
    let id = api.start(brief, 1).await;
    api.wait_status(&id, "awaiting_ideation_approval").await;
    assert_eq!(api.approve(&id, "ideation").await, 200);
    let v = api.wait_status(&id, "stalled").await;
    assert_eq!(v["error"]["attempts"], 2, "{v}");
    configure(fake, json!({ "video_submit_status": null })).await;
    id
}

#[tokio::test]
async fn dlq_and_run_operations_through_the_cli_on_the_embedded_backend() {
    let dir = std::env::temp_dir().join(format!("myloware-ops-{}", uuid::Uuid::new_v4().simple()));
    let (port, fake_port) = (free_port(), free_port());
    let base = format!("http://127.0.0.1:{port}");
    let fake = format!("http://127.0.0.1:{fake_port}");
    let bin = env!("CARGO_BIN_EXE_myloware");
    let _fake = spawn_fake_providers(bin, fake_port, &base, 200, OPENAI, REMOTION).await;
    let _serve = ChildGuard(
        Command::new(env!("CARGO_BIN_EXE_myloware"))
            .args(["serve", "--backend", "embedded", "--addr", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(&dir)
            .envs(real_providers_at(&fake, "openai"))
            .env("MYLOWARE_API_KEYS", "k,ops-admin:admin,oncall:operator")
            .env("MYLOWARE_OPENAI_WEBHOOK_SECRETS", OPENAI)
            .env("MYLOWARE_REMOTION_WEBHOOK_SECRETS", REMOTION)
            .env("MYLOWARE_MAX_ATTEMPTS", "2")
            .env("MYLOWARE_RETRY_BASE_MS", "200")
            .env("MYLOWARE_RETRY_CAP_SECS", "1")
            .env("MYLOWARE_POLL_AFTER_SECS", "1")
            .env("MYLOWARE_POLL_INTERVAL_SECS", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    );
    wait_up(&format!("{base}/health")).await;
    let api = ApiClient::new(&base, "k");

    // Poison → stalled → DLQ → fix → redrive → completed.
    let a = stalled_run(&api, &fake, "outage then redrive").await;
    let listed = cli(&base, "ops-admin", &["dlq", "list"]);
    assert!(listed.contains(&a) && listed.contains("production"), "{listed}");
    assert!(listed.contains("attempts 2") && listed.contains("retries_exhausted"), "{listed}");
    let redrive = cli(&base, "ops-admin", &["dlq", "redrive"]);
    assert!(redrive.contains("redrive completed: 1 moved"), "{redrive}");
    assert_eq!(api.drive_to_end(&a).await["status"], "completed");
    let history = cli(&base, "k", &["runs", "history", &a]);
    assert!(history.contains("stalled") && history.contains("retries_exhausted"), "{history}");
    assert!(history.contains("completed"), "{history}");

    // Replay one message.
    let b = stalled_run(&api, &fake, "outage then replay").await;
    let listed: Value =
        serde_json::from_str(&cli(&base, "ops-admin", &["dlq", "list", "--json"])).unwrap();
    let mid =
        listed["messages"].as_array().unwrap().iter().find(|m| m["run_id"] == b.as_str()).unwrap()
            ["message_id"]
            .as_str()
            .unwrap()
            .to_owned();
    let replayed = cli(&base, "ops-admin", &["dlq", "replay", &mid]);
    assert!(replayed.contains("replayed"), "{replayed}");
    assert_eq!(api.drive_to_end(&b).await["status"], "completed");
    assert!(cli(&base, "ops-admin", &["dlq", "list"]).contains("0 message(s)"));

    // Callbacks that never come: the status APIs are polled and the run completes.
    configure(&fake, json!({ "drop_callbacks": true })).await;
    let before = stats(&fake).await;
    let c = api.start("silent providers", 2).await;
    assert_eq!(api.drive_to_end(&c).await["status"], "completed", "found by polling");
    let after = stats(&fake).await;
    assert_eq!(after["callbacks_delivered"], before["callbacks_delivered"], "no callback came");
    configure(&fake, json!({ "drop_callbacks": false })).await;

    // Cancel a run waiting at its gate.
    let d = api.start("cancel me", 1).await;
    api.wait_status(&d, "awaiting_ideation_approval").await;
    let cancelled = cli(&base, "k", &["runs", "cancel", &d, "--reason", "changed my mind"]);
    assert!(cancelled.contains("cancelled"), "{cancelled}");

    // Fork the first run from its editing checkpoint: a new render, no new video jobs.
    let h: Value =
        serde_json::from_str(&cli(&base, "k", &["runs", "history", &a, "--json"])).unwrap();
    let editing = h["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["step"] == "editing")
        .unwrap()["version"]
        .to_string();
    let videos = stats(&fake).await["video_jobs"].clone();
    // Forking restarts work: a plain key may not; an operator key may.
    let refused = Command::new(env!("CARGO_BIN_EXE_myloware"))
        .args(["runs", "fork", &a, "--from-version", &editing, "--api-url", &base])
        .args(["--api-key", "k"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("operator scope"));
    let forked = cli(&base, "oncall", &["runs", "fork", &a, "--from-version", &editing]);
    let fork_id = forked.split_whitespace().next().unwrap().to_owned();
    // The fork waits at the gate its source had passed; approving it finishes the run.
    api.wait_status(&fork_id, "awaiting_ideation_approval").await;
    assert_eq!(api.drive_to_end(&fork_id).await["status"], "completed");
    assert_eq!(stats(&fake).await["video_jobs"], videos, "the fork paid for no video");
    let _ = std::fs::remove_dir_all(&dir);
}
