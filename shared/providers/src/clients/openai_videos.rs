//! An OpenAI-compatible Videos API (`/v1/videos`), as the gateways that kept OpenAI's shape
//! serve it after OpenAI shut Sora down (2026-09-24): `POST /v1/videos`, `GET
//! /v1/videos/{id}`, `GET /v1/videos/{id}/content`, and `video.completed|failed` events signed
//! with Standard Webhooks at the endpoint configured in the gateway's dashboard
//! (developers.openai.com/api/docs/guides/video-generation; docs.merge.dev/merge-gateway).
//!
//! Money window: the API documents no idempotency key. An `Idempotency-Key` header is sent
//! anyway (a gateway that honours it returns the same job); where it is ignored, a crash between
//! the gateway's answer and the record of the job id starts a second, paid job.

use async_trait::async_trait;
use myloware::domain::{JobId, Provider};
use myloware::ports::{JobStatus, Media, ProviderError, VideoProvider, VideoRequest};
use serde::Deserialize;
use serde_json::json;

use super::http::{check, json, post_json, transport};
use super::media::{Credential, MediaFetcher, MediaPolicy};

/// Where the API is and what to ask of it.
#[derive(Clone)]
pub struct OpenAiVideoSettings {
    /// Base URL (without `/v1`), e.g. `https://api-gateway.merge.dev`.
    pub base: String,
    /// Bearer key.
    pub key: String,
    /// The model (`sora-2` at OpenAI; gateway slugs elsewhere, e.g. `minimax/minimax-h3`).
    pub model: String,
    /// Frame size, e.g. `720x1280` (gateways take model-specific values such as `768P`).
    pub size: String,
    /// Send `seconds` as a JSON number (Merge) instead of OpenAI's string enum.
    pub seconds_as_number: bool,
    /// Origins its media may also come from (`MYLOWARE_VIDEO_MEDIA_ORIGINS`): trusted as written.
    pub media_origins: Vec<String>,
}

impl std::fmt::Debug for OpenAiVideoSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiVideoSettings")
            .field("base", &self.base)
            .field("model", &self.model)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// The adapter.
#[derive(Debug, Clone)]
pub struct OpenAiVideos {
    http: reqwest::Client,
    s: OpenAiVideoSettings,
    cred: Credential,
    media: MediaFetcher,
}

impl OpenAiVideos {
    /// A client for the API `s` describes.
    pub fn new(http: reqwest::Client, mut s: OpenAiVideoSettings) -> Self {
        s.base = s.base.trim_end_matches('/').to_owned();
        let cred = Credential::for_base("Authorization", format!("Bearer {}", s.key), &s.base);
        // Content is served by the API itself (`/v1/videos/{id}/content`).
        let origins = s.media_origins.iter().map(String::as_str);
        let media = MediaFetcher::new(MediaPolicy::new(&s.base, &[]).with_origins(origins));
        Self { http, s, cred, media }
    }

    /// The create request's body.
    pub fn create_body(&self, req: &VideoRequest) -> serde_json::Value {
        let seconds = if self.s.seconds_as_number {
            json!(req.seconds)
        } else {
            json!(req.seconds.to_string())
        };
        let model = req.model.as_ref().map_or(&self.s.model, |m| &m.model);
        let size = oriented(&self.s.size, req.aspect_ratio.as_deref());
        json!({ "model": model, "prompt": req.prompt, "seconds": seconds, "size": size })
    }
}

/// The configured `WxH` size turned to the run's orientation (landscape for `16:9`, portrait
/// for `9:16` and `4:5`); square, unknown and non-`WxH` sizes (a gateway's `768P`) as written.
fn oriented(size: &str, aspect: Option<&str>) -> String {
    let Some((a, b)) = size
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
    else {
        return size.to_owned();
    };
    let (long, short) = (a.max(b), a.min(b));
    match aspect {
        Some("16:9") => format!("{long}x{short}"),
        Some("9:16" | "4:5") => format!("{short}x{long}"),
        _ => size.to_owned(),
    }
}

#[derive(Deserialize)]
struct Video {
    id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    error: Option<VideoError>,
}

#[derive(Deserialize)]
struct VideoError {
    #[serde(default)]
    code: Option<String>,
    message: String,
}

#[async_trait]
impl VideoProvider for OpenAiVideos {
    fn provider(&self) -> Provider {
        Provider::OpenAi
    }

    async fn submit(&self, key: &str, req: &VideoRequest) -> Result<JobId, ProviderError> {
        let url = format!("{}/v1/videos", self.s.base);
        let extra = [("Idempotency-Key", key)];
        let body = self.create_body(req);
        let v: Video =
            post_json(&self.http, url, &self.cred, &extra, &body, "create video").await?;
        JobId::parse(&v.id).map_err(|e| ProviderError::Terminal(format!("video id: {e}")))
    }

    async fn download(&self, job: &JobId, _url: Option<&str>) -> Result<Media, ProviderError> {
        let url = format!("{}/v1/videos/{job}/content", self.s.base);
        self.media.fetch(&url, Some(&self.cred), "video content").await
    }

    async fn status(&self, job: &JobId) -> Result<JobStatus, ProviderError> {
        let resp = self
            .http
            .get(format!("{}/v1/videos/{job}", self.s.base))
            .header(self.cred.header, &self.cred.value)
            .send()
            .await
            .map_err(transport)?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            let body: String = resp.text().await.unwrap_or_default().chars().take(300).collect();
            return Ok(JobStatus::Unknown { detail: format!("404: {body}") });
        }
        let v: Video = json(check(resp, "retrieve video").await?, "retrieve video").await?;
        Ok(video_status(&v.status, v.error))
    }

    async fn check_media_url(&self, url: &str) -> Result<(), String> {
        self.media.check_hops(url, Some(&self.cred)).await
    }
}

fn video_status(status: &str, error: Option<VideoError>) -> JobStatus {
    match status {
        "completed" => JobStatus::Completed { output_url: None },
        "failed" => JobStatus::Failed {
            reason: error
                .map(|e| match e.code {
                    Some(c) => format!("{c}: {}", e.message),
                    None => e.message,
                })
                .unwrap_or_else(|| "video failed".into()),
        },
        _ => JobStatus::Pending,
    }
}
