//! `myloware infra bootstrap` + `myloware serve --backend aws` against LocalStack: a whole run
//! through the served HTTP API, with the fake providers calling back over HTTP on their own.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

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
        .filter_map(|l| {
            l.strip_prefix("export ")?.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned()))
        })
        .collect();
    assert_eq!(exports.len(), 4, "{exports:?}");

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let _server = Server(
        bin()
            .args(["serve", "--backend", "aws", "--addr", &addr])
            .envs(exports)
            .env("MYLOWARE_API_KEYS", "serve-key")
            .env("MYLOWARE_SORA_WEBHOOK_SECRETS", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .env("MYLOWARE_REMOTION_WEBHOOK_SECRETS", "serve-remotion")
            .env("MYLOWARE_FAKE_CALLBACK_DELAY_MS", "200")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    );
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while http.get(format!("{base}/health")).send().await.is_err() {
        assert!(Instant::now() < deadline, "serve did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let started: Value = http
        .post(format!("{base}/v1/runs"))
        .header("x-api-key", "serve-key")
        .json(&json!({ "brief": "served run", "clips": 2 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = started["run_id"].as_str().expect("run id").to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let view: Value = http
            .get(format!("{base}/v1/runs/{id}"))
            .header("x-api-key", "serve-key")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let gate = match view["status"].as_str().unwrap_or_default() {
            "completed" => break,
            "awaiting_ideation_approval" => Some("ideation"),
            "awaiting_publish_approval" => Some("publish"),
            "failed" | "rejected" => panic!("run ended: {view}"),
            _ => None,
        };
        if let Some(gate) = gate {
            let r = http
                .post(format!("{base}/v1/runs/{id}/approve"))
                .header("x-api-key", "serve-key")
                .json(&json!({ "gate": gate }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
        assert!(Instant::now() < deadline, "run did not complete: {view}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}
