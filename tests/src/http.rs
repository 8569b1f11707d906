//! Driving a served API from tests: start runs, approve gates as they come, wait for statuses,
//! and child processes that are killed when the test ends.

use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Statuses after which nothing moves a run automatically.
pub const TERMINAL: [&str; 4] = ["completed", "failed", "rejected", "cancelled"];

/// A child process killed (and reaped) on drop.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free local TCP port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Start `myloware fake-providers` (the binary at `bin`) on `port`, calling the OpenAI-compatible video webhook at
/// `<base>/v1/webhooks/openai` after `delay_ms`; returns once it answers.
pub async fn spawn_fake_providers(
    bin: &str,
    port: u16,
    base: &str,
    delay_ms: u64,
    openai_secret: &str,
    remotion_secret: &str,
) -> ChildGuard {
    let child = std::process::Command::new(bin)
        .args(["fake-providers", "--addr", &format!("127.0.0.1:{port}")])
        .args(["--delay-ms", &delay_ms.to_string()])
        .args(["--openai-webhook-url", &format!("{base}/v1/webhooks/openai")])
        .args(["--openai-secret", openai_secret, "--remotion-secret", remotion_secret])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("fake providers");
    let guard = ChildGuard(child);
    wait_up(&format!("http://127.0.0.1:{port}/_fake/stats")).await;
    guard
}

/// The environment of a process whose providers are all `real`, pointed at a fake provider
/// server at `base` (`myloware fake-providers`): the real clients, their keys and models, talking
/// to the fakes' protocols. `adapter` is `openai`, `replicate` or `gemini`.
pub fn real_providers_at(base: &str, adapter: &str) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("MYLOWARE_PROVIDERS", "all=real".to_owned()),
        ("MYLOWARE_PROVIDER_BASE_URL", base.to_owned()),
        ("MYLOWARE_VIDEO_ADAPTER", adapter.to_owned()),
        ("MYLOWARE_LLM_API_KEY", "llm-key".to_owned()),
        ("MYLOWARE_MODERATION_API_KEY", "moderation-key".to_owned()),
        ("MYLOWARE_RENDER_API_KEY", "render-key".to_owned()),
        ("MYLOWARE_UPLOAD_POST_API_KEY", "upload-key".to_owned()),
        ("MYLOWARE_UPLOAD_POST_USER", "myloware".to_owned()),
        // The fake serves files from another host name, as the providers do.
        ("MYLOWARE_VIDEO_MEDIA_ORIGINS", base.replacen("127.0.0.1", "localhost", 1)),
    ];
    match adapter {
        "replicate" => {
            env.push(("MYLOWARE_REPLICATE_API_TOKEN", "r8_test".to_owned()));
            env.push(("MYLOWARE_REPLICATE_MODEL", "google/veo-3.1-fast".to_owned()));
        }
        "gemini" => env.push(("MYLOWARE_GEMINI_API_KEY", "gemini-key".to_owned())),
        _ => {
            env.push(("MYLOWARE_OPENAI_VIDEO_API_KEY", "video-key".to_owned()));
            env.push(("MYLOWARE_OPENAI_VIDEO_MODEL", "sora-2".to_owned()));
        }
    }
    env
}

/// Wait until `url` answers at all (30 s at most).
pub async fn wait_up(url: &str) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while http.get(url).send().await.is_err() {
        assert!(Instant::now() < deadline, "{url} did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A runs-API client with a key.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl ApiClient {
    /// A client for the API at `base`.
    pub fn new(base: &str, key: &str) -> Self {
        Self { http: reqwest::Client::new(), base: base.to_owned(), key: key.to_owned() }
    }

    /// Start a run; returns its id.
    pub async fn start(&self, brief: &str, clips: u32) -> String {
        let r = self
            .http
            .post(format!("{}/v1/runs", self.base))
            .header("x-api-key", &self.key)
            .json(&json!({ "brief": brief, "clips": clips }))
            .send()
            .await
            .expect("start");
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        body["run_id"].as_str().expect("run id").to_owned()
    }

    /// `GET /v1/runs/{id}`.
    pub async fn view(&self, id: &str) -> Value {
        let r = self.http.get(format!("{}/v1/runs/{id}", self.base)).header("x-api-key", &self.key);
        r.send().await.expect("get").json().await.expect("json")
    }

    /// `approve` or `reject` `gate`; returns the HTTP status.
    pub async fn decide(&self, id: &str, action: &str, gate: &str) -> u16 {
        let r = self
            .http
            .post(format!("{}/v1/runs/{id}/{action}", self.base))
            .header("x-api-key", &self.key)
            .json(&json!({ "gate": gate }));
        r.send().await.expect("decide").status().as_u16()
    }

    /// Approve `gate`; returns the HTTP status.
    pub async fn approve(&self, id: &str, gate: &str) -> u16 {
        let r = self
            .http
            .post(format!("{}/v1/runs/{id}/approve", self.base))
            .header("x-api-key", &self.key)
            .json(&json!({ "gate": gate }));
        r.send().await.expect("approve").status().as_u16()
    }

    /// Poll until the run's status is `want` (60 s at most; a terminal status that is not `want`
    /// fails at once).
    pub async fn wait_status(&self, id: &str, want: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let v = self.view(id).await;
            let s = v["status"].as_str().unwrap_or_default();
            if s == want {
                return v;
            }
            assert!(!TERMINAL.contains(&s) && Instant::now() < deadline, "wanted {want}: {v}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Approve gates as they come until the run ends; returns the final view.
    pub async fn drive_to_end(&self, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let v = self.view(id).await;
            let gate = match v["status"].as_str().unwrap_or_default() {
                s if TERMINAL.contains(&s) => return v,
                "awaiting_ideation_approval" => Some("ideation"),
                "awaiting_publish_approval" => Some("publish"),
                _ => None,
            };
            if let Some(g) = gate {
                self.approve(id, g).await;
            }
            assert!(Instant::now() < deadline, "run {id} did not end: {v}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// `myloware demo` without `--auto-approve`, as started by a test: what it printed — the API's
/// base URL, its review console's page of the run, and the key to sign in with.
pub struct Demo {
    child: ChildGuard,
    /// The API and console's base URL.
    pub base: String,
    /// The run's console page.
    pub run_page: String,
    /// The demo's API key.
    pub key: String,
}

impl Demo {
    /// Start the demo binary `bin` with `args` after `demo`, and read its address and key.
    pub fn start(bin: &str, args: &[&str]) -> Self {
        use std::io::{BufRead, BufReader};
        let mut child = std::process::Command::new(bin)
            .arg("demo")
            .args(args)
            .env("MYLOWARE_LOG_FORMAT", "text")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start the demo");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let (mut base, mut key, mut run_page) = (None, None, None);
        let until = Instant::now() + Duration::from_secs(60);
        while base.is_none() || key.is_none() || run_page.is_none() {
            let left = until.saturating_duration_since(Instant::now());
            let line = rx.recv_timeout(left).unwrap_or_else(|_| {
                panic!("the demo did not print its console ({base:?}, {key:?}, {run_page:?})")
            });
            if let Some((_, b)) = line.split_once("API + webhooks") {
                base = Some(b.trim().to_owned());
            }
            if let Some((_, k)) = line.split_once("sign in with the API key ") {
                key = Some(k.trim_end_matches(')').to_owned());
            }
            if line.trim().starts_with("http://") && line.contains("/console/runs/") {
                run_page = Some(line.trim().to_owned());
            }
        }
        // Keep reading what it prints, or it blocks on a full pipe.
        std::thread::spawn(move || while rx.recv().is_ok() {});
        Demo {
            child: ChildGuard(child),
            base: base.unwrap(),
            run_page: run_page.unwrap(),
            key: key.unwrap(),
        }
    }

    /// Wait for the demo to exit.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.0.wait().expect("wait for the demo")
    }

    /// The run's id.
    pub fn run_id(&self) -> &str {
        self.run_page.rsplit('/').next().unwrap()
    }
}
