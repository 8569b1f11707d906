//! Kill -9 the serving process after the video jobs were submitted and before their callbacks
//! arrived; restart `serve` on the same data directory: the run completes, the fake provider
//! server (its own process) counted exactly 3 video jobs, and no callback was lost (it retried the
//! ones it could not deliver while the server was down).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const SORA: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const REMOTION: &str = "crash-remotion-secret";

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn serve(port: u16, fake: u16, dir: &str) -> Proc {
    Proc(
        Command::new(env!("CARGO_BIN_EXE_myloware"))
            .args([
                "serve",
                "--backend",
                "embedded",
                "--addr",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
                dir,
            ])
            .env("MYLOWARE_PROVIDER_BASE_URL", format!("http://127.0.0.1:{fake}"))
            .env("MYLOWARE_API_KEYS", "k")
            .env("MYLOWARE_SORA_WEBHOOK_SECRETS", SORA)
            .env("MYLOWARE_REMOTION_WEBHOOK_SECRETS", REMOTION)
            .env("MYLOWARE_VISIBILITY_SECS", "3")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    )
}

async fn wait_up(http: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while http.get(url).send().await.is_err() {
        assert!(Instant::now() < deadline, "{url} did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn status(http: &reqwest::Client, base: &str, id: &str) -> Value {
    http.get(format!("{base}/v1/runs/{id}"))
        .header("x-api-key", "k")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn wait_status(http: &reqwest::Client, base: &str, id: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = status(http, base, id).await;
        if v["status"] == want {
            return;
        }
        assert!(Instant::now() < deadline, "wanted {want}: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn approve(http: &reqwest::Client, base: &str, id: &str, gate: &str) {
    let r = http
        .post(format!("{base}/v1/runs/{id}/approve"))
        .header("x-api-key", "k")
        .json(&json!({ "gate": gate }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_killed_server_finishes_the_run_after_restart_without_paying_twice() {
    let dir =
        std::env::temp_dir().join(format!("myloware-crash-{}", uuid::Uuid::new_v4().simple()));
    let dir = dir.display().to_string();
    let (port, fake_port) = (free_port(), free_port());
    let base = format!("http://127.0.0.1:{port}");
    let fake_base = format!("http://127.0.0.1:{fake_port}");
    let _fake = Proc(
        Command::new(env!("CARGO_BIN_EXE_myloware"))
            .args([
                "fake-providers",
                "--addr",
                &format!("127.0.0.1:{fake_port}"),
                "--delay-ms",
                "1500",
            ])
            .args(["--sora-webhook-url", &format!("{base}/v1/webhooks/sora")])
            .args(["--sora-secret", SORA, "--remotion-secret", REMOTION])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("fake providers"),
    );
    let http = reqwest::Client::new();
    wait_up(&http, &format!("{fake_base}/_fake/stats")).await;
    let mut server = serve(port, fake_port, &dir);
    wait_up(&http, &format!("{base}/health")).await;

    let started: Value = http
        .post(format!("{base}/v1/runs"))
        .header("x-api-key", "k")
        .json(&json!({ "brief": "survive a crash", "clips": 3 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = started["run_id"].as_str().unwrap().to_owned();
    wait_status(&http, &base, &id, "awaiting_ideation_approval").await;
    approve(&http, &base, &id, "ideation").await;
    wait_status(&http, &base, &id, "awaiting_video_generation").await;
    let stats: Value =
        http.get(format!("{fake_base}/_fake/stats")).send().await.unwrap().json().await.unwrap();
    assert_eq!(stats["video_jobs"], 3);
    assert_eq!(stats["callbacks_delivered"], 0, "killed before any callback arrived");

    // kill -9, and keep it down past the callbacks' due time.
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let down: Value =
        http.get(format!("{fake_base}/_fake/stats")).send().await.unwrap().json().await.unwrap();
    assert!(
        down["callback_attempts_failed"].as_u64().unwrap() >= 1,
        "callbacks failed while down: {down}"
    );

    server = serve(port, fake_port, &dir);
    wait_up(&http, &format!("{base}/health")).await;
    wait_status(&http, &base, &id, "awaiting_publish_approval").await;
    approve(&http, &base, &id, "publish").await;
    wait_status(&http, &base, &id, "completed").await;
    drop(server);

    let stats: Value =
        http.get(format!("{fake_base}/_fake/stats")).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (stats["video_jobs"].as_u64(), stats["render_jobs"].as_u64()),
        (Some(3), Some(1)),
        "{stats}"
    );
    assert!(stats["callbacks_delivered"].as_u64().unwrap() >= 4, "every callback landed: {stats}");
}
