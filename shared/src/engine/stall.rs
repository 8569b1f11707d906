//! Retries running out. A retryable failure hides its message for a backoff; on the last allowed
//! attempt — or when earlier attempts crashed, timed out or hit our own infrastructure — the run
//! is checkpointed `stalled` (error and attempt count kept, the open wait too) and the message
//! goes to the DLQ, marked with the stall's version. Moving that copy back (`dlq replay` / `dlq
//! redrive`) or `runs resume` reopens the run at the same step and step generation, so jobs
//! already paid for are reused. Nothing else reopens it.

use std::time::Duration;

use tracing::{info, warn};

use super::runner::Disposition;
use super::{Engine, EngineError, meter};
use crate::domain::{AuditEntry, NoticeKind, RunError, RunRecord, RunStatus, StepMessage};
use crate::ports::{Checkpoint, StoreError};

impl Engine {
    /// A step failed in a way worth retrying: back off, or stall on the last attempt.
    pub(crate) async fn retry_or_stall(
        &self,
        prev: &RunRecord,
        why: String,
        attempt: u32,
        msg: &StepMessage,
    ) -> Result<Disposition, EngineError> {
        let policy = self.config.retries.for_step(prev.step);
        meter::step_retry(prev.step.as_str());
        if !policy.exhausted(attempt) {
            let after = policy.backoff(attempt);
            warn!(error = %why, attempt, retry_in_ms = after.as_millis() as u64, "step failed; will retry");
            return Ok(Disposition::Retry { after });
        }
        self.stall(prev, why, attempt, msg).await
    }

    /// Mark the run `stalled` after `attempts` attempts (error kept, open wait untouched) as
    /// written by `msg`'s delivery, tell the notification endpoints, and send the message to the
    /// DLQ, marked with the stall's version: moving that copy back is the one message that
    /// reopens the run.
    pub(crate) async fn stall(
        &self,
        prev: &RunRecord,
        why: String,
        attempts: u32,
        msg: &StepMessage,
    ) -> Result<Disposition, EngineError> {
        let mut next = prev.clone();
        next.status = RunStatus::Stalled;
        next.error = Some(RunError {
            attempts: Some(attempts),
            ..RunError::new(prev.step, "retries_exhausted", why.clone())
        });
        self.stamp(&mut next, prev);
        next.written_by = msg.id.clone();
        let audit = self.audit(
            prev,
            "run_stalled",
            "runner",
            serde_json::json!({
                "step": prev.step, "error": why, "attempts": attempts,
            }),
        );
        match self.store.checkpoint(Checkpoint::new(&next, prev.version).audited(&audit)).await {
            Ok(()) => {
                meter::stalled(prev.step.as_str());
                warn!(error = %why, attempts, "retries exhausted; run stalled, message to the DLQ");
                self.send_notices(&self.notices(&next, Some(NoticeKind::Stalled))).await?;
                Ok(Disposition::DeadLetter { redrive: Some(next.version) })
            }
            // Another delivery moved the run on: this message has nothing left to do.
            Err(StoreError::ConditionFailed(_)) => Ok(Disposition::Ack),
            Err(e) => Err(e.into()),
        }
    }

    /// A message for a stalled run. Stalled stays stalled until an operator acts: only the copy
    /// the runner buried in the DLQ (marked with this stall's version) reopens it, when moved
    /// back by `dlq replay` or `dlq redrive`. Duplicates, repairs and sweeper copies are acked.
    pub(crate) async fn on_stalled(
        &self,
        run: RunRecord,
        msg: &StepMessage,
    ) -> Result<Disposition, EngineError> {
        if msg.redrive != Some(run.version) {
            // The delivery that stalled the run, again: its notices may not have gone out.
            self.repair_notices(&run, msg).await?;
            return Ok(Disposition::Ack);
        }
        match self.reopen(&run, "run_redriven", "dlq", msg.request_id.clone()).await {
            Ok(_) | Err(EngineError::Conflict { .. }) => Ok(Disposition::Ack),
            Err(e) => Err(e),
        }
    }

    /// Move a stalled run back to its step (same step generation), audited as `action`.
    pub(crate) async fn reopen(
        &self,
        run: &RunRecord,
        action: &str,
        actor: &str,
        request_id: Option<String>,
    ) -> Result<RunRecord, EngineError> {
        let mut next = run.clone();
        next.status = run.step.runnable_status();
        next.error = None;
        self.stamp(&mut next, run);
        let audit = self.audit(
            run,
            action,
            actor,
            serde_json::json!({
                "step": run.step, "previous_error": run.error, "request_id": request_id,
            }),
        );
        self.operator_checkpoint(&next, run.version, &audit).await?;
        info!(run_id = %run.run_id, step = %run.step, action, "run reopened");
        self.send_next(&next, request_id).await?;
        Ok(next)
    }

    /// An operator's checkpoint with its audit entry; a concurrent change is a 409 to retry.
    pub(crate) async fn operator_checkpoint(
        &self,
        next: &RunRecord,
        expected: u64,
        audit: &AuditEntry,
    ) -> Result<(), EngineError> {
        match self.store.checkpoint(Checkpoint::new(next, expected).audited(audit)).await {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed(_)) => Err(EngineError::Conflict {
                code: "concurrent_update",
                detail: "the run changed; retry".into(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// An audit entry on `run` now.
    pub(crate) fn audit(
        &self,
        run: &RunRecord,
        action: &str,
        actor: &str,
        detail: serde_json::Value,
    ) -> AuditEntry {
        AuditEntry {
            run_id: run.run_id,
            action: action.into(),
            actor: actor.into(),
            detail,
            at: self.clock.now(),
        }
    }
}

/// The backoff for a message whose handling failed on our own infrastructure (store or queue
/// down): the default policy's. Nothing is recorded now (it could not be); the next delivery
/// counts the attempt (an active step's lease, a wait's receive count) and stalls when they ran out.
pub(crate) fn infra_backoff(engine: &Engine, attempt: u32) -> Duration {
    engine.config.retries.default.backoff(attempt)
}
