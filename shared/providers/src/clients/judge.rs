//! The LLM judge of `myloware eval ideation`: an OpenAI-compatible chat completion that scores
//! one answer against the project's rubric, as structured output `{score 1-5, reasons}`
//! (developers.openai.com/api/docs/guides/structured-outputs).

use async_trait::async_trait;
use myloware::eval::{Judge, JudgeAsk, Verdict};
use myloware::ports::ProviderError;
use serde_json::{Value, json};

use super::chat::ApiSettings;
use super::http::{check, json, transport};

/// A judge through `POST /v1/chat/completions`.
#[derive(Debug, Clone)]
pub struct OpenAiJudge {
    http: reqwest::Client,
    s: ApiSettings,
}

impl OpenAiJudge {
    /// A judge on the API `s` describes (its model the judge's).
    pub fn new(http: reqwest::Client, mut s: ApiSettings) -> Self {
        s.base = s.base.trim_end_matches('/').to_owned();
        Self { http, s }
    }

    /// The request body for `ask`.
    pub fn body(&self, ask: &JudgeAsk<'_>) -> Value {
        let mut rubric = String::new();
        for c in &ask.eval.criteria {
            rubric.push_str(&format!("- {}: {}\n", c.name.0, c.description.0));
        }
        let system = format!(
            "You are a strict reviewer of short-video plans. Score the plan from 1 (poor) to 5 \
             (excellent) against this rubric, and give your reasons criterion by criterion.\n\n\
             Rubric:\n{rubric}"
        );
        let user = json!({
            "brief": ask.ask.brief,
            "clips": ask.ask.clips,
            "plan": ask.ideas,
        });
        json!({
            "model": self.s.model,
            "messages": [
                { "role": "system", "content": system },
                { "role": "user", "content": user.to_string() },
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "verdict",
                    "strict": true,
                    "schema": {
                        "type": "object",
                        "properties": {
                            "score": { "type": "integer", "enum": [1, 2, 3, 4, 5] },
                            "reasons": { "type": "string" }
                        },
                        "required": ["score", "reasons"],
                        "additionalProperties": false
                    }
                }
            },
        })
    }
}

#[async_trait]
impl Judge for OpenAiJudge {
    async fn judge(&self, ask: &JudgeAsk<'_>) -> Result<Verdict, ProviderError> {
        let resp = self
            .http
            .post(format!("{}/v1/chat/completions", self.s.base))
            .bearer_auth(&self.s.key)
            .json(&self.body(ask))
            .send()
            .await
            .map_err(transport)?;
        let c: Value = json(check(resp, "judge").await?, "judge").await?;
        let content = c
            .pointer("/choices/0/message/content")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::Terminal("judge: no answer".into()))?;
        let v: Verdict = serde_json::from_str(content)
            .map_err(|e| ProviderError::Terminal(format!("judge: not a verdict: {e}")))?;
        if !(1..=5).contains(&v.score) {
            return Err(ProviderError::Terminal(format!("judge: score {} is not 1-5", v.score)));
        }
        Ok(v)
    }
}
