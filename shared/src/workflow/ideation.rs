//! Ideation: the LLM turns the brief into one prompt per clip; the output is safety-checked
//! (fail closed) before the run reaches the ideation gate. A failed ideation never reaches it.

use super::{StepError, fail, guard, provider_error};
use crate::domain::{Gate, RunRecord, RunStatus, Step, WaitKind};
use crate::engine::{Engine, meter};

pub(super) async fn run(engine: &Engine, run: &RunRecord) -> Result<RunRecord, StepError> {
    guard(engine, run, Step::Ideation, &run.brief).await?;
    engine.confirm_lease(run).await?;
    let ideas = meter::provider_call(
        "llm",
        engine.providers.llm.ideate(&run.project, &run.brief, run.clip_count),
    )
    .await
    .map_err(|e| provider_error(Step::Ideation, "llm_failed", e))?;
    if ideas.prompts.len() != run.clip_count as usize {
        return Err(fail(
            Step::Ideation,
            "invalid_llm_output",
            format!("expected {} prompts, got {}", run.clip_count, ideas.prompts.len()),
        ));
    }
    if let Err(why) = within_limits(&ideas) {
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

/// Longest title, prompt and caption kept from the LLM (its output is outside text and lives in
/// the run record: bounded, so the record stays far below the store's item limit).
pub const MAX_TITLE_CHARS: usize = 300;
/// See [`MAX_TITLE_CHARS`]; video providers take prompts of a few thousand characters.
pub const MAX_PROMPT_CHARS: usize = 4000;
/// See [`MAX_TITLE_CHARS`]; TikTok's caption limit.
pub const MAX_CAPTION_CHARS: usize = 2200;

fn within_limits(ideas: &crate::domain::Ideas) -> Result<(), String> {
    let check = |what: &str, text: &str, max: usize| {
        let n = text.chars().count();
        if n > max { Err(format!("{what} has {n} characters (at most {max})")) } else { Ok(()) }
    };
    check("the title", &ideas.title, MAX_TITLE_CHARS)?;
    check("the caption", &ideas.caption, MAX_CAPTION_CHARS)?;
    for (i, p) in ideas.prompts.iter().enumerate() {
        check(&format!("prompt {}", i + 1), p, MAX_PROMPT_CHARS)?;
    }
    Ok(())
}
