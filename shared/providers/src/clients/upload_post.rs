//! Upload-Post: `POST /api/upload` (multipart, `async_upload=true`, our `request_id`), then
//! `GET /api/uploadposts/status?request_id=` until the upload completes or fails
//! (docs.upload-post.com/api/upload-video, …/api/upload-status, …/guides/async-uploads).
//! The request id is ours, so a lost answer is found again by asking, never by posting again.

use async_trait::async_trait;
use myloware::ports::{JobStatus, ProviderError, PublishProvider, PublishRequest};
use serde_json::Value;

use super::http::{check, json, transport};

/// Where Upload-Post is, and as whom and where to publish.
#[derive(Clone)]
pub struct PublishSettings {
    /// `https://api.upload-post.com`.
    pub base: String,
    /// API key (`Authorization: Apikey <key>`).
    pub key: String,
    /// The profile (`user`) to publish as.
    pub user: String,
    /// Platforms (`platform[]`): `tiktok`, `instagram`, `youtube`, …
    pub platforms: Vec<String>,
}

impl std::fmt::Debug for PublishSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublishSettings")
            .field("base", &self.base)
            .field("user", &self.user)
            .field("platforms", &self.platforms)
            .finish_non_exhaustive()
    }
}

/// The publish client.
#[derive(Debug, Clone)]
pub struct UploadPost {
    http: reqwest::Client,
    s: PublishSettings,
}

impl UploadPost {
    /// A client for the API and profile `s` describes.
    pub fn new(http: reqwest::Client, mut s: PublishSettings) -> Self {
        s.base = s.base.trim_end_matches('/').to_owned();
        Self { http, s }
    }

    fn auth(&self) -> String {
        format!("Apikey {}", self.s.key)
    }

    /// The multipart fields of an upload, in order: the run's project's profile and platforms
    /// where it names them (the configured ones otherwise), the caption as `title`, and a
    /// `{platform}_title` for each platform whose caption differs (another length limit).
    pub fn upload_fields(&self, id: &str, req: &PublishRequest) -> Vec<(String, String)> {
        let user = req.user.clone().unwrap_or_else(|| self.s.user.clone());
        let platforms = if req.platforms.is_empty() { &self.s.platforms } else { &req.platforms };
        let mut fields = vec![("user".to_owned(), user)];
        fields.extend(platforms.iter().map(|p| ("platform[]".to_owned(), p.clone())));
        fields.extend([
            ("video".to_owned(), req.video_url.clone()),
            ("title".to_owned(), req.caption.clone()),
        ]);
        for (platform, caption) in &req.captions {
            if platforms.contains(platform) && *caption != req.caption {
                fields.push((format!("{platform}_title"), caption.clone()));
            }
        }
        fields.extend([
            ("async_upload".to_owned(), "true".to_owned()),
            ("request_id".to_owned(), id.to_owned()),
        ]);
        fields
    }
}

/// The post URL wherever the API put it (`post_url|url|…`, top level or nested): which field
/// carries it is not documented.
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

/// The platforms' own words about a failed upload.
fn failure_reason(v: &Value) -> String {
    let messages: Vec<String> = v["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["success"].as_bool() != Some(true))
        .filter_map(|r| {
            let msg = r["message"].as_str().or(r["error"].as_str())?;
            Some(format!("{}: {msg}", r["platform"].as_str().unwrap_or("upload")))
        })
        .collect();
    if messages.is_empty() {
        v["message"].as_str().or(v["error"].as_str()).unwrap_or("upload failed").to_owned()
    } else {
        messages.join("; ")
    }
}

/// An upload's state from a status answer (or an upload answer that already carries results).
pub fn upload_status(v: &Value) -> JobStatus {
    match v["status"].as_str().unwrap_or_default() {
        "completed" | "success" => JobStatus::Completed { output_url: find_url(v) },
        "failed" | "error" => JobStatus::Failed { reason: failure_reason(v) },
        "not_found" => JobStatus::Unknown { detail: "request_id not found".into() },
        _ => JobStatus::Pending,
    }
}

#[async_trait]
impl PublishProvider for UploadPost {
    async fn publish(&self, id: &str, req: &PublishRequest) -> Result<JobStatus, ProviderError> {
        let form = self
            .upload_fields(id, req)
            .into_iter()
            .fold(reqwest::multipart::Form::new(), |f, (k, v)| f.text(k, v));
        let resp = self
            .http
            .post(format!("{}/api/upload", self.s.base))
            .header("Authorization", self.auth())
            .header("X-Request-Id", id)
            .multipart(form)
            .send()
            .await
            .map_err(transport)?;
        let body: Value = json(check(resp, "upload").await?, "upload").await?;
        if body.get("success").and_then(Value::as_bool) == Some(false) {
            return Err(ProviderError::Terminal(format!(
                "upload refused: {}",
                failure_reason(&body)
            )));
        }
        // Asynchronous: the answer only acknowledges; some answers already carry the result.
        Ok(match upload_status(&body) {
            JobStatus::Unknown { .. } => JobStatus::Pending,
            s => s,
        })
    }

    async fn status(&self, id: &str) -> Result<JobStatus, ProviderError> {
        let resp = self
            .http
            .get(format!("{}/api/uploadposts/status", self.s.base))
            .query(&[("request_id", id)])
            .header("Authorization", self.auth())
            .send()
            .await
            .map_err(transport)?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(JobStatus::Unknown { detail: format!("request_id {id} not found (404)") });
        }
        let body: Value = json(check(resp, "upload status").await?, "upload status").await?;
        Ok(upload_status(&body))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn statuses_from_the_documented_answers() {
        // docs.upload-post.com/api/upload-status
        let pending =
            json!({"request_id":"r1","status":"pending","completed":0,"total":null,"results":[]});
        assert_eq!(upload_status(&pending), JobStatus::Pending);
        let done = json!({"request_id":"r1","status":"completed","completed":1,"total":1,
            "results":[{"platform":"tiktok","success":true,"post_url":"https://www.tiktok.com/@a/video/1"}]});
        assert_eq!(
            upload_status(&done),
            JobStatus::Completed { output_url: Some("https://www.tiktok.com/@a/video/1".into()) }
        );
        let failed = json!({"request_id":"r1","status":"failed",
            "results":[{"platform":"tiktok","success":false,"message":"video too long"}]});
        assert_eq!(
            upload_status(&failed),
            JobStatus::Failed { reason: "tiktok: video too long".into() }
        );
        assert!(matches!(upload_status(&json!({"status":"not_found"})), JobStatus::Unknown { .. }));
    }

    #[test]
    fn the_projects_targets_and_captions_go_in_the_upload() {
        // docs.upload-post.com/api/upload-video: `user`, `platform[]`, `title`, `{platform}_title`.
        let client = UploadPost::new(
            reqwest::Client::new(),
            PublishSettings {
                base: "https://api.upload-post.com".into(),
                key: "k".into(),
                user: "configured".into(),
                platforms: vec!["tiktok".into()],
            },
        );
        let mut req = PublishRequest {
            run_id: myloware::domain::RunId::new(),
            video_url: "https://media.example/final.mp4".into(),
            title: "t".into(),
            caption: "short #asmr".into(),
            platforms: vec![],
            user: None,
            captions: Default::default(),
        };
        let fields = client.upload_fields("mw-1", &req);
        let get = |f: &[(String, String)], k: &str| -> Vec<String> {
            f.iter().filter(|(n, _)| n == k).map(|(_, v)| v.clone()).collect()
        };
        assert_eq!(
            (get(&fields, "user"), get(&fields, "platform[]")),
            (vec!["configured".into()], vec!["tiktok".into()])
        );
        req.platforms = vec!["tiktok".into(), "instagram".into()];
        req.user = Some("aismr".into());
        req.captions = [
            ("tiktok".to_owned(), "a longer caption #asmr #zodiac".to_owned()),
            ("instagram".to_owned(), "short #asmr".to_owned()),
        ]
        .into();
        let fields = client.upload_fields("mw-1", &req);
        assert_eq!(get(&fields, "user"), ["aismr"]);
        assert_eq!(get(&fields, "platform[]"), ["tiktok", "instagram"]);
        assert_eq!(get(&fields, "title"), ["short #asmr"]);
        assert_eq!(get(&fields, "tiktok_title"), ["a longer caption #asmr #zodiac"]);
        assert!(get(&fields, "instagram_title").is_empty(), "the same as title: not repeated");
    }
}
