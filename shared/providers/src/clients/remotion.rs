//! A Remotion-style render service: `POST /api/render` with a callback URL, output download.

use async_trait::async_trait;
use myloware::domain::{JobId, OverlayStyle};
use myloware::ports::{JobStatus, Media, ProviderError, RenderProvider, RenderRequest};
use serde::Deserialize;
use serde_json::json;

use super::RenderSettings;
use super::http::{check, json, transport};
use super::media::{Credential, MediaFetcher, MediaPolicy};

/// The render client.
#[derive(Debug, Clone)]
pub struct RemotionRender {
    http: reqwest::Client,
    base: String,
    key: String,
    media: MediaFetcher,
}

impl RemotionRender {
    /// A client for the service `s` describes. Its outputs may come from its own origin and
    /// the origins the operator added (its public output URL, a bucket).
    pub fn new(http: reqwest::Client, s: &RenderSettings) -> Self {
        let base = s.base.trim_end_matches('/').to_owned();
        let origins = s.media_origins.iter().map(String::as_str);
        let media = MediaFetcher::new(MediaPolicy::new(&base, &[]).with_origins(origins));
        Self { http, base, key: s.key.clone(), media }
    }
}

/// The body of `POST /api/render` as the MyloWare render service reads it
/// (`../reference/providers.md` §7): labels go as `objects`, lines as `texts` (the project's
/// overlay style; for runs from before it was kept, the `aismr` template's labels, every other's
/// lines).
pub fn contract_body(req: &RenderRequest) -> serde_json::Value {
    let labels = match req.overlay_style {
        Some(style) => style == OverlayStyle::Label,
        None => req.template == "aismr",
    };
    let overlays = if labels { "objects" } else { "texts" };
    let mut body = json!({
        "run_id": req.run_id,
        "template": req.template,
        "clips": req.clip_urls,
        "duration_frames": req.duration_frames,
        "fps": req.fps,
        "width": req.width,
        "height": req.height,
        "callback_url": req.callback_url,
    });
    if !req.texts.is_empty() {
        body[overlays] = json!(req.texts);
    }
    body
}

impl RemotionRender {
    /// The service's key, bound to the service's origin.
    fn credential(&self) -> Credential {
        Credential::for_base("Authorization", format!("Bearer {}", self.key), &self.base)
    }
}

#[derive(Deserialize)]
struct Accepted {
    job_id: String,
}

#[async_trait]
impl RenderProvider for RemotionRender {
    async fn submit(&self, key: &str, req: &RenderRequest) -> Result<JobId, ProviderError> {
        let resp = self
            .http
            .post(format!("{}/api/render", self.base))
            .bearer_auth(&self.key)
            .header("Idempotency-Key", key)
            .json(&contract_body(req))
            .send()
            .await
            .map_err(transport)?;
        let a: Accepted = json(check(resp, "render").await?, "render").await?;
        JobId::parse(&a.job_id).map_err(|e| ProviderError::Terminal(format!("render job id: {e}")))
    }

    async fn fetch_output(
        &self,
        job: &JobId,
        output_url: Option<&str>,
    ) -> Result<Media, ProviderError> {
        let url = match output_url {
            Some(u) => u.to_owned(),
            None => format!("{}/output/{job}.mp4", self.base),
        };
        // The render service's key goes to the render service's host only, never to wherever
        // a callback said the output is.
        self.media.fetch(&url, Some(&self.credential()), "render output").await
    }

    async fn status(&self, job: &JobId) -> Result<JobStatus, ProviderError> {
        let resp = self
            .http
            .get(format!("{}/api/render/{job}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .map_err(transport)?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(JobStatus::Unknown { detail: format!("render {job} not found (404)") });
        }
        let s: RenderStatus = json(check(resp, "render status").await?, "render status").await?;
        Ok(match s.status.as_str() {
            "done" => JobStatus::Completed { output_url: s.output_url },
            "failed" | "error" => {
                JobStatus::Failed { reason: s.error.unwrap_or_else(|| "render failed".into()) }
            }
            _ => JobStatus::Pending,
        })
    }

    async fn check_media_url(&self, url: &str) -> Result<(), String> {
        self.media.check_hops(url, Some(&self.credential())).await
    }
}

#[derive(Deserialize)]
struct RenderStatus {
    status: String,
    #[serde(default)]
    output_url: Option<String>,
    #[serde(default)]
    error: Option<String>,
}
