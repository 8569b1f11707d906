//! Provider ports: LLM, safety, video, render, publish, and the sink providers call back through.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::{Ideas, IdeationGuide, JobId, ProjectName, Provider, RunId};

/// Provider failures, classified so the runner knows whether to retry.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ProviderError {
    /// Transient (timeouts, 429, 5xx): retry the step.
    #[error("provider temporarily unavailable: {0}")]
    Retryable(String),
    /// Permanent (rejected request, blocked content): fail the run with this reason.
    #[error("provider refused: {0}")]
    Terminal(String),
}

/// What the ideator is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdeationAsk {
    /// The project.
    pub project: ProjectName,
    /// The brief.
    pub brief: String,
    /// Clips wanted.
    pub clips: u32,
    /// How the project's ideator writes (none for runs from before projects).
    pub guide: Option<IdeationGuide>,
}

/// The ideator.
#[async_trait]
pub trait LlmProvider: Send + Sync {
    /// Turn a brief into a title, one prompt and one overlay per clip, and a caption.
    async fn ideate(&self, ask: &IdeationAsk) -> Result<Ideas, ProviderError>;
}

/// A content-safety verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SafetyVerdict {
    /// The text may be used.
    Safe,
    /// The text is blocked, with the reason.
    Blocked(String),
}

/// The content-safety checker. Errors block (fail closed).
#[async_trait]
pub trait SafetyProvider: Send + Sync {
    /// Check one text.
    async fn check(&self, text: &str) -> Result<SafetyVerdict, ProviderError>;
}

/// One clip to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoRequest {
    /// The run it belongs to.
    pub run_id: RunId,
    /// Clip position.
    pub index: u32,
    /// The visual prompt.
    pub prompt: String,
    /// Clip length in seconds (4, 8 or 12).
    pub seconds: u32,
    /// The run's project's model (the adapter's configured one when `None`).
    pub model: Option<crate::domain::VideoModel>,
    /// The project's aspect ratio (`9:16`, `16:9`, `1:1`, `4:5`; the adapter's configured
    /// one when `None`). Each adapter asks for it where its API takes it.
    pub aspect_ratio: Option<String>,
}

/// A job's state as the provider's status API reports it (the polling fallback for callbacks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStatus {
    /// Queued or in progress.
    Pending,
    /// Done; the output may be fetched (`output_url` when the provider says where).
    Completed {
        /// Where the output is.
        output_url: Option<String>,
    },
    /// Failed at the provider.
    Failed {
        /// The provider's reason.
        reason: String,
    },
    /// The provider does not know this job (never received it, or forgot it).
    Unknown {
        /// The provider's words.
        detail: String,
    },
}

/// A paid video generator: jobs finish minutes later, and the provider calls back (or is
/// polled). One adapter per provider API (`myloware-providers`), chosen by configuration.
#[async_trait]
pub trait VideoProvider: Send + Sync {
    /// Which provider this is: its callbacks come to `/v1/webhooks/<name>`, and its jobs meet
    /// their waits under this name.
    fn provider(&self) -> Provider;
    /// Whether its jobs call back when they finish (false: the wait polls from the start, and
    /// polling is how it ends).
    fn calls_back(&self) -> bool {
        true
    }
    /// Start a job. `idempotency_key` is stable across retries of the same intent, so a provider
    /// that honours it never starts (or bills) a second job for it.
    async fn submit(
        &self,
        idempotency_key: &str,
        req: &VideoRequest,
    ) -> Result<JobId, ProviderError>;
    /// Download a finished job's video; `output_url` is where its callback or status said the
    /// file is (providers that serve content by job id ignore it).
    async fn download(
        &self,
        job: &JobId,
        output_url: Option<&str>,
    ) -> Result<super::Media, ProviderError>;
    /// Ask the status API where a job stands (a late callback, or a provider that never calls
    /// back); `Unknown` when the provider does not know the job.
    async fn status(&self, job: &JobId) -> Result<JobStatus, ProviderError>;
    /// Whether `url` — named by a callback or a status answer, so from outside — is one this
    /// adapter would fetch: its scheme, host and the addresses the host resolves to (the
    /// providers' `media.rs`). Checked before the URL is recorded; the reason when not.
    async fn check_media_url(&self, url: &str) -> Result<(), String>;
}

/// One render to assemble: the fields of the MyloWare render-service contract
/// (`POST /api/render`), which a built-in renderer honours the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderRequest {
    /// How the template draws `texts` (by template when `None`: runs from before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlay_style: Option<crate::domain::OverlayStyle>,
    /// The run it belongs to (echoed in the callback).
    pub run_id: RunId,
    /// The template (`aismr`, `motivational`, …).
    pub template: String,
    /// The clips, in order, as URLs the renderer can GET.
    pub clip_urls: Vec<String>,
    /// One overlay text per clip (the contract's `texts`, or `objects` for `aismr`); may be
    /// empty.
    pub texts: Vec<String>,
    /// Title over the whole video.
    pub title: String,
    /// Caption over the whole video's end.
    pub caption: String,
    /// Length in frames (clips × seconds × fps).
    pub duration_frames: u32,
    /// Frames per second.
    pub fps: u32,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Where the renderer calls back.
    pub callback_url: String,
}

/// The built-in renderer's job for an idempotency key: the same key, the same job, so a
/// retried submit finds it (on this machine or through the render queue on AWS).
pub fn builtin_render_job(key: &str) -> JobId {
    use sha2::{Digest, Sha256};
    let hash = hex::encode(&Sha256::digest(key.as_bytes())[..12]);
    JobId::parse(&format!("render_{hash}")).expect("a valid job id")
}

/// What the built-in renderer's callback names as the output: a reference only it resolves
/// (to its own file or object), never a URL anyone fetches.
pub const BUILTIN_RENDER_OUTPUT: &str = "ffmpeg-render://output/";

/// The output reference of built-in render `job`.
pub fn builtin_render_output(job: &JobId) -> String {
    format!("{BUILTIN_RENDER_OUTPUT}{job}.mp4")
}

/// The job a built-in output reference names, if it is one.
pub fn builtin_render_output_job(url: &str) -> Option<JobId> {
    let job = url.strip_prefix(BUILTIN_RENDER_OUTPUT)?.strip_suffix(".mp4")?;
    JobId::parse(job).ok().filter(|j| !j.as_str().contains(['/', '.']))
}

/// The paid renderer (Remotion-style).
#[async_trait]
pub trait RenderProvider: Send + Sync {
    /// Start a render.
    async fn submit(
        &self,
        idempotency_key: &str,
        req: &RenderRequest,
    ) -> Result<JobId, ProviderError>;
    /// Fetch a finished render's output.
    async fn fetch_output(
        &self,
        job: &JobId,
        output_url: Option<&str>,
    ) -> Result<super::Media, ProviderError>;
    /// Ask the status API where a render stands (used when its callback is late).
    async fn status(&self, job: &JobId) -> Result<JobStatus, ProviderError>;
    /// Whether `url` — named by a callback or a status answer, so from outside — is one this
    /// adapter would fetch: its scheme, host and the addresses the host resolves to (the
    /// providers' `media.rs`). Checked before the URL is recorded; the reason when not.
    async fn check_media_url(&self, url: &str) -> Result<(), String>;
}

/// What to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishRequest {
    /// The run it belongs to.
    pub run_id: RunId,
    /// A URL the publisher can GET the video from.
    pub video_url: String,
    /// Title.
    pub title: String,
    /// Caption (the one for platforms without their own).
    pub caption: String,
    /// The project's platforms (the configured ones when empty).
    pub platforms: Vec<String>,
    /// The project's profile (the configured one when `None`).
    pub user: Option<String>,
    /// Each platform's caption, within its limit, hashtags included.
    pub captions: std::collections::BTreeMap<String, String>,
}

/// The publisher (Upload-Post-style). Uploads run in the background at the provider under a
/// request id *we* choose, so a lost answer is found again by asking, never by posting again.
#[async_trait]
pub trait PublishProvider: Send + Sync {
    /// Start the upload `request_id` (asynchronous at the provider); where it stands after.
    async fn publish(
        &self,
        request_id: &str,
        req: &PublishRequest,
    ) -> Result<JobStatus, ProviderError>;
    /// Where the upload `request_id` stands (`Completed` carries the post's URL when the
    /// provider gives one); `Unknown` when the provider never received it.
    async fn status(&self, request_id: &str) -> Result<JobStatus, ProviderError>;
}

/// A signed HTTP callback as a provider sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Path and query, e.g. `/v1/webhooks/openai`.
    pub path: String,
    /// Headers, as sent.
    pub headers: Vec<(String, String)>,
    /// The exact body bytes that were signed.
    pub body: Vec<u8>,
}

/// Where a provider sends its callbacks (the webhook function's HTTP endpoint).
#[async_trait]
pub trait CallbackSink: Send + Sync {
    /// POST the delivery; returns the HTTP status.
    async fn deliver(&self, delivery: &Delivery) -> Result<u16, String>;
}
