//! Kill -9 the serving process after the video jobs were submitted and before their callbacks
//! arrived; restart `serve` on the same data directory: the run completes, the fake provider
//! server (its own process) counted exactly 3 video jobs, and no callback was lost (it retried the
//! ones it could not deliver while the server was down).

use std::process::{Command, Stdio};
use std::time::Duration;

use myloware_tests::http::{ApiClient, ChildGuard, free_port, spawn_fake_providers, wait_up};
use serde_json::Value;

const SORA: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const REMOTION: &str = "crash-remotion-secret";

fn serve(port: u16, fake: u16, dir: &str) -> ChildGuard {
    ChildGuard(
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

async fn stats(fake_base: &str) -> Value {
    reqwest::get(format!("{fake_base}/_fake/stats")).await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn a_killed_server_finishes_the_run_after_restart_without_paying_twice() {
    let dir =
        std::env::temp_dir().join(format!("myloware-crash-{}", uuid::Uuid::new_v4().simple()));
    let dir = dir.display().to_string();
    let (port, fake_port) = (free_port(), free_port());
    let base = format!("http://127.0.0.1:{port}");
    let fake_base = format!("http://127.0.0.1:{fake_port}");
    let bin = env!("CARGO_BIN_EXE_myloware");
    let _fake = spawn_fake_providers(bin, fake_port, &base, 3000, SORA, REMOTION).await;
    let mut server = serve(port, fake_port, &dir);
    wait_up(&format!("{base}/health")).await;
    let api = ApiClient::new(&base, "k");

    let id = api.start("survive a crash", 3).await;
    api.wait_status(&id, "awaiting_ideation_approval").await;
    assert_eq!(api.approve(&id, "ideation").await, 200);
    api.wait_status(&id, "awaiting_video_generation").await;
    let s = stats(&fake_base).await;
    assert_eq!(s["video_jobs"], 3);
    assert_eq!(s["callbacks_delivered"], 0, "killed before any callback arrived");

    // kill -9, and keep it down past the callbacks' due time.
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(4000)).await;
    let down = stats(&fake_base).await;
    assert!(
        down["callback_attempts_failed"].as_u64().unwrap() >= 1,
        "callbacks failed while down: {down}"
    );

    server = serve(port, fake_port, &dir);
    wait_up(&format!("{base}/health")).await;
    api.wait_status(&id, "awaiting_publish_approval").await;
    assert_eq!(api.approve(&id, "publish").await, 200);
    api.wait_status(&id, "completed").await;
    drop(server);

    let s = stats(&fake_base).await;
    assert_eq!((s["video_jobs"].as_u64(), s["render_jobs"].as_u64()), (Some(3), Some(1)), "{s}");
    assert!(s["callbacks_delivered"].as_u64().unwrap() >= 4, "every callback landed: {s}");
}
