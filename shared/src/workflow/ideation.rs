//! Ideation: the LLM turns the brief into one prompt per clip; the output is safety-checked
//! (fail closed) before the run reaches the ideation gate. A failed ideation never reaches it.

use super::{StepError, fail, guard, provider_error};
use crate::domain::{Gate, RunRecord, RunStatus, Step, WaitKind};
use crate::engine::{Engine, meter};
use crate::ports::IdeationAsk;

pub(super) async fn run(engine: &Engine, run: &RunRecord) -> Result<RunRecord, StepError> {
    guard(engine, run, Step::Ideation, &run.brief).await?;
    engine.confirm_lease(run).await?;
    let ask = IdeationAsk {
        project: run.project.clone(),
        brief: run.brief.clone(),
        clips: run.clip_count,
        guide: run.state.spec.as_ref().and_then(|s| s.ideation.clone()),
    };
    let ideas = meter::provider_call("llm", engine.providers.llm.ideate(&ask))
        .await
        .map_err(|e| provider_error(Step::Ideation, "llm_failed", e))?;
    if let Err(why) = ideas.check(run.clip_count) {
        return Err(fail(Step::Ideation, "invalid_llm_output", why));
    }
    guard(engine, run, Step::Ideation, &format!("{}\n{}", ideas.title, ideas.caption)).await?;
    for prompt in &ideas.prompts {
        guard(engine, run, Step::Ideation, prompt).await?;
    }
    let mut next = run.clone();
    next.state.ideas = Some(ideas);
    next.step = Step::IdeationApproval;
    next.status = RunStatus::AwaitingIdeationApproval;
    next.open_wait =
        Some(super::waits::open(engine, WaitKind::Gate(Gate::Ideation), run.version, None, vec![]));
    Ok(next)
}
