//! The webhook function's semantics, independent of HTTP: verify the signature on the exact raw
//! bytes, parse, then record at the rendezvous. Nothing is written before verification passes.

use super::{CallbackAck, Engine, EngineError};
use crate::domain::{Arrival, ArrivalOutcome, JobId, Provider, RunId};
use crate::webhooks::{
    RemotionVerifier, StandardVerifier, VideoEvent, WebhookError, parse_gemini_event,
    parse_openai_video_event, parse_remotion_event, parse_replicate_prediction,
};

/// Standard Webhooks headers of one delivery.
#[derive(Debug, Clone, Copy, Default)]
pub struct StandardHeaders<'a> {
    /// `webhook-id`.
    pub id: Option<&'a str>,
    /// `webhook-timestamp`.
    pub timestamp: Option<&'a str>,
    /// `webhook-signature`.
    pub signature: Option<&'a str>,
}

/// How a webhook was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeAck {
    /// `accepted`, `duplicate` or `ignored`.
    pub status: &'static str,
    /// The run it woke, if any.
    pub run_id: Option<RunId>,
    /// The provider job it was about, if any.
    pub job_id: Option<JobId>,
}

/// Why a webhook was refused.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// Signature, shape or id problems (4xx; 500 for a missing secret).
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    /// Our store or queue failed (5xx: the provider retries).
    #[error(transparent)]
    Engine(#[from] EngineError),
}

fn ack(status: CallbackAck, job: JobId) -> Result<IntakeAck, IntakeError> {
    Ok(match status {
        CallbackAck::Accepted(run) => {
            IntakeAck { status: "accepted", run_id: Some(run), job_id: Some(job) }
        }
        CallbackAck::Duplicate => {
            IntakeAck { status: "duplicate", run_id: None, job_id: Some(job) }
        }
        CallbackAck::Ignored => IntakeAck { status: "ignored", run_id: None, job_id: Some(job) },
        CallbackAck::WrongRun(_) => {
            return Err(WebhookError::WrongRun(format!(
                "job {job} does not belong to the run the callback names"
            ))
            .into());
        }
    })
}

impl Engine {
    /// Handle a video provider's delivery (Standard Webhooks): an OpenAI-compatible API's
    /// event, a Replicate prediction, a Gemini `video.generated` event.
    pub async fn intake_video(
        &self,
        provider: Provider,
        verifier: &StandardVerifier,
        headers: StandardHeaders<'_>,
        body: &[u8],
        request_id: Option<String>,
    ) -> Result<IntakeAck, IntakeError> {
        let now = self.clock.now();
        verifier.verify(headers.id, headers.timestamp, headers.signature, body, now.secs())?;
        let event = match provider {
            Provider::OpenAi => parse_openai_video_event(body)?,
            Provider::Replicate => parse_replicate_prediction(body, headers.id)?,
            Provider::Gemini => parse_gemini_event(body, headers.id)?,
            other => {
                return Err(WebhookError::Malformed(format!(
                    "{other} does not call back with Standard Webhooks"
                ))
                .into());
            }
        };
        match event {
            VideoEvent::Ignored { event_type } => {
                tracing::info!(provider = provider.as_str(), event_type, "ignoring video event");
                Ok(IntakeAck { status: "ignored", run_id: None, job_id: None })
            }
            VideoEvent::Job { event_id, job_id, outcome } => {
                // A URL from outside is checked before anything is recorded. A callback from
                // a provider that is not the configured one finds no run to wake.
                let video = &self.providers.video;
                if let (ArrivalOutcome::Completed { output_url: Some(url) }, true) =
                    (&outcome, video.provider() == provider)
                {
                    video.check_media_url(url).await.map_err(WebhookError::UnsafeUrl)?;
                }
                let arrival = Arrival { outcome, event_id, received_at: now };
                let a = self.accept_callback(provider, &job_id, arrival, None, request_id).await?;
                ack(a, job_id)
            }
        }
    }

    /// Handle a Remotion delivery. `query_run_id` is the `?run_id=` of the callback URL.
    pub async fn intake_remotion(
        &self,
        verifier: &RemotionVerifier,
        signature: Option<&str>,
        timestamp: Option<&str>,
        query_run_id: Option<&str>,
        body: &[u8],
        request_id: Option<String>,
    ) -> Result<IntakeAck, IntakeError> {
        verifier.verify(signature, timestamp, body, self.clock.now().secs())?;
        let query_run = match query_run_id {
            Some(q) => Some(q.parse::<RunId>().map_err(|e| WebhookError::BadId(e.to_string()))?),
            None => None,
        };
        let event = parse_remotion_event(body)?;
        if let (Some(q), Some(b)) = (query_run, event.run_id)
            && q != b
        {
            return Err(WebhookError::WrongRun(format!(
                "query run_id {q} differs from body run_id {b}"
            ))
            .into());
        }
        let Some(outcome) = event.outcome else {
            // A progress callback: nothing to record.
            return Ok(IntakeAck { status: "ignored", run_id: None, job_id: Some(event.job_id) });
        };
        // The renderer names the run: a job of another run is refused before any write.
        if let ArrivalOutcome::Completed { output_url: Some(url) } = &outcome {
            self.providers.render.check_media_url(url).await.map_err(WebhookError::UnsafeUrl)?;
        }
        let arrival = Arrival {
            outcome,
            event_id: format!("remotion:{}", event.job_id),
            received_at: self.clock.now(),
        };
        // The run it names, if any, must be the job's: checked in the arrival's write.
        let claimed = query_run.or(event.run_id);
        let a = self
            .accept_callback(Provider::Remotion, &event.job_id, arrival, claimed, request_id)
            .await?;
        ack(a, event.job_id)
    }
}
