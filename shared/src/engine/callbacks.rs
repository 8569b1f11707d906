//! Provider callbacks meet waits at the rendezvous: record the arrival once under the provider's
//! job id, then wake the run if the job is already correlated. An accepted callback costs two
//! writes (the arrival, the wake-up); a repeat reads the run to decide whether to wake it again.

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
            // The first delivery may have died before it woke the run (the provider retries
            // because it got no answer): wake it while it still waits for this job's
            // generation. Once the run moved on, a repeat changes nothing.
            RecordArrival::Duplicate { correlation } => {
                let waiting = self.store.get_run(&correlation.run_id).await?.is_some_and(|r| {
                    !r.status.is_terminal()
                        && r.open_wait.is_some_and(|w| w.generation == correlation.generation)
                });
                (CallbackAck::Duplicate, waiting.then_some(correlation.run_id))
            }
            RecordArrival::Unknown | RecordArrival::Closed => (CallbackAck::Ignored, None),
        };
        if let Some(run_id) = wake {
            let msg = StepMessage::wake(run_id).with_request_id(request_id.clone());
            self.queue.send(&msg, Default::default()).await?;
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
