//! Operator cancel: a versioned checkpoint to `cancelled` (audited). Messages still in flight
//! then find a terminal run and are acked; the wait's correlations are closed, so late callbacks
//! are answered `ignored` and write nothing.
//!
//! A step that is running when the cancel lands holds the run's lease. The cancel keeps that
//! lease in its checkpoint and returns once the step let go of it: the step confirms its lease
//! before every paid call and before publishing, which fails once the run is cancelled, so no
//! paid call and no publication starts after a cancel has returned.

use std::time::Duration;

use tracing::{info, warn};

use super::{Engine, EngineError};
use crate::domain::{RunId, RunRecord, RunStatus, Step};
use crate::ports::{Checkpoint, StoreError};

/// Longest a cancel waits for a running step to let go (its lease lapses anyway).
const MAX_WAIT_FOR_STEP: Duration = Duration::from_secs(20);

impl Engine {
    /// Cancel a run that has not ended (a repeat on a cancelled run answers it unchanged).
    pub async fn cancel(
        &self,
        run_id: &RunId,
        actor: &str,
        reason: Option<String>,
        request_id: Option<String>,
    ) -> Result<RunRecord, EngineError> {
        // A timer tick or a step may move the version under us; try again on a fresh read.
        for _ in 0..3 {
            let run = self.get(run_id).await?;
            if run.status == RunStatus::Cancelled {
                return self.wait_for_step_to_stop(run).await;
            }
            if run.status.is_terminal() {
                return Err(EngineError::Conflict {
                    code: "not_cancellable",
                    detail: format!(
                        "run is {}; only runs that have not ended can be cancelled",
                        run.status
                    ),
                });
            }
            let mut next = run.clone();
            next.status = RunStatus::Cancelled;
            next.step = Step::Done;
            next.open_wait = None;
            self.stamp(&mut next, &run);
            // A running step keeps its lease until it stops (see the module doc).
            next.lease = run.lease.clone();
            let audit = self.audit(&run, "run_cancelled", actor, serde_json::json!({
                "reason": reason, "step": run.step, "status": run.status, "request_id": request_id,
            }));
            match self.store.checkpoint(Checkpoint::new(&next, run.version).audited(&audit)).await {
                Ok(()) => {
                    self.close_wait(&run).await;
                    info!(run_id = %run_id, step = %run.step, "run cancelled");
                    return self.wait_for_step_to_stop(next).await;
                }
                Err(StoreError::ConditionFailed(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(EngineError::Conflict {
            code: "concurrent_update",
            detail: "the run kept changing while cancelling; retry".into(),
        })
    }

    /// Return once no step holds the cancelled run's lease (released, or lapsed).
    async fn wait_for_step_to_stop(&self, mut run: RunRecord) -> Result<RunRecord, EngineError> {
        let started = std::time::Instant::now();
        while let Some(lease) = run.lease.as_ref().filter(|l| l.until > self.clock.now()) {
            if started.elapsed() >= MAX_WAIT_FOR_STEP {
                warn!(run_id = %run.run_id, owner = %lease.owner, "a cancelled run's step has not stopped yet");
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            run = self.get(&run.run_id).await?;
        }
        Ok(run)
    }
}
