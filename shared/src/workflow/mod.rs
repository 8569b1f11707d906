//! The video workflow: what each step does. The runner (`engine::runner`) decides *when*.
//!
//! ideation → ideation gate → production (N clips) → wait for N video callbacks → editing (one
//! render) → wait for the render callback → publish gate → publishing → completed.
//! One file per step; `waits.rs` holds the two callback waits.

mod editing;
mod ideation;
mod keys;
mod media;
mod noop;
mod production;
mod publishing;
mod waits;

pub use keys::{clip_key, final_video_key};
pub use media::MAX_MEDIA_BYTES;
pub use waits::{open as open_wait, poll as poll_wait, progress as wait_progress};

use crate::domain::{RunError, RunRecord, RunStatus, Step};
use crate::engine::{Engine, EngineError, SafetyOutcome};
use crate::ports::{BlobError, ProviderError, StoreError};

/// How a step can fail.
#[derive(Debug)]
pub enum StepError {
    /// Transient: leave the message for redelivery.
    Retryable(String),
    /// Permanent: checkpoint the run as `failed` with this error.
    Failed(RunError),
    /// Our own infrastructure failed (store/queue): surface to the caller.
    Infra(EngineError),
    /// The run moved under the step (cancelled, stalled, taken over): stop before any further
    /// side effect; nothing is written.
    Superseded(String),
}

impl From<StoreError> for StepError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Throttled(why) | StoreError::Unavailable(why) => StepError::Retryable(why),
            other => StepError::Infra(other.into()),
        }
    }
}

impl From<BlobError> for StepError {
    fn from(e: BlobError) -> Self {
        StepError::Retryable(e.to_string())
    }
}

pub(crate) fn provider_error(step: Step, code: &str, e: ProviderError) -> StepError {
    match e {
        ProviderError::Retryable(why) => StepError::Retryable(why),
        ProviderError::Terminal(why) => fail(step, code, why),
    }
}

pub(crate) fn fail(step: Step, code: &str, message: impl Into<String>) -> StepError {
    StepError::Failed(RunError::new(step, code, message))
}

/// Clear `text` with the safety checker before it is used (fail closed): blocked fails the run
/// at `step` with the reason; an unavailable checker leaves the step for a retry.
pub(crate) async fn guard(
    engine: &Engine,
    run: &RunRecord,
    step: Step,
    text: &str,
) -> Result<(), StepError> {
    match engine.check_safety(Some(&run.run_id), text).await.map_err(StepError::Infra)? {
        SafetyOutcome::Safe => Ok(()),
        SafetyOutcome::Blocked(reason) => Err(fail(step, "content_blocked", reason)),
        SafetyOutcome::Unavailable(why) => {
            Err(StepError::Retryable(format!("safety check unavailable: {why}")))
        }
    }
}

/// Run the active step the run is at; returns the next record (version not yet bumped).
pub async fn execute(engine: &Engine, run: &RunRecord) -> Result<RunRecord, StepError> {
    match run.step {
        Step::Ideation => ideation::run(engine, run).await,
        Step::Production => production::run(engine, run).await,
        Step::Editing => editing::run(engine, run).await,
        Step::Publishing => publishing::run(engine, run).await,
        Step::Noop => noop::run(run),
        other => Err(fail(other, "not_an_active_step", format!("{other} is not an active step"))),
    }
}

/// Check the callback wait the run is at: `Some(next)` when it completed.
pub async fn check_wait(engine: &Engine, run: &RunRecord) -> Result<Option<RunRecord>, StepError> {
    match run.step {
        Step::WaitForVideos => waits::videos(engine, run).await,
        Step::WaitForRender => waits::render(engine, run).await,
        Step::WaitForPublish => waits::publish(engine, run).await,
        _ => Ok(None),
    }
}

/// The record of a run that failed at its current step.
pub fn failed(run: &RunRecord, err: RunError) -> RunRecord {
    let mut next = run.clone();
    next.status = RunStatus::Failed;
    next.open_wait = None;
    next.error = Some(err);
    next
}
