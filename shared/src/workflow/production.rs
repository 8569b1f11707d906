//! Production: submit one paid video job per clip. Each submission is claimed first (an intent
//! keyed by run, step, generation and index, passed to the provider as its idempotency key), so a
//! redelivered or concurrent step resumes from the intent instead of paying again. Each job is
//! correlated to the run (under the configured video provider's name) before the wait is
//! registered.

use super::{StepError, fail, guard, provider_error};
use crate::domain::{ClipRef, Correlation, ExpectedJob, RunRecord, RunStatus, Step, WaitKind};
use crate::engine::{Engine, meter};
use crate::ports::{IntentKey, VideoRequest};

pub(super) async fn run(engine: &Engine, run: &RunRecord) -> Result<RunRecord, StepError> {
    let ideas = run.state.ideas.as_ref().ok_or_else(|| {
        fail(Step::Production, "missing_ideas", "production needs approved ideas")
    })?;
    // Every prompt is cleared before the first paid call.
    for prompt in &ideas.prompts {
        guard(engine, run, Step::Production, prompt).await?;
    }
    let generation = run.generation();
    let video = &engine.providers.video;
    let provider = video.provider();
    let mut jobs = Vec::with_capacity(ideas.prompts.len());
    for (i, prompt) in ideas.prompts.iter().enumerate() {
        let index = i as u32;
        let key = IntentKey::new(&run.run_id, Step::Production, generation, index);
        let intent = engine.store.claim_intent(&key, engine.clock.now()).await?;
        let job_id = match intent.job_id {
            Some(job) => job,
            None => {
                let req = VideoRequest {
                    run_id: run.run_id,
                    index,
                    prompt: prompt.clone(),
                    seconds: run
                        .state
                        .spec
                        .as_ref()
                        .map_or(engine.config.clip_seconds, |s| s.seconds),
                    model: run.state.spec.as_ref().and_then(|s| s.video_model.clone()),
                    aspect_ratio: run.state.spec.as_ref().map(|s| s.aspect_ratio()),
                };
                engine.confirm_lease(run).await?;
                let job = meter::provider_call("video", video.submit(&key.0, &req))
                    .await
                    .map_err(|e| provider_error(Step::Production, "video_submit_failed", e))?;
                engine.store.complete_intent(&key, &job).await?;
                tracing::info!(job_id = %job, index, "video job submitted");
                job
            }
        };
        let corr = Correlation { run_id: run.run_id, generation, index };
        engine.store.correlate(provider, &job_id, &corr).await?;
        jobs.push(ExpectedJob { job_id, index });
    }
    let mut next = run.clone();
    next.state.clips = jobs
        .iter()
        .map(|j| ClipRef {
            index: j.index,
            job_id: j.job_id.clone(),
            blob_key: None,
            output_url: None,
        })
        .collect();
    next.state.video_provider = Some(provider);
    next.step = Step::WaitForVideos;
    next.status = RunStatus::AwaitingVideoGeneration;
    let mut wait = super::waits::open(engine, WaitKind::Videos, generation, Some(provider), jobs);
    // A provider that never calls back is polled from the start.
    wait.polled = !video.calls_back();
    next.open_wait = Some(wait);
    Ok(next)
}
