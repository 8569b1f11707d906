//! Provider callbacks meet waits at the rendezvous: record the arrival once under the provider's
//! job id, then wake the run if the job is already correlated. An accepted callback costs two
//! writes (the arrival, the wake-up); a repeat costs the one conditional write that refuses it.

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
    /// The job belongs to another run than the callback claimed: nothing was written.
    WrongRun(RunId),
}

impl Engine {
    /// Record a verified callback and wake its run. `claimed`: the run the callback names, if
    /// it names one (checked in the arrival's own write).
    pub async fn accept_callback(
        &self,
        provider: Provider,
        job: &JobId,
        arrival: Arrival,
        claimed: Option<RunId>,
        request_id: Option<String>,
    ) -> Result<CallbackAck, EngineError> {
        let outcome = self.store.record_arrival(provider, job, &arrival, claimed).await?;
        let (ack, wake) = match outcome {
            RecordArrival::New(c) => (CallbackAck::Accepted(c.run_id), Some(c.run_id)),
            // A repeat (a provider's retry, a replay) changes nothing and sends nothing, so
            // replays cannot multiply work. If the first delivery died between recording the
            // arrival and waking the run, the wait's timer finds the arrival at its next link.
            RecordArrival::Duplicate { .. } => (CallbackAck::Duplicate, None),
            RecordArrival::Unknown | RecordArrival::Closed => (CallbackAck::Ignored, None),
            RecordArrival::WrongRun(c) => (CallbackAck::WrongRun(c.run_id), None),
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
