//! Replicate's prediction webhook: the full prediction object, as `GET /v1/predictions/{id}`
//! returns it, signed with Standard Webhooks (replicate.com/docs/topics/webhooks). With
//! `webhook_events_filter: ["completed"]` only terminal states should arrive; anything else is
//! acknowledged and ignored.

use serde::Deserialize;
use serde_json::Value;

use super::{VideoEvent, WebhookError};
use crate::domain::{ArrivalOutcome, JobId, MAX_URL_CHARS};
use crate::ports::JobStatus;

/// The fields of a prediction the engine uses.
#[derive(Debug, Deserialize)]
pub struct Prediction {
    /// The prediction id (the job).
    pub id: String,
    /// `starting`, `processing`, `succeeded`, `failed`, `canceled` or `aborted`.
    pub status: String,
    /// The output: one URI for the video models (some models answer a list).
    #[serde(default)]
    pub output: Value,
    /// The error, for a failed prediction.
    #[serde(default)]
    pub error: Value,
    /// True once Replicate deleted the prediction's files (an hour after it finished).
    #[serde(default)]
    pub data_removed: bool,
}

impl Prediction {
    /// The first output URI.
    pub fn output_url(&self) -> Option<String> {
        match &self.output {
            Value::String(u) => Some(u.clone()),
            Value::Array(a) => a.iter().find_map(|v| v.as_str().map(str::to_owned)),
            _ => None,
        }
    }

    /// Where the prediction stands.
    pub fn status(&self) -> JobStatus {
        match self.status.as_str() {
            "succeeded" if self.data_removed => JobStatus::Failed {
                reason: "its output was deleted (Replicate keeps files for an hour)".into(),
            },
            "succeeded" => match self.output_url() {
                Some(u) if u.chars().count() <= MAX_URL_CHARS => {
                    JobStatus::Completed { output_url: Some(u) }
                }
                Some(_) => JobStatus::Failed { reason: "its output URL is too long".into() },
                None => JobStatus::Failed { reason: "it succeeded without an output".into() },
            },
            "failed" => JobStatus::Failed {
                reason: match &self.error {
                    Value::String(s) => s.clone(),
                    Value::Null => "prediction failed".into(),
                    other => other.to_string(),
                },
            },
            "canceled" => JobStatus::Failed { reason: "prediction canceled".into() },
            "aborted" => {
                JobStatus::Failed { reason: "prediction aborted before it started".into() }
            }
            _ => JobStatus::Pending,
        }
    }
}

/// Parse a verified prediction webhook; `webhook_id` (identical on Replicate's retries) is the
/// event id.
pub fn parse_replicate_prediction(
    body: &[u8],
    webhook_id: Option<&str>,
) -> Result<VideoEvent, WebhookError> {
    let p: Prediction =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let job_id = JobId::parse(&p.id).map_err(|e| WebhookError::BadId(e.to_string()))?;
    let outcome = match p.status() {
        JobStatus::Pending | JobStatus::Unknown { .. } => {
            return Ok(VideoEvent::Ignored { event_type: format!("prediction.{}", p.status) });
        }
        JobStatus::Completed { output_url } => ArrivalOutcome::Completed { output_url },
        JobStatus::Failed { reason } => ArrivalOutcome::failed(reason),
    };
    let event_id = webhook_id.map(str::to_owned).unwrap_or_else(|| format!("replicate:{job_id}"));
    Ok(VideoEvent::Job { event_id, job_id, outcome })
}
