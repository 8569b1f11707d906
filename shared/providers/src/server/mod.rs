//! The fake provider server (`myloware fake-providers`, also started in-process by `demo`): an
//! OpenAI-style API (chat completions, videos), a Remotion-style render API and an Upload-Post-
//! style upload API, close enough for the real clients in `clients/`. It sends signed callbacks
//! over real HTTP after a configurable delay, retries undelivered ones as real providers do, can
//! fail, delay, duplicate or reorder them, and counts every job it is asked to start.
//!
//! Control: `GET /_fake/stats`, `POST /_fake/config` (a partial [`FakeConfig`] as JSON).

mod callbacks;
mod openai;
mod remotion;
mod upload_post;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use myloware::webhooks::WebhookSecret;
use serde::{Deserialize, Serialize};

/// Behaviour of the fake providers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct FakeConfig {
    /// Where video events are posted (as configured in OpenAI's dashboard), e.g.
    /// `http://127.0.0.1:8080/v1/webhooks/sora`.
    pub sora_webhook_url: Option<String>,
    /// Milliseconds from job start to its callback.
    pub callback_delay_ms: u64,
    /// Up to this many extra random milliseconds per callback (reorders them).
    pub reorder_jitter_ms: u64,
    /// Send every callback twice.
    pub duplicate: bool,
    /// Fail every video job with this reason.
    pub video_failure: Option<String>,
    /// Fail every render with this reason.
    pub render_failure: Option<String>,
    /// Words the moderation endpoint flags (case-insensitive).
    pub blocked_words: Vec<String>,
    /// Milliseconds the moderation endpoint takes to answer.
    pub moderation_delay_ms: u64,
    /// Answer video submissions with this HTTP status and start nothing (e.g. 503: an outage).
    pub video_submit_status: Option<u16>,
    /// Jobs finish but send no callback (the status APIs still answer): polling must find them.
    pub drop_callbacks: bool,
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            sora_webhook_url: None,
            callback_delay_ms: 300,
            reorder_jitter_ms: 0,
            duplicate: false,
            video_failure: None,
            render_failure: None,
            blocked_words: vec!["kill".into()],
            moderation_delay_ms: 0,
            video_submit_status: None,
            drop_callbacks: false,
        }
    }
}

/// What the fake providers were asked to do.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Stats {
    /// Chat completions answered.
    pub llm_calls: u64,
    /// Moderation checks answered.
    pub moderation_calls: u64,
    /// Distinct video jobs started (billed).
    pub video_jobs: u64,
    /// Distinct renders started (billed).
    pub render_jobs: u64,
    /// Distinct uploads.
    pub publish_jobs: u64,
    /// Every upload POST received (a repeated request id included).
    pub publish_posts: u64,
    /// Callbacks answered 2xx.
    pub callbacks_delivered: u64,
    /// Callback attempts that failed (and were retried).
    pub callback_attempts_failed: u64,
}

#[derive(Default)]
struct Jobs {
    videos: HashMap<String, Job>,
    video_keys: HashMap<String, String>,
    renders: HashMap<String, Job>,
    render_keys: HashMap<String, String>,
    /// Request id → upload.
    uploads: HashMap<String, Upload>,
}

#[derive(Clone)]
struct Upload {
    url: String,
    /// When the background upload finishes (unix ms).
    ready_at: i64,
}

#[derive(Clone)]
struct Job {
    status: &'static str,
    failure: Option<String>,
    run_id: Option<String>,
}

struct Shared {
    config: RwLock<FakeConfig>,
    jobs: Mutex<Jobs>,
    stats: Mutex<Stats>,
    sora_secret: WebhookSecret,
    remotion_secret: WebhookSecret,
    base_url: String,
    http: reqwest::Client,
}

type AppState = Arc<Shared>;

impl Shared {
    fn bump(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut self.stats.lock().unwrap());
    }

    /// Keep the jobs and counts (a no-op until the server has a state file).
    fn persist(&self) {}

    fn callback_delay(&self) -> Duration {
        let c = self.config.read().unwrap();
        let jitter =
            if c.reorder_jitter_ms > 0 { rand::random_range(0..c.reorder_jitter_ms) } else { 0 };
        Duration::from_millis(c.callback_delay_ms + jitter)
    }
}

/// A running fake provider server.
#[derive(Clone)]
pub struct FakeServer {
    shared: AppState,
    addr: SocketAddr,
}

impl FakeServer {
    /// Bind `addr` (port 0 for any) and serve in the background.
    pub async fn spawn(
        addr: SocketAddr,
        sora_secret: WebhookSecret,
        remotion_secret: WebhookSecret,
        config: FakeConfig,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            config: RwLock::new(config),
            jobs: Mutex::default(),
            stats: Mutex::default(),
            sora_secret,
            remotion_secret,
            base_url: format!("http://{addr}"),
            http: crate::clients::plain_client(),
        });
        let app = router(shared.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "fake provider server stopped");
            }
        });
        Ok(Self { shared, addr })
    }

    /// `http://<addr>`.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Counts so far.
    pub fn stats(&self) -> Stats {
        self.shared.stats.lock().unwrap().clone()
    }

    /// Change the behaviour.
    pub fn configure(&self, f: impl FnOnce(&mut FakeConfig)) {
        f(&mut self.shared.config.write().unwrap());
    }
}

fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(openai::chat_completions))
        .route("/v1/moderations", post(openai::moderations))
        .route("/v1/videos", post(openai::create_video))
        .route("/v1/videos/{id}", get(openai::get_video))
        .route("/v1/videos/{id}/content", get(openai::video_content))
        .route("/api/render", post(remotion::render))
        .route("/api/render/{id}", get(remotion::status))
        .route("/output/{file}", get(remotion::output))
        .route("/api/upload", post(upload_post::upload))
        .route("/api/uploadposts/status", get(upload_post::status))
        .route("/_fake/stats", get(stats))
        .route("/_fake/config", post(configure).get(config))
        .with_state(state)
}

async fn stats(State(s): State<AppState>) -> axum::Json<Stats> {
    axum::Json(s.stats.lock().unwrap().clone())
}

async fn config(State(s): State<AppState>) -> axum::Json<FakeConfig> {
    axum::Json(s.config.read().unwrap().clone())
}

async fn configure(
    State(s): State<AppState>,
    axum::Json(patch): axum::Json<serde_json::Value>,
) -> Result<axum::Json<FakeConfig>, (axum::http::StatusCode, String)> {
    let mut cfg = s.config.write().unwrap();
    let mut current = serde_json::to_value(&*cfg).expect("config serialises");
    if let (Some(cur), Some(p)) = (current.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            cur.insert(k.clone(), v.clone());
        }
    }
    *cfg = serde_json::from_value(current)
        .map_err(|e| (axum::http::StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    Ok(axum::Json(cfg.clone()))
}

/// An id like the providers': `<prefix>_<32 hex>`.
fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}
