//! Replicate predictions for the hosted video models (replicate.com/docs/topics/predictions):
//! `POST /v1/models/{owner}/{name}/predictions` (or `POST /v1/predictions` with a version) with
//! a per-request `webhook` and `webhook_events_filter: ["completed"]`; the webhook is the full
//! prediction object signed with Standard Webhooks (its secret is the account's, from
//! `GET /v1/webhooks/default/secret`, or configured). Output files are deleted an hour after the
//! prediction finished: editing fetches them right after the wait.
//!
//! Money window: Replicate documents no idempotency key. The intent is recorded before the
//! call; a crash between Replicate's answer and the record of the prediction id starts a second,
//! paid prediction (the chaos tests print each such repeat with the crash that caused it).

use std::collections::BTreeMap;

use async_trait::async_trait;
use myloware::domain::{JobId, Provider};
use myloware::ports::{JobStatus, Media, ProviderError, VideoProvider, VideoRequest};
use myloware::webhooks::Prediction;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::http::{check, get_json_or_none, json, post_json, transport};
use super::media::{Credential, MediaFetcher, MediaPolicy};

/// Where Replicate serves output files (replicate.com/docs/topics/predictions/output-files).
const FILE_HOSTS: &[&str] = &["replicate.delivery", "*.replicate.delivery"];

/// The model table shipped with MyloWare (`config/replicate-models.toml`).
pub const MODEL_TABLE: &str = include_str!("../../config/replicate-models.toml");

#[derive(Deserialize)]
struct Table {
    models: BTreeMap<String, ModelEntry>,
}

#[derive(Deserialize)]
struct ModelEntry {
    input: Map<String, Value>,
}

/// The input template of `model` in `table` (TOML, as [`MODEL_TABLE`]).
pub fn input_template(table: &str, model: &str) -> Result<Option<Map<String, Value>>, String> {
    let t: Table = toml::from_str(table).map_err(|e| format!("replicate model table: {e}"))?;
    Ok(t.models.get(model).map(|m| m.input.clone()))
}

/// Where Replicate is, which model, and how its input is filled.
#[derive(Clone)]
pub struct ReplicateSettings {
    /// `https://api.replicate.com`.
    pub base: String,
    /// API token.
    pub token: String,
    /// `owner/name` of the model.
    pub model: String,
    /// A version id: predictions go to `/v1/predictions` with it, instead of the model's latest.
    pub version: Option<String>,
    /// The input template (see `config/replicate-models.toml`).
    pub input: Map<String, Value>,
    /// Where Replicate calls back (`<public base>/v1/webhooks/replicate`).
    pub webhook_url: String,
    /// Origins its media may also come from (`MYLOWARE_VIDEO_MEDIA_ORIGINS`): trusted as written.
    pub media_origins: Vec<String>,
}

impl std::fmt::Debug for ReplicateSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicateSettings")
            .field("base", &self.base)
            .field("model", &self.model)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// Fill the template from a clip request.
pub fn render_input(template: &Map<String, Value>, req: &VideoRequest) -> Map<String, Value> {
    template
        .iter()
        .map(|(k, v)| {
            let aspect = req.aspect_ratio.as_deref().unwrap_or("9:16");
            let v = match v {
                Value::String(s) if s == "{seconds}" => json!(req.seconds),
                Value::String(s) if s == "{index}" => json!(req.index),
                Value::String(s) => Value::String(
                    s.replace("{prompt}", &req.prompt)
                        .replace("{seconds}", &req.seconds.to_string())
                        .replace("{index}", &req.index.to_string())
                        .replace("{aspect_ratio}", aspect),
                ),
                other => other.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

/// Whether `model` is `owner/name` (letters, digits, `-`, `_`, `.`; no `..`).
fn is_model_path(model: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p != "."
            && !p.contains("..")
            && p.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    matches!(model.split_once('/'), Some((owner, name)) if part(owner) && part(name))
}

/// The adapter.
#[derive(Debug, Clone)]
pub struct Replicate {
    http: reqwest::Client,
    s: ReplicateSettings,
    cred: Credential,
    media: MediaFetcher,
}

impl Replicate {
    /// A client for the account and model `s` describes.
    pub fn new(http: reqwest::Client, mut s: ReplicateSettings) -> Self {
        s.base = s.base.trim_end_matches('/').to_owned();
        let cred = Credential::for_base("Authorization", format!("Bearer {}", s.token), &s.base);
        let origins = s.media_origins.iter().map(String::as_str);
        let media = MediaFetcher::new(MediaPolicy::new(&s.base, FILE_HOSTS).with_origins(origins));
        Self { http, s, cred, media }
    }

    /// The create request: its URL and body. A run whose project names its own model goes to
    /// that model's latest version, its input filled by the project's template or else the
    /// shipped model table's; a model with neither is refused (its input cannot be guessed).
    pub fn create_request(&self, req: &VideoRequest) -> Result<(String, Value), ProviderError> {
        let (model, template, version) = match &req.model {
            None => (self.s.model.clone(), self.s.input.clone(), self.s.version.clone()),
            Some(m) => {
                if !is_model_path(&m.model) {
                    return Err(ProviderError::Terminal(format!(
                        "{:?} is not a Replicate model (owner/name)",
                        m.model
                    )));
                }
                let template = match &m.input {
                    Some(t) => t.clone(),
                    None => input_template(MODEL_TABLE, &m.model)
                        .map_err(ProviderError::Terminal)?
                        .ok_or_else(|| {
                            ProviderError::Terminal(format!(
                                "the project's video model {:?} is not in the Replicate model \
                                 table: give its input in the project file (video.input)",
                                m.model
                            ))
                        })?,
                };
                (m.model.clone(), template, None)
            }
        };
        let mut body = json!({
            "input": render_input(&template, req),
            "webhook": self.s.webhook_url,
            "webhook_events_filter": ["completed"],
        });
        let url = match version {
            Some(v) => {
                body["version"] = json!(v);
                format!("{}/v1/predictions", self.s.base)
            }
            None => format!("{}/v1/models/{model}/predictions", self.s.base),
        };
        Ok((url, body))
    }

    async fn prediction(&self, job: &JobId) -> Result<Option<Prediction>, ProviderError> {
        let url = format!("{}/v1/predictions/{job}", self.s.base);
        get_json_or_none(&self.http, url, &self.cred, "get prediction").await
    }
}

/// The account's webhook signing secret (`GET /v1/webhooks/default/secret` → `{"key":"whsec_…"}`).
pub async fn default_webhook_secret(
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> Result<String, ProviderError> {
    #[derive(Deserialize)]
    struct Secret {
        key: String,
    }
    let resp = http
        .get(format!("{}/v1/webhooks/default/secret", base.trim_end_matches('/')))
        .bearer_auth(token)
        .send()
        .await
        .map_err(transport)?;
    let s: Secret = json(check(resp, "webhook secret").await?, "webhook secret").await?;
    Ok(s.key)
}

#[async_trait]
impl VideoProvider for Replicate {
    fn provider(&self) -> Provider {
        Provider::Replicate
    }

    async fn submit(&self, _key: &str, req: &VideoRequest) -> Result<JobId, ProviderError> {
        let (url, body) = self.create_request(req)?;
        let p: Prediction =
            post_json(&self.http, url, &self.cred, &[], &body, "create prediction").await?;
        JobId::parse(&p.id).map_err(|e| ProviderError::Terminal(format!("prediction id: {e}")))
    }

    async fn download(&self, job: &JobId, url: Option<&str>) -> Result<Media, ProviderError> {
        let url = match url {
            Some(u) => u.to_owned(),
            None => match self.prediction(job).await?.map(|p| p.status()) {
                Some(JobStatus::Completed { output_url: Some(u) }) => u,
                Some(JobStatus::Failed { reason }) => {
                    return Err(ProviderError::Terminal(format!("prediction {job}: {reason}")));
                }
                _ => {
                    return Err(ProviderError::Terminal(format!("prediction {job} has no output")));
                }
            },
        };
        // Output files are served from Replicate's delivery host: the token goes only to the API's.
        self.media.fetch(&url, Some(&self.cred), "prediction output").await.map_err(|e| match e {
            ProviderError::Terminal(why) if why.contains("404") || why.contains("410") => {
                ProviderError::Terminal(format!(
                    "the output of prediction {job} is gone (Replicate keeps files for an hour): {why}"
                ))
            }
            other => other,
        })
    }

    async fn status(&self, job: &JobId) -> Result<JobStatus, ProviderError> {
        Ok(match self.prediction(job).await? {
            Some(p) => p.status(),
            None => JobStatus::Unknown { detail: format!("prediction {job} not found (404)") },
        })
    }

    async fn check_media_url(&self, url: &str) -> Result<(), String> {
        self.media.check_hops(url, Some(&self.cred)).await
    }
}
