//! An Upload-Post-style publisher: `POST /api/upload` (multipart), answered with the post URL or
//! a request id whose status is polled.

use std::time::Duration;

use async_trait::async_trait;
use myloware::ports::{ProviderError, PublishProvider, PublishRequest, Published};
use serde_json::Value;

use super::http::{check, json, transport};

/// The publish client.
#[derive(Debug, Clone)]
pub struct UploadPost {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl UploadPost {
    /// A client for the API at `base`.
    pub fn new(http: reqwest::Client, base: &str, key: &str) -> Self {
        Self { http, base: base.trim_end_matches('/').to_owned(), key: key.to_owned() }
    }
}

/// The post URL wherever the API put it (`post_url|url|…`, top level or nested).
fn find_url(v: &Value) -> Option<String> {
    for k in ["post_url", "published_url", "url", "canonicalUrl", "link"] {
        if let Some(u) = v.get(k).and_then(Value::as_str) {
            return Some(u.to_owned());
        }
    }
    match v {
        Value::Object(m) => m.values().find_map(find_url),
        Value::Array(a) => a.iter().find_map(find_url),
        _ => None,
    }
}

#[async_trait]
impl PublishProvider for UploadPost {
    async fn publish(&self, key: &str, req: &PublishRequest) -> Result<Published, ProviderError> {
        let form = reqwest::multipart::Form::new()
            .text("video", req.video_url.clone())
            .text("title", req.caption.clone())
            .text("user", "myloware")
            .text("platform[]", "tiktok");
        let resp = self
            .http
            .post(format!("{}/api/upload", self.base))
            .header("Authorization", format!("Apikey {}", self.key))
            .header("Idempotency-Key", key)
            .multipart(form)
            .send()
            .await
            .map_err(transport)?;
        let body: Value = json(check(resp, "upload").await?, "upload").await?;
        if body.get("success").and_then(Value::as_bool) == Some(false) {
            return Err(ProviderError::Terminal(format!("upload refused: {body}")));
        }
        if let Some(url) = find_url(&body) {
            return Ok(Published { url });
        }
        // Background processing: poll the status briefly (longer waits are a poll message, #5).
        let Some(request_id) = body.get("request_id").and_then(Value::as_str) else {
            return Err(ProviderError::Terminal(format!(
                "upload answered neither a URL nor a request id: {body}"
            )));
        };
        for _ in 0..20 {
            let resp = self
                .http
                .get(format!("{}/api/uploadposts/status", self.base))
                .query(&[("request_id", request_id)])
                .header("Authorization", format!("Apikey {}", self.key))
                .send()
                .await
                .map_err(transport)?;
            let status: Value = json(check(resp, "upload status").await?, "upload status").await?;
            if let Some(url) = find_url(&status) {
                return Ok(Published { url });
            }
            let s = status.get("status").and_then(Value::as_str).unwrap_or_default();
            if ["failed", "error", "rejected", "canceled", "cancelled"].contains(&s) {
                return Err(ProviderError::Terminal(format!("upload {s}: {status}")));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Err(ProviderError::Retryable(format!("upload {request_id} still processing")))
    }
}
