//! An OpenAI-compatible chat completions API for ideation (OpenAI, any gateway that kept the
//! shape, a local server), with structured output: `response_format: json_schema` (strict),
//! the answer checked here as well (gateways differ on `strict`), one re-ask with the reason
//! when it is not usable, then a clear error
//! (developers.openai.com/api/docs/guides/structured-outputs).
//! And the moderation API (`POST /v1/moderations`), configured on its own.

use async_trait::async_trait;
use myloware::domain::{Ideas, IdeationGuide};
use myloware::ports::{IdeationAsk, LlmProvider, ProviderError, SafetyProvider, SafetyVerdict};
use myloware::projects::ideas_schema::{
    for_clips, schema_or_default, strict_subset, validate_ideas,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::http::{check, json, transport};

/// Where a chat (or moderation) API is.
#[derive(Clone)]
pub struct ApiSettings {
    /// Base URL without `/v1`, e.g. `https://api.openai.com`.
    pub base: String,
    /// Bearer key.
    pub key: String,
    /// The model.
    pub model: String,
}

impl std::fmt::Debug for ApiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiSettings")
            .field("base", &self.base)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

const SYSTEM_PROMPT: &str = "You plan short vertical videos. For the brief and clip count in the \
user message, answer with a title, exactly one visual prompt per clip (what the camera sees, for \
a video model), one short on-screen text per clip (a few words), and a caption for social media.";

/// The system message: the project's persona, prompt and rules, then what the answer must
/// hold; the generic prompt for a run from before projects.
pub fn system_prompt(guide: Option<&IdeationGuide>) -> String {
    let Some(g) = guide else { return SYSTEM_PROMPT.to_owned() };
    let mut s = format!("You are {}.\n\n{}\n", g.persona, g.system_prompt);
    if !g.rules.is_empty() {
        s.push_str("\nRules the ideas must keep:\n");
        for r in &g.rules {
            s.push_str(&format!("- {r}\n"));
        }
    }
    s.push_str(
        "\nAnswer with a title, exactly one visual prompt per clip, one short on-screen text per \
         clip, and a caption for social media, in the JSON schema given.",
    );
    s
}

/// The JSON Schema sent for an ask: the project's (or the default) with the run's clip count,
/// reduced to what strict mode accepts; the full schema checks the answer.
pub fn request_schema(ask: &IdeationAsk) -> Value {
    let schema = schema_or_default(ask.guide.as_ref().and_then(|g| g.schema.as_ref()));
    strict_subset(&for_clips(&schema, ask.clips))
}

/// Ideation through `POST /v1/chat/completions`.
#[derive(Debug, Clone)]
pub struct OpenAiChat {
    http: reqwest::Client,
    s: ApiSettings,
}

impl OpenAiChat {
    /// A client for the API `s` describes.
    pub fn new(http: reqwest::Client, mut s: ApiSettings) -> Self {
        s.base = s.base.trim_end_matches('/').to_owned();
        Self { http, s }
    }

    /// The request body for `messages` of `ask`, to its project's model (or the configured one).
    pub fn body(&self, ask: &IdeationAsk, messages: &[Value]) -> Value {
        let model = ask.guide.as_ref().and_then(|g| g.model.as_deref());
        json!({
            "model": model.unwrap_or(&self.s.model),
            "messages": messages,
            "response_format": {
                "type": "json_schema",
                "json_schema": { "name": "video_plan", "strict": true, "schema": request_schema(ask) },
            },
        })
    }

    async fn complete(
        &self,
        ask: &IdeationAsk,
        messages: &[Value],
    ) -> Result<Answer, ProviderError> {
        let resp = self
            .http
            .post(format!("{}/v1/chat/completions", self.s.base))
            .bearer_auth(&self.s.key)
            .json(&self.body(ask, messages))
            .send()
            .await
            .map_err(transport)?;
        let c: Completion = json(check(resp, "chat completion").await?, "chat completion").await?;
        let choice = c
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| ProviderError::Terminal("chat completion: no choices".into()))?;
        if let Some(refusal) = choice.message.refusal.filter(|r| !r.is_empty()) {
            return Err(ProviderError::Terminal(format!("the model refused: {refusal}")));
        }
        Ok(Answer {
            content: choice.message.content.unwrap_or_default(),
            truncated: choice.finish_reason.as_deref() == Some("length"),
        })
    }
}

struct Answer {
    content: String,
    truncated: bool,
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

/// The ideas in an answer, or why they cannot be used (the project's whole schema, counts and
/// bounds: what strict mode could not enforce is checked here).
fn usable(answer: &Answer, ask: &IdeationAsk) -> Result<Ideas, String> {
    if answer.truncated {
        return Err("the answer was cut off (finish_reason length)".into());
    }
    let value: Value = serde_json::from_str(&answer.content)
        .map_err(|e| format!("the answer is not JSON: {e}"))?;
    let schema = ask.guide.as_ref().and_then(|g| g.schema.as_ref());
    validate_ideas(schema, &value, ask.clips)
}

#[async_trait]
impl LlmProvider for OpenAiChat {
    async fn ideate(&self, ask: &IdeationAsk) -> Result<Ideas, ProviderError> {
        let clips = ask.clips;
        let user = json!({ "project": ask.project.as_str(), "brief": ask.brief, "clips": clips })
            .to_string();
        let mut messages = vec![
            json!({ "role": "system", "content": system_prompt(ask.guide.as_ref()) }),
            json!({ "role": "user", "content": user }),
        ];
        let first = self.complete(ask, &messages).await?;
        let why = match usable(&first, ask) {
            Ok(ideas) => return Ok(ideas),
            Err(why) => why,
        };
        tracing::info!(reason = %why, "ideation answer unusable; asking once more");
        messages.push(json!({ "role": "assistant", "content": first.content }));
        messages.push(json!({
            "role": "user",
            "content": format!("That answer cannot be used: {why}. Answer again, following the \
                                schema, with exactly {clips} prompts."),
        }));
        let second = self.complete(ask, &messages).await?;
        usable(&second, ask).map_err(|why2| {
            ProviderError::Terminal(format!(
                "no usable ideation after one re-ask: {why2} (first answer: {why})"
            ))
        })
    }
}

/// Content safety through `POST /v1/moderations` (fail closed: any error is an error).
#[derive(Debug, Clone)]
pub struct OpenAiModeration {
    http: reqwest::Client,
    s: ApiSettings,
}

impl OpenAiModeration {
    /// A client for the API `s` describes.
    pub fn new(http: reqwest::Client, mut s: ApiSettings) -> Self {
        s.base = s.base.trim_end_matches('/').to_owned();
        Self { http, s }
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
            .post(format!("{}/v1/moderations", self.s.base))
            .bearer_auth(&self.s.key)
            .json(&json!({ "model": self.s.model, "input": text }))
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
