//! Parse verified webhook bodies into typed events (after the signature check, never before).

use serde::Deserialize;
use serde_json::Value;

use super::WebhookError;
use crate::domain::{ArrivalOutcome, JobId, MAX_URL_CHARS, RunId};

/// A video provider event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoEvent {
    /// A job finished (or failed).
    Job {
        /// The event id (`evt_…`, Replicate's `webhook-id`).
        event_id: String,
        /// The video job.
        job_id: JobId,
        /// What happened.
        outcome: ArrivalOutcome,
    },
    /// Any other event (another type, a job still running): acknowledged and ignored.
    Ignored {
        /// What it was.
        event_type: String,
    },
}

#[derive(Deserialize)]
struct Envelope {
    id: Option<String>,
    object: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    data: Option<Value>,
}

/// Parse an OpenAI-style event: `{"id":"evt_…","object":"event","type":"video.completed"|
/// "video.failed","data":{"id":"video_…"}}`. The job id may also sit at `data.object.id`.
pub fn parse_openai_video_event(body: &[u8]) -> Result<VideoEvent, WebhookError> {
    let env: Envelope =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    if env.object.as_deref() != Some("event") {
        return Err(WebhookError::Malformed("expected object \"event\"".into()));
    }
    let event_type =
        env.event_type.ok_or_else(|| WebhookError::Malformed("missing type".into()))?;
    let failed = match event_type.as_str() {
        "video.completed" => false,
        "video.failed" => true,
        _ => return Ok(VideoEvent::Ignored { event_type }),
    };
    let event_id = env
        .id
        .filter(|s| !s.is_empty())
        .ok_or_else(|| WebhookError::BadId("missing event id".into()))?;
    let data = env.data.ok_or_else(|| WebhookError::BadId("missing data.id".into()))?;
    let raw_id = data
        .get("object")
        .and_then(|o| o.get("id"))
        .or_else(|| data.get("id"))
        .and_then(Value::as_str)
        .ok_or_else(|| WebhookError::BadId("missing data.id".into()))?;
    // `video_…` at OpenAI, other prefixes at the gateways (`vid_…` at Merge): any job id will
    // do, but not the event's own id (a sender that confuses the two).
    if raw_id.starts_with("evt_") {
        return Err(WebhookError::BadId(format!(
            "data.id {raw_id:?} is an event id, not a job id"
        )));
    }
    let job_id = JobId::parse(raw_id).map_err(|e| WebhookError::BadId(e.to_string()))?;
    let outcome = if failed {
        let reason = data
            .get("error")
            .and_then(|e| e.get("message").or(Some(e)))
            .and_then(Value::as_str)
            .unwrap_or("video generation failed");
        ArrivalOutcome::failed(reason)
    } else {
        ArrivalOutcome::Completed { output_url: None }
    };
    Ok(VideoEvent::Job { event_id, job_id, outcome })
}

/// A render callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderEvent {
    /// The render job.
    pub job_id: JobId,
    /// The run the renderer says it belongs to.
    pub run_id: Option<RunId>,
    /// What happened; `None` for a progress callback (not terminal).
    pub outcome: Option<ArrivalOutcome>,
}

#[derive(Deserialize)]
struct RenderBody {
    job_id: Option<String>,
    id: Option<String>,
    run_id: Option<String>,
    status: Option<String>,
    state: Option<String>,
    output_url: Option<String>,
    url: Option<String>,
    error: Option<Value>,
}

/// Parse `{job_id, run_id, status:"done"|"error", output_url, error}`.
pub fn parse_remotion_event(body: &[u8]) -> Result<RenderEvent, WebhookError> {
    let b: RenderBody =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let raw_job = b.job_id.or(b.id).ok_or_else(|| WebhookError::BadId("missing job_id".into()))?;
    let job_id = JobId::parse(&raw_job).map_err(|e| WebhookError::BadId(e.to_string()))?;
    let run_id = match b.run_id.filter(|s| !s.is_empty()) {
        Some(r) => Some(
            r.parse().map_err(|e: crate::domain::IdError| WebhookError::BadId(e.to_string()))?,
        ),
        None => None,
    };
    let status =
        b.status.or(b.state).ok_or_else(|| WebhookError::Malformed("missing status".into()))?;
    let outcome = match status.as_str() {
        "done" | "completed" | "ready" => {
            let url = b.output_url.or(b.url).filter(|u| !u.is_empty());
            match &url {
                None => {
                    return Err(WebhookError::Malformed("status done without output_url".into()));
                }
                Some(u) if u.chars().count() > MAX_URL_CHARS => {
                    return Err(WebhookError::Malformed(format!(
                        "output_url is longer than {MAX_URL_CHARS} characters"
                    )));
                }
                Some(_) => {}
            }
            Some(ArrivalOutcome::Completed { output_url: url })
        }
        "error" | "failed" => {
            let reason = match b.error {
                Some(Value::String(s)) => s,
                Some(v @ Value::Object(_)) => v
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string()),
                _ => "render failed".to_owned(),
            };
            Some(ArrivalOutcome::failed(reason))
        }
        _ => None,
    };
    Ok(RenderEvent { job_id, run_id, outcome })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_openai_video_events() {
        let ok = br#"{"id":"evt_1","object":"event","created_at":1766104315,"type":"video.completed","data":{"id":"video_abc123"}}"#;
        assert_eq!(
            parse_openai_video_event(ok).unwrap(),
            VideoEvent::Job {
                event_id: "evt_1".into(),
                job_id: JobId::parse("video_abc123").unwrap(),
                outcome: ArrivalOutcome::Completed { output_url: None }
            }
        );
        let failed = br#"{"id":"evt_2","object":"event","type":"video.failed","data":{"id":"video_x","error":{"message":"moderation_blocked"}}}"#;
        assert!(matches!(
            parse_openai_video_event(failed).unwrap(),
            VideoEvent::Job { outcome: ArrivalOutcome::Failed { reason }, .. } if reason == "moderation_blocked"
        ));
        let other =
            br#"{"id":"evt_3","object":"event","type":"batch.completed","data":{"id":"batch_1"}}"#;
        assert!(matches!(parse_openai_video_event(other).unwrap(), VideoEvent::Ignored { .. }));
        assert_eq!(parse_openai_video_event(b"{").unwrap_err().code(), "malformed_payload");
        let no_id = br#"{"id":"evt_4","object":"event","type":"video.completed","data":{}}"#;
        assert_eq!(parse_openai_video_event(no_id).unwrap_err().code(), "invalid_id");
        for bad in ["../x", "evt_4"] {
            let body = format!(
                r#"{{"id":"evt_4","object":"event","type":"video.completed","data":{{"id":"{bad}"}}}}"#
            );
            assert_eq!(parse_openai_video_event(body.as_bytes()).unwrap_err().code(), "invalid_id");
        }
        let gateway =
            br#"{"id":"evt_5","object":"event","type":"video.completed","data":{"id":"vid_01JX"}}"#;
        assert!(matches!(parse_openai_video_event(gateway).unwrap(), VideoEvent::Job { .. }));
    }

    #[test]
    fn parses_render_callbacks() {
        let done = br#"{"job_id":"render_1","run_id":null,"status":"done","output_url":"http://x/o.mp4","error":null}"#;
        let e = parse_remotion_event(done).unwrap();
        assert_eq!(e.job_id.as_str(), "render_1");
        assert!(matches!(e.outcome, Some(ArrivalOutcome::Completed { output_url: Some(_) })));
        let err = br#"{"job_id":"render_1","status":"error","error":"out of memory"}"#;
        assert!(
            matches!(parse_remotion_event(err).unwrap().outcome, Some(ArrivalOutcome::Failed { reason }) if reason == "out of memory")
        );
        let progress = br#"{"job_id":"render_1","status":"rendering"}"#;
        assert_eq!(parse_remotion_event(progress).unwrap().outcome, None);
        assert!(parse_remotion_event(br#"{"job_id":"render_1","status":"done"}"#).is_err());
        assert!(parse_remotion_event(br#"{"status":"done"}"#).is_err());
        assert!(
            parse_remotion_event(
                br#"{"job_id":"r","run_id":"nope","status":"done","output_url":"u"}"#
            )
            .is_err()
        );
    }
}
