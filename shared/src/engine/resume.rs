//! Operator resume, like a Step Functions redrive: a failed or stalled run continues from the step
//! that failed, as a new versioned checkpoint (audited), with no time limit. The step generation
//! is kept, so verdicts, intents and correlations recorded before stay: nothing already cleared
//! or paid for is asked or paid again.

use tracing::info;

use super::{Engine, EngineError};
use crate::domain::{RunId, RunRecord, RunStatus, StepKind};

impl Engine {
    /// Resume a stalled run at its step, or a failed run at its failed step (active steps only;
    /// a failed callback wait needs its jobs repaired, or a fork from an earlier checkpoint).
    pub async fn resume(
        &self,
        run_id: &RunId,
        actor: &str,
        request_id: Option<String>,
    ) -> Result<RunRecord, EngineError> {
        let run = self.get(run_id).await?;
        match run.status {
            RunStatus::Stalled => return self.reopen(&run, "run_resumed", actor, request_id).await,
            RunStatus::Failed => {}
            other => {
                return Err(EngineError::Conflict {
                    code: "not_resumable",
                    detail: format!("run is {other}; only failed or stalled runs resume"),
                });
            }
        }
        let step = run.error.as_ref().map(|e| e.step).unwrap_or(run.step);
        if step.kind() != StepKind::Active {
            return Err(EngineError::Conflict {
                code: "not_resumable",
                detail: format!(
                    "the run failed at {step}, which waits for callbacks; fork it from an earlier \
                     checkpoint instead"
                ),
            });
        }
        let mut next = run.clone();
        next.step = step;
        next.status = RunStatus::Running;
        next.error = None;
        next.open_wait = None;
        self.stamp(&mut next, &run);
        let audit = self.audit(
            &run,
            "run_resumed",
            actor,
            serde_json::json!({
                "step": step, "previous_error": run.error, "request_id": request_id,
            }),
        );
        self.operator_checkpoint(&next, run.version, &audit).await?;
        info!(run_id = %run_id, step = %step, "run resumed");
        self.send_next(&next, request_id).await?;
        Ok(next)
    }

    /// Read a run or answer `run_not_found`.
    pub async fn get(&self, run_id: &RunId) -> Result<RunRecord, EngineError> {
        self.store.get_run(run_id).await?.ok_or_else(|| EngineError::NotFound(run_id.to_string()))
    }

    /// Runs as `q` asks (`invalid_cursor` for a cursor the store did not hand out).
    pub async fn list_runs(
        &self,
        q: &crate::ports::ListQuery,
    ) -> Result<crate::ports::RunPage, EngineError> {
        self.store.list_runs(q).await.map_err(|e| match e {
            crate::ports::StoreError::ConditionFailed(_) => {
                EngineError::invalid("invalid_cursor", "cursor is not valid")
            }
            other => other.into(),
        })
    }

    /// Every checkpoint of a run `viewer` may see.
    pub async fn history_for(
        &self,
        run_id: &RunId,
        viewer: &crate::domain::Viewer,
    ) -> Result<Vec<crate::domain::CheckpointEntry>, EngineError> {
        self.get_for(run_id, viewer).await?;
        Ok(self.store.history(run_id).await?)
    }

    /// Every audited action on a run, oldest first.
    pub async fn audit_log(
        &self,
        run_id: &RunId,
    ) -> Result<Vec<crate::domain::AuditEntry>, EngineError> {
        Ok(self.store.audit_log(run_id).await?)
    }

    /// The run, if `viewer` may see it; another principal's run is "not found", exactly as a
    /// run that does not exist (ids cannot be probed).
    pub async fn get_for(
        &self,
        run_id: &RunId,
        viewer: &crate::domain::Viewer,
    ) -> Result<RunRecord, EngineError> {
        let run = self.get(run_id).await?;
        if !run.visible_to(viewer) {
            return Err(EngineError::NotFound(run_id.to_string()));
        }
        Ok(run)
    }
}
