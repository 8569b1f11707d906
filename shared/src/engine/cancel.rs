//! Operator cancel: a versioned checkpoint to `cancelled` (audited). Messages still in flight
//! then find a terminal run and are acked; the wait's correlations are closed, so late callbacks
//! are answered `ignored` and write nothing.

use tracing::info;

use super::{Engine, EngineError};
use crate::domain::{RunId, RunRecord, RunStatus, Step};
use crate::ports::StoreError;

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
                return Ok(run);
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
            next.lease = None;
            next.version = run.version + 1;
            next.updated_at = self.clock.now();
            let audit = self.audit(&run, "run_cancelled", actor, serde_json::json!({
                "reason": reason, "step": run.step, "status": run.status, "request_id": request_id,
            }));
            match self.store.checkpoint(&next, run.version, Some(&audit)).await {
                Ok(()) => {
                    self.close_wait(&run).await;
                    info!(run_id = %run_id, step = %run.step, "run cancelled");
                    return Ok(next);
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
}
