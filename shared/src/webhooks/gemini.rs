//! Google Veo through the Gemini API: a long-running operation named
//! `models/<model>/operations/<id>`, polled until `done` (ai.google.dev/gemini-api/docs/video).
//! Its name holds `/`, which job ids may not: a job id is the name, base64url-encoded, behind
//! `op_`. Gemini's webhooks are in beta (2026-05) and their payload is not documented in
//! detail: the parser takes a Standard-Webhooks-signed `video.generated` event and looks for
//! the operation's name and the video's URI where third-party summaries put them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::Value;

use super::{VideoEvent, WebhookError};
use crate::domain::{ArrivalOutcome, JobId, MAX_URL_CHARS};

/// The job id of operation `name`.
pub fn job_id_of_operation(name: &str) -> Result<JobId, crate::domain::IdError> {
    JobId::parse(&format!("op_{}", B64.encode(name)))
}

/// The operation name a job id stands for (`None`: not a Gemini job id).
pub fn operation_of_job(job: &JobId) -> Option<String> {
    let raw = B64.decode(job.as_str().strip_prefix("op_")?).ok()?;
    String::from_utf8(raw).ok().filter(|n| n.contains("/operations/"))
}

fn first_str<'a>(v: &'a Value, paths: &[&[&str]]) -> Option<&'a str> {
    paths.iter().find_map(|p| p.iter().try_fold(v, |v, k| v.get(k))?.as_str())
}

/// Parse a verified Gemini `video.generated` webhook (beta; see the module doc).
pub fn parse_gemini_event(
    body: &[u8],
    webhook_id: Option<&str>,
) -> Result<VideoEvent, WebhookError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let event_type = first_str(&v, &[&["type"], &["event_type"]]).unwrap_or_default().to_owned();
    if event_type != "video.generated" {
        return Ok(VideoEvent::Ignored { event_type });
    }
    let name =
        first_str(&v, &[&["data", "operation"], &["data", "name"], &["operation"], &["name"]])
            .ok_or_else(|| WebhookError::BadId("no operation name".into()))?;
    let job_id = job_id_of_operation(name).map_err(|e| WebhookError::BadId(e.to_string()))?;
    let uri = first_str(&v, &[&["data", "video_uri"], &["data", "uri"], &["video_uri"]]);
    let outcome = match first_str(&v, &[&["data", "error", "message"], &["error", "message"]]) {
        Some(reason) => ArrivalOutcome::failed(reason),
        None => match uri {
            Some(u) if u.chars().count() > MAX_URL_CHARS => {
                return Err(WebhookError::Malformed("video_uri is too long".into()));
            }
            u => ArrivalOutcome::Completed { output_url: u.map(str::to_owned) },
        },
    };
    let event_id = webhook_id.map(str::to_owned).unwrap_or_else(|| format!("gemini:{job_id}"));
    Ok(VideoEvent::Job { event_id, job_id, outcome })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_round_trip_through_job_ids() {
        let name = "models/veo-3.1-generate-preview/operations/abc123";
        let job = job_id_of_operation(name).unwrap();
        assert!(job.as_str().starts_with("op_"));
        assert_eq!(operation_of_job(&job).as_deref(), Some(name));
        assert_eq!(operation_of_job(&JobId::parse("video_1").unwrap()), None);
        assert_eq!(operation_of_job(&JobId::parse("op_bm9wZQ").unwrap()), None, "not an operation");
    }
}
