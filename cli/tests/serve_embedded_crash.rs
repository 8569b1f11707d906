//! Kill -9 the serving process after the video jobs were submitted and before their callbacks
//! arrived; restart `serve` on the same data directory: the run completes, the fake provider
//! server (its own process) counted exactly 3 video jobs, and no callback was lost (it retried the
//! ones it could not deliver while the server was down).

use std::process::{Command, Stdio};
use std::time::Duration;

use myloware_tests::http::{
    ApiClient, ChildGuard, free_port, real_providers_at, spawn_fake_providers, wait_up,
};
use serde_json::Value;

const OPENAI: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
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
            .envs(real_providers_at(&format!("http://127.0.0.1:{fake}"), "openai"))
            .env("MYLOWARE_API_KEYS", "k")
            .env("MYLOWARE_OPENAI_WEBHOOK_SECRETS", OPENAI)
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
    let _fake = spawn_fake_providers(bin, fake_port, &base, 3000, OPENAI, REMOTION).await;
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

/// `serve` with its fake providers in the process (no provider configured), killed with -9
/// three times: while production submits the clips, while the run waits for them, and while
/// the upload is being processed. The fake providers keep their jobs and pending callbacks in
/// the data directory, as a real provider keeps ours whatever happens to us: each restart picks
/// the run up, and it completes with exactly N video jobs, one render and one upload POST.
#[tokio::test]
async fn in_process_fakes_outlive_kill_9_during_production_the_clip_wait_and_publishing() {
    let dir =
        std::env::temp_dir().join(format!("myloware-inproc-{}", uuid::Uuid::new_v4().simple()));
    let dir = dir.display().to_string();
    std::fs::create_dir_all(&dir).unwrap();
    // Every life's logs, printed when the test fails.
    let log_file = format!("{dir}/serve.log");
    let _dump = DumpOnPanic(log_file.clone());
    let log = || {
        let f = std::fs::OpenOptions::new().create(true).append(true).open(&log_file);
        Stdio::from(f.expect("the log file"))
    };
    let (port, fake_port) = (free_port(), free_port());
    let base = format!("http://127.0.0.1:{port}");
    let fake = format!("http://127.0.0.1:{fake_port}");
    let serve = || {
        ChildGuard(
            Command::new(env!("CARGO_BIN_EXE_myloware"))
                .args(["serve", "--backend", "embedded", "--addr", &format!("127.0.0.1:{port}")])
                .args(["--data-dir", &dir])
                .env_remove("MYLOWARE_PROVIDER_BASE_URL")
                .env("MYLOWARE_PROVIDERS", "all=fake")
                .env("MYLOWARE_FAKE_PROVIDERS_ADDR", format!("127.0.0.1:{fake_port}"))
                .env("MYLOWARE_FAKE_CALLBACK_DELAY_MS", "2500")
                .env("MYLOWARE_API_KEYS", "k")
                .env("MYLOWARE_OPENAI_WEBHOOK_SECRETS", OPENAI)
                .env("MYLOWARE_REMOTION_WEBHOOK_SECRETS", REMOTION)
                .env("MYLOWARE_VISIBILITY_SECS", "3")
                .env("MYLOWARE_PUBLISH_POLL_AFTER_SECS", "1")
                .env("MYLOWARE_PUBLISH_POLL_INTERVAL_SECS", "1")
                // A callback that lands after a restart but before production correlated its
                // job again is answered "ignored" (docs/design.md): polling finds that job.
                .env("MYLOWARE_POLL_AFTER_SECS", "3")
                .env("MYLOWARE_POLL_INTERVAL_SECS", "2")
                .stdout(Stdio::null())
                .stderr(log())
                .spawn()
                .expect("serve"),
        )
    };
    let kill = |mut s: ChildGuard| {
        s.0.kill().unwrap();
        s.0.wait().unwrap();
    };
    let up = || async { wait_up(&format!("{base}/health")).await };
    let api = ApiClient::new(&base, "k");

    let mut server = serve();
    up().await;
    let id = api.start("outlive a crash", 3).await;
    api.wait_status(&id, "awaiting_ideation_approval").await;
    // Video submissions answer slowly: kill the server while production waits for one.
    let r = reqwest::Client::new()
        .post(format!("{fake}/_fake/config"))
        .json(&serde_json::json!({ "video_submit_delay_ms": 1500 }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(api.approve(&id, "ideation").await, 200);
    wait_for(&fake, |s| s["video_submissions"].as_u64() >= Some(1)).await;
    assert_eq!(api.view(&id).await["current_step"], "production");
    kill(server);

    // 1. Restarted during production: the step runs again; its jobs are found, not paid again.
    server = serve();
    up().await;
    api.wait_status(&id, "awaiting_video_generation").await;
    kill(server);
    // 2. Killed during the clip wait, down past the callbacks' due time.
    tokio::time::sleep(Duration::from_secs(3)).await;
    server = serve();
    up().await;
    api.wait_status(&id, "awaiting_publish_approval").await;
    assert_eq!(api.approve(&id, "publish").await, 200);
    api.wait_status(&id, "awaiting_publish").await;
    kill(server);
    // 3. Killed while the upload is processed at the provider.
    server = serve();
    up().await;
    let done = api.wait_status(&id, "completed").await;
    assert!(
        done["artifacts"]["published_url"].as_str().is_some_and(|u| u.starts_with("https://")),
        "{done}"
    );
    let s = stats(&fake).await;
    drop(server);
    println!("provider calls over three kills: {s}");
    assert_eq!(s["video_jobs"], 3, "exactly N video jobs: {s}");
    assert_eq!((s["render_jobs"].as_u64(), s["render_submissions"].as_u64()), (Some(1), Some(1)));
    assert_eq!((s["publish_jobs"].as_u64(), s["publish_posts"].as_u64()), (Some(1), Some(1)));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Wait until the fake providers' stats satisfy `ok` (30 s at most).
async fn wait_for(fake: &str, ok: impl Fn(&Value) -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = reqwest::get(format!("{fake}/_fake/stats")).await
            && let Ok(s) = r.json::<Value>().await
            && ok(&s)
        {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "the fake providers never got there");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Prints the servers' logs if the test fails while it is alive.
struct DumpOnPanic(String);

impl Drop for DumpOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.0).unwrap_or_default();
            eprintln!("--- serve logs ({}) ---\n{log}", self.0);
        }
    }
}
