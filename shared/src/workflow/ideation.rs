//! Ideation: the LLM turns the brief into one prompt per clip with the project's guide; the
//! answer is vetted (the project's schema and counts, its blocked terms, the safety checker,
//! failing closed) before the run reaches the ideation gate. A failed ideation never reaches it.

use super::{StepError, fail, guard, provider_error};
use crate::domain::{Gate, RunRecord, RunStatus, Step, WaitKind};
use crate::engine::{Engine, IdeasProblem, meter};
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
    let answer = serde_json::to_value(&ideas).map_err(|e| StepError::Retryable(e.to_string()))?;
    let ideas = match engine.vet_ideas(run, &answer).await.map_err(StepError::Infra)? {
        Ok(ideas) => ideas,
        Err(IdeasProblem::Invalid(why)) => {
            let why = format!("the ideas do not keep the project's schema: {why}");
            return Err(fail(Step::Ideation, "invalid_llm_output", why));
        }
        Err(IdeasProblem::Blocked(why)) => {
            return Err(fail(Step::Ideation, "content_blocked", why));
        }
        Err(IdeasProblem::Unavailable(why)) => {
            return Err(StepError::Retryable(format!("safety check unavailable: {why}")));
        }
    };
    let mut next = run.clone();
    next.state.ideas = Some(ideas);
    next.step = Step::IdeationApproval;
    next.status = RunStatus::AwaitingIdeationApproval;
    next.open_wait =
        Some(super::waits::open(engine, WaitKind::Gate(Gate::Ideation), run.version, None, vec![]));
    Ok(next)
}
