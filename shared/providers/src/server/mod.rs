//! The fake provider server (`myloware fake-providers`, also started in-process by `demo` and by
//! `serve` for the providers in `fake` mode): every protocol the real clients in `clients/`
//! speak — OpenAI-style chat, moderation and videos, Replicate-style predictions, Gemini-style
//! Veo operations, a Remotion-style render API, an Upload-Post-style upload API and Telegram's Bot
//! API. It sends signed callbacks over real HTTP after a configurable delay,
//! retries undelivered ones as real providers do, can fail, delay, duplicate or reorder them,
//! and counts every request it is asked to start something with (calls) and every job it
//! started (distinct).
//!
//! A real provider does not forget our jobs when *we* crash. With a state file
//! ([`FakeServer::spawn_with_state`]) neither does this one: jobs, pending callbacks, counts
//! and its own address are kept in the file after every change, and a restarted server answers
//! status polls and delivers the callbacks still pending.
//!
//! Control: `GET /_fake/stats`, `POST /_fake/config` (a partial [`FakeConfig`] as JSON).

mod callbacks;
mod clips;
mod gemini;
mod openai;
mod remotion;
mod replicate;
mod state;
mod telegram;
mod upload_post;

pub use telegram::{Press, Pressed, SentMessage};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use myloware::time::{Clock, SystemClock};
use myloware::webhooks::WebhookSecret;
use serde::{Deserialize, Serialize};

/// Behaviour of the fake providers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct FakeConfig {
    /// Where video events are posted (as configured in OpenAI's dashboard), e.g.
    /// `http://127.0.0.1:8080/v1/webhooks/openai`.
    pub openai_webhook_url: Option<String>,
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
    /// Milliseconds a video submission takes to answer once its job has started (a slow API).
    pub video_submit_delay_ms: u64,
    /// Jobs finish but send no callback (the status APIs still answer): polling must find them.
    pub drop_callbacks: bool,
    /// The video status APIs answer "not found" for every job (an expired or purged job).
    pub forget_video_jobs: bool,
    /// The Telegram bot token the Bot API accepts (none: every call is 401).
    pub telegram_token: Option<String>,
    /// Where Telegram updates (button presses) are posted: our `/v1/webhooks/telegram`.
    pub telegram_webhook_url: Option<String>,
    /// The `secret_token` given to `setWebhook`, sent with every update.
    pub telegram_secret_token: Option<String>,
    /// Make every video a real test-pattern clip with this ffmpeg (else a tiny sample file).
    #[serde(skip)]
    pub clips: Option<myloware_media::Ffmpeg>,
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            openai_webhook_url: None,
            callback_delay_ms: 300,
            reorder_jitter_ms: 0,
            duplicate: false,
            video_failure: None,
            render_failure: None,
            blocked_words: vec!["kill".into()],
            moderation_delay_ms: 0,
            video_submit_status: None,
            video_submit_delay_ms: 0,
            drop_callbacks: false,
            forget_video_jobs: false,
            telegram_token: None,
            telegram_webhook_url: None,
            telegram_secret_token: None,
            clips: None,
        }
    }
}

/// What the fake providers were asked to do.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Stats {
    /// Chat completions answered.
    pub llm_calls: u64,
    /// Moderation checks answered.
    pub moderation_calls: u64,
    /// Every video submission received (a repeat of an idempotency key included).
    pub video_submissions: u64,
    /// Distinct video jobs started (billed).
    pub video_jobs: u64,
    /// Every render submission received.
    pub render_submissions: u64,
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
    /// Status requests about video jobs (every adapter's status API).
    pub video_status_polls: u64,
    /// Requests that carried a provider's credential to a host that is not the provider's API
    /// (media storage): a client bug this count must keep at zero.
    pub credential_leaks: u64,
    /// Bot API `sendMessage` calls with the bot's token.
    pub telegram_requests: u64,
}

/// The secrets the fake providers sign their callbacks with.
#[derive(Debug, Clone)]
pub struct FakeSecrets {
    /// OpenAI-style video events (Standard Webhooks).
    pub openai: WebhookSecret,
    /// Replicate prediction webhooks (Standard Webhooks; also served as the account's secret).
    pub replicate: WebhookSecret,
    /// Render callbacks (`sha512=` HMAC).
    pub remotion: WebhookSecret,
}

/// A job of the video or render API. Its state follows from the time: running until
/// `ready_at`, then done (or failed with `failure`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Job {
    failure: Option<String>,
    run_id: Option<String>,
    /// When the job finishes (unix ms).
    ready_at: i64,
    /// Where its callback goes, until it was delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    callback: Option<String>,
    /// What a video job was asked to show (none for renders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clip: Option<clips::Clip>,
}

impl Job {
    fn done(&self, now: i64) -> bool {
        now >= self.ready_at
    }
}

/// An upload of the Upload-Post API.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Upload {
    url: String,
    /// When the background upload finishes (unix ms).
    ready_at: i64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Jobs {
    videos: HashMap<String, Job>,
    video_keys: HashMap<String, String>,
    renders: HashMap<String, Job>,
    render_keys: HashMap<String, String>,
    /// Request id → upload.
    uploads: HashMap<String, Upload>,
    /// Replicate-style predictions.
    predictions: HashMap<String, Job>,
    /// Gemini-style operations.
    operations: HashMap<String, Job>,
    /// Telegram messages the bot sent, oldest first.
    telegram_messages: Vec<telegram::SentMessage>,
    /// `answerCallbackQuery` requests performed, oldest first.
    telegram_answers: Vec<serde_json::Value>,
}

struct Shared {
    config: RwLock<FakeConfig>,
    jobs: Mutex<Jobs>,
    stats: Mutex<Stats>,
    secrets: FakeSecrets,
    base_url: String,
    http: reqwest::Client,
    /// Where everything is kept, if anywhere.
    file: Option<PathBuf>,
    /// Serialises writes of the file.
    saving: Mutex<()>,
    /// Test clips made so far (job id, bytes), oldest first.
    clip_cache: Mutex<Vec<(String, Arc<Vec<u8>>)>>,
}

type AppState = Arc<Shared>;

impl Shared {
    fn bump(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut self.stats.lock().unwrap());
        self.persist();
    }

    /// Count a video status request; true when the jobs are to be answered "not found".
    fn video_status_asked(&self) -> bool {
        self.bump(|st| st.video_status_polls += 1);
        self.config.read().unwrap().forget_video_jobs
    }

    fn callback_delay(&self) -> Duration {
        let c = self.config.read().unwrap();
        let jitter =
            if c.reorder_jitter_ms > 0 { rand::random_range(0..c.reorder_jitter_ms) } else { 0 };
        Duration::from_millis(c.callback_delay_ms + jitter)
    }

    fn now_ms() -> i64 {
        SystemClock.now().millis()
    }
}

/// A running fake provider server.
#[derive(Clone)]
pub struct FakeServer {
    shared: AppState,
    addr: SocketAddr,
}

impl FakeServer {
    /// Bind `addr` (port 0 for any) and serve in the background; everything in memory.
    pub async fn spawn(
        addr: SocketAddr,
        secrets: FakeSecrets,
        config: FakeConfig,
    ) -> std::io::Result<Self> {
        Self::start(addr, secrets, config, None).await
    }

    /// [`FakeServer::spawn`], keeping jobs, pending callbacks, counts and the address in
    /// `file`. A server started again on the same file takes its jobs up where they were (and
    /// its old address when `addr` asks for any port and that one is free): status polls still
    /// answer and pending callbacks are delivered. `config` replaces the saved one.
    pub async fn spawn_with_state(
        addr: SocketAddr,
        secrets: FakeSecrets,
        config: FakeConfig,
        file: PathBuf,
    ) -> std::io::Result<Self> {
        Self::start(addr, secrets, config, Some(file)).await
    }

    async fn start(
        addr: SocketAddr,
        secrets: FakeSecrets,
        config: FakeConfig,
        file: Option<PathBuf>,
    ) -> std::io::Result<Self> {
        let saved = match &file {
            Some(f) => state::load(f)?,
            None => None,
        };
        let listener = state::bind(addr, saved.as_ref().and_then(|s| s.addr)).await?;
        let addr = listener.local_addr()?;
        let (jobs, stats) = saved.map(|s| (s.jobs, s.stats)).unwrap_or_default();
        let shared = Arc::new(Shared {
            config: RwLock::new(config),
            jobs: Mutex::new(jobs),
            stats: Mutex::new(stats),
            secrets,
            base_url: format!("http://{addr}"),
            http: crate::clients::plain_client(),
            file,
            saving: Mutex::new(()),
            clip_cache: Mutex::new(Vec::new()),
        });
        shared.persist();
        callbacks::resume_pending(&shared);
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

    /// The Telegram messages the bot sent, oldest first.
    pub fn telegram_messages(&self) -> Vec<SentMessage> {
        self.shared.jobs.lock().unwrap().telegram_messages.clone()
    }

    /// The `answerCallbackQuery` requests performed, oldest first.
    pub fn telegram_answers(&self) -> Vec<serde_json::Value> {
        self.shared.jobs.lock().unwrap().telegram_answers.clone()
    }

    /// A person presses a button (`POST /_fake/telegram/press`).
    pub async fn telegram_press(&self, press: &Press) -> Result<Pressed, String> {
        telegram::press_button(&self.shared, press).await
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
        .route("/v1/models/{owner}/{name}/predictions", post(replicate::create_for_model))
        .route("/v1/predictions", post(replicate::create_for_version))
        .route("/v1/predictions/{id}", get(replicate::get))
        .route("/v1/webhooks/default/secret", get(replicate::secret))
        .route("/replicate/files/{file}", get(replicate::file))
        .route("/v1beta/models/{model_action}", post(gemini::predict))
        .route("/v1beta/models/{model}/operations/{id}", get(gemini::operation))
        .route("/v1beta/files/{file}", get(gemini::download))
        .route("/gemini/blob/{file}", get(gemini::blob))
        .route("/{bot}/sendMessage", post(telegram::send_message))
        .route("/{bot}/answerCallbackQuery", post(telegram::answer_callback_query))
        .route("/_fake/telegram/press", post(telegram::press))
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
