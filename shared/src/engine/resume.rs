//! Operator resume: a failed or stalled run continues from the step that failed, as a new
//! versioned checkpoint (audited). Verdicts, intents and correlations recorded before stay, so
//! nothing already cleared or paid for at that version is asked or paid again.

use tracing::info;

use super::{Engine, EngineError};
use crate::domain::{AuditEntry, RunId, RunRecord, RunStatus, StepKind};
use crate::ports::StoreError;

impl Engine {
    /// Resume a failed or stalled run at its failed step (active steps only; a failed callback
    /// wait needs its jobs repaired first).
    pub async fn resume(
        &self,
        run_id: &RunId,
        actor: &str,
        request_id: Option<String>,
    ) -> Result<RunRecord, EngineError> {
        let run = self
            .store
            .get_run(run_id)
            .await?
            .ok_or_else(|| EngineError::NotFound(run_id.to_string()))?;
        if !matches!(run.status, RunStatus::Failed | RunStatus::Stalled) {
            return Err(EngineError::Conflict {
                code: "not_resumable",
                detail: format!("run is {}; only failed or stalled runs resume", run.status),
            });
        }
        let step = run.error.as_ref().map(|e| e.step).unwrap_or(run.step);
        if step.kind() != StepKind::Active {
            return Err(EngineError::Conflict {
                code: "not_resumable",
                detail: format!(
                    "the run failed at {step}, which waits for callbacks; repair its jobs instead"
                ),
            });
        }
        let now = self.clock.now();
        let mut next = run.clone();
        next.step = step;
        next.status = RunStatus::Running;
        next.error = None;
        next.open_wait = None;
        next.version = run.version + 1;
        next.updated_at = now;
        let audit = AuditEntry {
            run_id: *run_id,
            action: "run_resumed".into(),
            actor: actor.into(),
            detail: serde_json::json!({ "step": step, "previous_error": run.error, "request_id": request_id }),
            at: now,
        };
        match self.store.checkpoint(&next, run.version, Some(&audit)).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed(_)) => {
                return Err(EngineError::Conflict {
                    code: "concurrent_update",
                    detail: "the run changed; retry".into(),
                });
            }
            Err(e) => return Err(e.into()),
        }
        info!(run_id = %run_id, step = %step, "run resumed");
        self.send_next(&next, request_id).await?;
        Ok(next)
    }
}
