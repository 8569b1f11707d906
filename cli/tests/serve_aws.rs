//! `myloware infra bootstrap` + `myloware serve --backend aws` against LocalStack: a whole run
//! through the served HTTP API, with the fake providers calling back over HTTP on their own.

use std::process::{Command, Stdio};

use myloware_tests::http::{ApiClient, ChildGuard, free_port, wait_up};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_myloware"))
}

#[tokio::test]
async fn serve_runs_a_video_run_on_localstack() {
    assert!(std::env::var("AWS_ENDPOINT_URL").is_ok(), "needs LocalStack: run scripts/test-all.sh");
    let prefix = format!("s{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let out = bin().args(["infra", "bootstrap", "--prefix", &prefix]).output().expect("bootstrap");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let exports: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("export ")?.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(exports.len(), 4, "{exports:?}");

    let addr = format!("127.0.0.1:{}", free_port());
    let _server = ChildGuard(
        bin()
            .args(["serve", "--backend", "aws", "--addr", &addr])
            .envs(exports)
            .env("MYLOWARE_API_KEYS", "serve-key,serve-admin:admin")
            .env("MYLOWARE_OPENAI_WEBHOOK_SECRETS", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .env("MYLOWARE_REMOTION_WEBHOOK_SECRETS", "serve-remotion")
            .env("MYLOWARE_FAKE_CALLBACK_DELAY_MS", "200")
            .env_remove("MYLOWARE_PROVIDER_BASE_URL")
            .env("MYLOWARE_PROVIDERS", "all=fake")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    );
    let base = format!("http://{addr}");
    wait_up(&format!("{base}/health")).await;
    let api = ApiClient::new(&base, "serve-key");
    let id = api.start("served run", 2).await;
    let view = api.drive_to_end(&id).await;
    assert_eq!(view["status"], "completed", "{view}");
    // Deep health reads each AWS dependency: the table, the queue's depth, the bucket.
    let deep: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/health?deep=1"))
        .header("x-api-key", "serve-admin")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(deep["status"], "ok", "{deep}");
    for dependency in ["store", "queue", "blobs"] {
        assert_eq!(deep["checks"][dependency]["ok"], true, "{dependency}: {deep}");
    }
    assert!(deep["checks"]["queue"]["depth"].is_u64(), "SQS says its depth: {deep}");
}
