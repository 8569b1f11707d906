//! Ideation: the LLM turns the brief into one prompt per clip; the output is safety-checked
//! (fail closed) before the run reaches the ideation gate. A failed ideation never reaches it.

use super::{StepError, fail, provider_error};
use crate::domain::{Gate, OpenWait, RunRecord, RunStatus, Step, WaitKind};
use crate::engine::Engine;
use crate::ports::SafetyVerdict;

pub(super) async fn run(engine: &Engine, run: &RunRecord) -> Result<RunRecord, StepError> {
    let p = &engine.providers;
    let ideas = p
        .llm
        .ideate(&run.project, &run.brief, run.clip_count)
        .await
        .map_err(|e| provider_error(Step::Ideation, "llm_failed", e))?;
    if ideas.prompts.len() != run.clip_count as usize {
        return Err(fail(
            Step::Ideation,
            "invalid_llm_output",
            format!("expected {} prompts, got {}", run.clip_count, ideas.prompts.len()),
        ));
    }
    let text = format!("{}\n{}\n{}", ideas.title, ideas.prompts.join("\n"), ideas.caption);
    match p.safety.check(&text).await {
        Ok(SafetyVerdict::Safe) => {}
        Ok(SafetyVerdict::Blocked(reason)) => {
            return Err(fail(Step::Ideation, "content_blocked", reason));
        }
        // Fail closed: an unavailable checker blocks the step until it answers.
        Err(e) => {
            return Err(StepError::Retryable(format!("safety check unavailable: {e}")));
        }
    }
    let mut next = run.clone();
    next.state.ideas = Some(ideas);
    next.step = Step::IdeationApproval;
    next.status = RunStatus::AwaitingIdeationApproval;
    next.open_wait = Some(OpenWait {
        kind: WaitKind::Gate(Gate::Ideation),
        generation: run.version,
        provider: None,
        jobs: vec![],
        since: engine.clock.now(),
    });
    Ok(next)
}
