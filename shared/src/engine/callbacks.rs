//! Provider callbacks meet waits at the rendezvous: record the arrival once under the provider's
//! job id, then wake the run if the job is already correlated.

use tracing::info;

use super::{Engine, EngineError};
use crate::domain::{Arrival, JobId, Provider, RunId, StepMessage};
use crate::ports::RecordArrival;

/// How a callback was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackAck {
    /// Recorded; the run was woken.
    Accepted(RunId),
    /// Seen before; nothing changed.
    Duplicate,
    /// No run has correlated this job: nothing was written.
    Ignored,
}

impl Engine {
    /// Record a verified callback and wake its run.
    pub async fn accept_callback(
        &self,
        provider: Provider,
        job: &JobId,
        arrival: Arrival,
        request_id: Option<String>,
    ) -> Result<CallbackAck, EngineError> {
        let outcome = self.store.record_arrival(provider, job, &arrival).await?;
        let (ack, wake) = match outcome {
            RecordArrival::New(c) => (CallbackAck::Accepted(c.run_id), Some(c.run_id)),
            // A repeat may be the provider retrying after we died before the wake-up was sent:
            // send it again (a wake-up is only a hint; it changes no state).
            RecordArrival::Duplicate(c) => (CallbackAck::Duplicate, Some(c.run_id)),
            RecordArrival::Unknown => (CallbackAck::Ignored, None),
        };
        if let Some(run_id) = wake {
            self.queue
                .send(
                    &StepMessage::wake(run_id).with_request_id(request_id.clone()),
                    Default::default(),
                )
                .await?;
        }
        info!(
            provider = provider.as_str(),
            job_id = %job,
            run_id = wake.map(|r| r.to_string()),
            request_id = request_id.as_deref(),
            ack = ?ack,
            "callback recorded"
        );
        Ok(ack)
    }
}
