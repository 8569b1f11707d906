//! Fork: a new run starts from a checkpoint of another run, keeping what the steps before it
//! produced (ideas, decisions, clips), so those steps are not run or paid again, e.g. a
//! re-render from the editing checkpoint reuses the clips. Audited on both runs.

use tracing::info;

use super::{Engine, EngineError};
use crate::domain::{RunId, RunRecord, StepKind, WaitKind};
use crate::ports::CreateOutcome;

impl Engine {
    /// Start a new run from checkpoint `from_version` of `run_id`.
    pub async fn fork(
        &self,
        run_id: &RunId,
        from_version: u64,
        actor: &str,
        request_id: Option<String>,
    ) -> Result<RunRecord, EngineError> {
        let source = self.get(run_id).await?;
        let history = self.store.history(run_id).await?;
        let Some(cp) = history.into_iter().find(|c| c.version == from_version) else {
            return Err(EngineError::NotFound(format!(
                "{run_id} has no checkpoint {from_version}"
            )));
        };
        let snap = cp.snapshot;
        let step = snap.step;
        let wait = match step.kind() {
            StepKind::Active => None,
            StepKind::Gate(g) => Some(WaitKind::Gate(g)),
            StepKind::CallbackWait | StepKind::Done => {
                return Err(EngineError::Conflict {
                    code: "not_forkable",
                    detail: format!(
                        "checkpoint {from_version} is at {step}; fork from a checkpoint at an \
                         active step or a gate (see the run's history)"
                    ),
                });
            }
        };
        let now = self.clock.now();
        let mut run = RunRecord::new(snap.project, snap.brief, snap.clip_count, None, now);
        run.state = snap.state;
        run.state.step_generation = Some(run.version);
        run.step = step;
        run.status = step.runnable_status();
        run.open_wait =
            wait.map(|k| crate::workflow::open_wait(self, k, run.version, None, vec![]));
        match self.store.create_run(&run, now).await? {
            CreateOutcome::Created => {}
            CreateOutcome::Existing(_) => unreachable!("forks carry no start key"),
        }
        let detail = serde_json::json!({
            "source": run_id, "from_version": from_version, "step": step, "fork": run.run_id,
            "request_id": request_id,
        });
        self.store
            .append_audit(&self.audit(&run, "run_forked_from", actor, detail.clone()))
            .await?;
        self.store.append_audit(&self.audit(&source, "run_forked", actor, detail)).await?;
        info!(run_id = %run.run_id, source = %run_id, from_version, step = %step, "run forked");
        self.send_next(&run, request_id).await?;
        Ok(run)
    }
}
