//! OpenAI-style clients: chat completions for ideation, the videos API for clips.

use async_trait::async_trait;
use myloware::domain::{Ideas, JobId, ProjectName};
use myloware::ports::{
    JobStatus, LlmProvider, ProviderError, SafetyProvider, SafetyVerdict, VideoProvider,
    VideoRequest,
};
use serde::Deserialize;
use serde_json::json;

use super::http::{check, json, transport};

const IDEATION_PROMPT: &str = "You plan short vertical videos. Answer with a JSON object \
{\"title\": string, \"prompts\": [one visual prompt per clip], \"caption\": string} for the brief \
and clip count in the user message.";

/// Ideation through `POST /v1/chat/completions`.
#[derive(Debug, Clone)]
pub struct OpenAiLlm {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl OpenAiLlm {
    /// A client for the API at `base`.
    pub fn new(http: reqwest::Client, base: &str, key: &str) -> Self {
        Self { http, base: base.trim_end_matches('/').to_owned(), key: key.to_owned() }
    }
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    content: String,
}

#[async_trait]
impl LlmProvider for OpenAiLlm {
    async fn ideate(
        &self,
        project: &ProjectName,
        brief: &str,
        clips: u32,
    ) -> Result<Ideas, ProviderError> {
        let user =
            json!({ "project": project.as_str(), "brief": brief, "clips": clips }).to_string();
        let resp = self
            .http
            .post(format!("{}/v1/chat/completions", self.base))
            .bearer_auth(&self.key)
            .json(&json!({
                "model": "gpt-4o-mini",
                "response_format": { "type": "json_object" },
                "messages": [
                    { "role": "system", "content": IDEATION_PROMPT },
                    { "role": "user", "content": user },
                ],
            }))
            .send()
            .await
            .map_err(transport)?;
        let c: Completion = json(check(resp, "chat completion").await?, "chat completion").await?;
        let content = c.choices.into_iter().next().map(|c| c.message.content).unwrap_or_default();
        serde_json::from_str(&content).map_err(|e| {
            ProviderError::Terminal(format!("ideation output is not the expected JSON: {e}"))
        })
    }
}

/// Clips through `POST /v1/videos` (with `Idempotency-Key`) and `GET /v1/videos/{id}/content`.
#[derive(Debug, Clone)]
pub struct OpenAiVideo {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl OpenAiVideo {
    /// A client for the API at `base`.
    pub fn new(http: reqwest::Client, base: &str, key: &str) -> Self {
        Self { http, base: base.trim_end_matches('/').to_owned(), key: key.to_owned() }
    }
}

#[derive(Deserialize)]
struct Video {
    id: String,
}

#[async_trait]
impl VideoProvider for OpenAiVideo {
    async fn submit(&self, key: &str, req: &VideoRequest) -> Result<JobId, ProviderError> {
        let resp = self
            .http
            .post(format!("{}/v1/videos", self.base))
            .bearer_auth(&self.key)
            .header("Idempotency-Key", key)
            .json(&json!({
                "model": "sora-2",
                "prompt": req.prompt,
                "seconds": req.seconds.to_string(),
                "size": "720x1280",
            }))
            .send()
            .await
            .map_err(transport)?;
        let v: Video = json(check(resp, "create video").await?, "create video").await?;
        JobId::parse(&v.id).map_err(|e| ProviderError::Terminal(format!("video id: {e}")))
    }

    async fn download(&self, job: &JobId) -> Result<Vec<u8>, ProviderError> {
        let resp = self
            .http
            .get(format!("{}/v1/videos/{job}/content", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .map_err(transport)?;
        let bytes = check(resp, "video content").await?.bytes().await.map_err(transport)?;
        Ok(bytes.to_vec())
    }

    async fn status(&self, job: &JobId) -> Result<JobStatus, ProviderError> {
        let resp = self
            .http
            .get(format!("{}/v1/videos/{job}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .map_err(transport)?;
        let v: VideoStatus = json(check(resp, "retrieve video").await?, "retrieve video").await?;
        Ok(match v.status.as_str() {
            "completed" => JobStatus::Completed { output_url: None },
            "failed" => JobStatus::Failed {
                reason: v.error.map(|e| e.message).unwrap_or_else(|| "video failed".into()),
            },
            _ => JobStatus::Pending,
        })
    }
}

#[derive(Deserialize)]
struct VideoStatus {
    status: String,
    #[serde(default)]
    error: Option<VideoError>,
}

#[derive(Deserialize)]
struct VideoError {
    message: String,
}

/// Content safety through `POST /v1/moderations` (fail closed: any error is an error).
#[derive(Debug, Clone)]
pub struct OpenAiModeration {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl OpenAiModeration {
    /// A client for the API at `base`.
    pub fn new(http: reqwest::Client, base: &str, key: &str) -> Self {
        Self { http, base: base.trim_end_matches('/').to_owned(), key: key.to_owned() }
    }
}

#[derive(Deserialize)]
struct Moderation {
    results: Vec<ModerationResult>,
}

#[derive(Deserialize)]
struct ModerationResult {
    flagged: bool,
    #[serde(default)]
    categories: std::collections::BTreeMap<String, bool>,
}

#[async_trait]
impl SafetyProvider for OpenAiModeration {
    async fn check(&self, text: &str) -> Result<SafetyVerdict, ProviderError> {
        let resp = self
            .http
            .post(format!("{}/v1/moderations", self.base))
            .bearer_auth(&self.key)
            .json(&json!({ "model": "omni-moderation-latest", "input": text }))
            .send()
            .await
            .map_err(transport)?;
        let m: Moderation = json(check(resp, "moderation").await?, "moderation").await?;
        let r = m
            .results
            .into_iter()
            .next()
            .ok_or_else(|| ProviderError::Retryable("moderation: no result".into()))?;
        if !r.flagged {
            return Ok(SafetyVerdict::Safe);
        }
        let cats: Vec<String> =
            r.categories.into_iter().filter(|(_, v)| *v).map(|(k, _)| k).collect();
        Ok(SafetyVerdict::Blocked(format!("flagged by moderation: {}", cats.join(", "))))
    }
}
