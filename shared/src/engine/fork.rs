//! Fork: a new run starts from a checkpoint of another run, keeping what the steps before it
//! produced (ideas, decisions, clips), so those steps are not run or paid again, e.g. a
//! re-render from the editing checkpoint reuses the clips the source stored. Audited on both runs.
//!
//! A fork is a new run and passes the same guards as a start (the caller's rate limit, the
//! 24-hour cap, the budget). It never skips a person: a fork from a checkpoint at or after a
//! gate its source had passed starts parked at that gate, and its approval leads to the fork's
//! own starting step, so nothing is paid for or published without a fresh decision.

use tracing::info;

use super::{Engine, EngineError};
use crate::domain::{CheckpointEntry, Gate, RunId, RunRecord, Step, StepKind, WaitKind};
use crate::ports::CreateOutcome;

/// The gate a run starting at `step` must pass again: the last gate before it, if any.
fn gate_before(step: Step) -> Option<Gate> {
    match step {
        Step::Production | Step::Editing => Some(Gate::Ideation),
        Step::Publishing => Some(Gate::Publish),
        _ => None,
    }
}

/// The snapshot a fork from `version` starts from: that checkpoint's, or — for a wait's tick,
/// which stores none — the latest one before it at the same step.
fn snapshot_at(history: Vec<CheckpointEntry>, version: u64) -> Option<RunRecord> {
    let step = history.iter().find(|c| c.version == version)?.step;
    history
        .into_iter()
        .rev()
        .filter(|c| c.version <= version && c.step == step)
        .find_map(|c| c.snapshot)
}

impl Engine {
    /// Start a new run from checkpoint `from_version` of `run_id` (`caller` is rate limited).
    pub async fn fork(
        &self,
        run_id: &RunId,
        from_version: u64,
        actor: &str,
        caller: Option<&str>,
        request_id: Option<String>,
    ) -> Result<RunRecord, EngineError> {
        let source = self.get(run_id).await?;
        let history = self.store.history(run_id).await?;
        let Some(snap) = snapshot_at(history, from_version) else {
            return Err(EngineError::NotFound(format!(
                "{run_id} has no checkpoint {from_version}"
            )));
        };
        let step = snap.step;
        if matches!(step.kind(), StepKind::CallbackWait | StepKind::Done) {
            return Err(EngineError::Conflict {
                code: "not_forkable",
                detail: format!(
                    "checkpoint {from_version} is at {step}; fork from a checkpoint at an \
                     active step or a gate (see the run's history)"
                ),
            });
        }
        if let Some(caller) = caller {
            self.rate_limit(caller).await?;
        }
        self.reserve_run_start().await?;
        let now = self.clock.now();
        let mut run = RunRecord::new(snap.project, snap.brief, snap.clip_count, None, now);
        run.state = snap.state;
        // The fork belongs to whoever owned its source (an operator forks on their behalf).
        run.owner = source.owner.clone();
        run.state.step_generation = Some(run.version);
        // Clips the source stored after this checkpoint are reused, not fetched again.
        for clip in run.state.clips.iter_mut().filter(|c| c.blob_key.is_none()) {
            clip.blob_key = source
                .state
                .clips
                .iter()
                .find(|s| s.job_id == clip.job_id)
                .and_then(|s| s.blob_key.clone());
        }
        let (start_at, gate) = match (step.kind(), gate_before(step)) {
            (StepKind::Gate(g), _) => (step, Some(g)),
            (_, Some(g)) => {
                run.state.resume_at = Some(step);
                (g.step(), Some(g))
            }
            _ => (step, None),
        };
        run.step = start_at;
        run.status = start_at.runnable_status();
        run.open_wait = gate.map(|g| {
            crate::workflow::open_wait(self, WaitKind::Gate(g), run.version, None, vec![])
        });
        run.due_at = self.due_at(&run);
        match self.store.create_run(&run, now).await? {
            CreateOutcome::Created => {}
            CreateOutcome::Existing(_) => unreachable!("forks carry no start key"),
        }
        let detail = serde_json::json!({
            "source": run_id, "from_version": from_version, "step": step, "fork": run.run_id,
            "starts_at": start_at, "request_id": request_id,
        });
        self.store
            .append_audit(&self.audit(&run, "run_forked_from", actor, detail.clone()))
            .await?;
        self.store.append_audit(&self.audit(&source, "run_forked", actor, detail)).await?;
        info!(run_id = %run.run_id, source = %run_id, from_version, step = %step, starts_at = %start_at, "run forked");
        self.send_next(&run, request_id).await?;
        Ok(run)
    }
}
