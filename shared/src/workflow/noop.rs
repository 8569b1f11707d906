//! The no-op workflow: a run of K durable steps that compute nothing. The runner treats each
//! like any active step that pays nothing — read the run, checkpoint at the next version, send
//! the next message, ack — so driving it measures the engine and its adapters, not a copy of
//! them (the bench's W1). Started by [`crate::Engine::start_noop`].

use super::StepError;
use crate::domain::{RunRecord, RunStatus, Step};

/// One step: count it; after the last the run completes.
pub(super) fn run(run: &RunRecord) -> Result<RunRecord, StepError> {
    let Some(mut progress) = run.state.noop else {
        return Err(super::fail(Step::Noop, "not_a_noop_run", "the run has no no-op progress"));
    };
    let mut next = run.clone();
    progress.done += 1;
    next.state.noop = Some(progress);
    if progress.done >= progress.steps {
        next.step = Step::Done;
        next.status = RunStatus::Completed;
    } else {
        next.status = RunStatus::Running;
    }
    Ok(next)
}
