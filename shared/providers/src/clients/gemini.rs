//! Google Veo through the Gemini API (ai.google.dev/gemini-api/docs/video):
//! `POST /v1beta/models/{model}:predictLongRunning` answers a long-running operation, polled at
//! `GET /v1beta/{name}` until `done`; the video is at
//! `response.generateVideoResponse.generatedSamples[0].video.uri`, fetched with the API key
//! (which follows a redirect to storage: the key goes to the API's host only). Polling is how a
//! Veo wait ends; Gemini's webhooks (beta) are optional.
//!
//! Money window: no idempotency key is documented. The intent is recorded before the call; a
//! crash between Gemini's answer and the record of the operation name starts a second, paid
//! generation.

use async_trait::async_trait;
use myloware::domain::{JobId, MAX_URL_CHARS, Provider};
use myloware::ports::{JobStatus, Media, ProviderError, VideoProvider, VideoRequest};
use myloware::webhooks::{job_id_of_operation, operation_of_job};
use serde_json::{Value, json};

use super::http::{get_json_or_none, post_json};
use super::media::{Credential, MediaFetcher, MediaPolicy};

/// Where a file download redirects to: Google's storage hosts (the redirect target is not
/// documented; these are where it has been seen to go).
const FILE_HOSTS: &[&str] = &["*.googleusercontent.com", "storage.googleapis.com"];

/// Where the Gemini API is and what to ask of Veo.
#[derive(Clone)]
pub struct GeminiSettings {
    /// `https://generativelanguage.googleapis.com`.
    pub base: String,
    /// API key (`x-goog-api-key`).
    pub key: String,
    /// The model, e.g. `veo-3.1-fast-generate-preview`.
    pub model: String,
    /// `9:16` or `16:9`.
    pub aspect_ratio: String,
    /// `720p`, `1080p`.
    pub resolution: String,
    /// A static webhook (`video.generated`) is configured for the project: the wait expects
    /// callbacks as well as polling.
    pub webhooks: bool,
    /// Origins its media may also come from (`MYLOWARE_VIDEO_MEDIA_ORIGINS`): trusted as written.
    pub media_origins: Vec<String>,
}

impl std::fmt::Debug for GeminiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeminiSettings")
            .field("base", &self.base)
            .field("model", &self.model)
            .field("webhooks", &self.webhooks)
            .finish_non_exhaustive()
    }
}

/// The adapter.
#[derive(Debug, Clone)]
pub struct Gemini {
    http: reqwest::Client,
    s: GeminiSettings,
    cred: Credential,
    media: MediaFetcher,
}

impl Gemini {
    /// A client for the API `s` describes.
    pub fn new(http: reqwest::Client, mut s: GeminiSettings) -> Self {
        s.base = s.base.trim_end_matches('/').to_owned();
        let cred = Credential::for_base("x-goog-api-key", s.key.clone(), &s.base);
        let origins = s.media_origins.iter().map(String::as_str);
        let media = MediaFetcher::new(MediaPolicy::new(&s.base, FILE_HOSTS).with_origins(origins));
        Self { http, s, cred, media }
    }

    /// The create request: its URL and body (the run's project's model, if it names one: a
    /// plain model id, never a path).
    pub fn create_request(&self, req: &VideoRequest) -> Result<(String, Value), ProviderError> {
        let model = match &req.model {
            Some(m) if m.model.contains('/') || m.model.contains("..") => {
                return Err(ProviderError::Terminal(format!(
                    "{:?} is not a Gemini model id (e.g. veo-3.1-fast-generate-preview)",
                    m.model
                )));
            }
            Some(m) => &m.model,
            None => &self.s.model,
        };
        let url = format!("{}/v1beta/models/{model}:predictLongRunning", self.s.base);
        // Veo takes 16:9 and 9:16; for another project ratio the closest orientation is asked
        // and the renderer pads to the project's size.
        let aspect = match req.aspect_ratio.as_deref() {
            Some(a @ ("16:9" | "9:16")) => a,
            Some("4:5") => "9:16",
            _ => self.s.aspect_ratio.as_str(),
        };
        let body = json!({
            "instances": [{ "prompt": req.prompt }],
            "parameters": {
                "aspectRatio": aspect,
                "resolution": self.s.resolution,
                "durationSeconds": req.seconds,
            },
        });
        Ok((url, body))
    }

    async fn operation(&self, job: &JobId) -> Result<Option<Value>, ProviderError> {
        let name = operation_of_job(job)
            .ok_or_else(|| ProviderError::Terminal(format!("{job} is not a Gemini operation")))?;
        let url = format!("{}/v1beta/{name}", self.s.base);
        get_json_or_none(&self.http, url, &self.cred, "get operation").await
    }
}

/// Where an operation stands.
pub fn operation_status(op: &Value) -> JobStatus {
    if !op["done"].as_bool().unwrap_or(false) {
        return JobStatus::Pending;
    }
    if let Some(err) = op.get("error").filter(|e| !e.is_null()) {
        let msg = err["message"].as_str().unwrap_or("generation failed");
        return JobStatus::Failed { reason: format!("{}: {msg}", err["code"]) };
    }
    let samples = &op["response"]["generateVideoResponse"]["generatedSamples"];
    match samples[0]["video"]["uri"].as_str() {
        Some(u) if u.chars().count() <= MAX_URL_CHARS => {
            JobStatus::Completed { output_url: Some(u.to_owned()) }
        }
        Some(_) => JobStatus::Failed { reason: "the video URI is too long".into() },
        None => {
            // Veo answers `done` without samples when its filters removed the video.
            let why = op["response"]["generateVideoResponse"]["raiMediaFilteredReasons"][0]
                .as_str()
                .unwrap_or("done without a video");
            JobStatus::Failed { reason: why.to_owned() }
        }
    }
}

#[async_trait]
impl VideoProvider for Gemini {
    fn provider(&self) -> Provider {
        Provider::Gemini
    }

    fn calls_back(&self) -> bool {
        self.s.webhooks
    }

    async fn submit(&self, _key: &str, req: &VideoRequest) -> Result<JobId, ProviderError> {
        let (url, body) = self.create_request(req)?;
        let op: Value =
            post_json(&self.http, url, &self.cred, &[], &body, "predictLongRunning").await?;
        let name = op["name"]
            .as_str()
            .ok_or_else(|| ProviderError::Terminal(format!("no operation name in {op}")))?;
        job_id_of_operation(name).map_err(|e| ProviderError::Terminal(format!("operation: {e}")))
    }

    async fn download(&self, job: &JobId, url: Option<&str>) -> Result<Media, ProviderError> {
        let url = match url {
            Some(u) => u.to_owned(),
            None => match self.operation(job).await?.as_ref().map(operation_status) {
                Some(JobStatus::Completed { output_url: Some(u) }) => u,
                other => {
                    return Err(ProviderError::Terminal(format!("{job} has no video: {other:?}")));
                }
            },
        };
        self.media.fetch(&url, Some(&self.cred), "Veo video").await
    }

    async fn status(&self, job: &JobId) -> Result<JobStatus, ProviderError> {
        Ok(match self.operation(job).await? {
            Some(op) => operation_status(&op),
            None => JobStatus::Unknown { detail: "operation not found (404)".into() },
        })
    }

    async fn check_media_url(&self, url: &str) -> Result<(), String> {
        self.media.check_hops(url, Some(&self.cred)).await
    }
}
