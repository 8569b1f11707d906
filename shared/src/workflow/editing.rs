//! Editing: store the clips as artifacts, then submit one paid render (claimed by an intent, like
//! production) whose callback comes to the Remotion webhook.

use super::{StepError, clip_key, fail, provider_error};
use crate::domain::{Correlation, ExpectedJob, Provider, RunRecord, RunStatus, Step, WaitKind};
use crate::engine::{Engine, meter};
use crate::ports::{IntentKey, RenderRequest};

pub(super) async fn run(engine: &Engine, run: &RunRecord) -> Result<RunRecord, StepError> {
    let mut next = run.clone();
    next.state.clips.sort_by_key(|c| c.index);
    let mut urls = Vec::with_capacity(next.state.clips.len());
    for clip in &mut next.state.clips {
        let key = clip_key(&run.run_id, clip.index);
        if clip.blob_key.is_none() {
            let bytes =
                meter::provider_call("video", engine.providers.video.download(&clip.job_id))
                    .await
                    .map_err(|e| provider_error(Step::Editing, "video_download_failed", e))?;
            engine.blobs.put(&key, bytes, "video/mp4").await?;
            clip.blob_key = Some(key.clone());
        }
        urls.push(engine.blobs.presign_get(&key, engine.config.presign_ttl).await?);
    }
    if urls.is_empty() {
        return Err(fail(Step::Editing, "no_clips", "editing found no clips"));
    }
    let generation = run.generation();
    let key = IntentKey::new(&run.run_id, Step::Editing, generation, 0);
    let intent = engine.store.claim_intent(&key, engine.clock.now()).await?;
    let job_id = match intent.job_id {
        Some(job) => job,
        None => {
            let req = RenderRequest {
                run_id: run.run_id,
                clip_urls: urls,
                callback_url: format!(
                    "{}/v1/webhooks/remotion?run_id={}",
                    engine.config.webhook_base_url, run.run_id
                ),
                title: run.state.ideas.as_ref().map(|i| i.title.clone()).unwrap_or_default(),
            };
            let job = meter::provider_call("render", engine.providers.render.submit(&key.0, &req))
                .await
                .map_err(|e| provider_error(Step::Editing, "render_submit_failed", e))?;
            engine.store.complete_intent(&key, &job).await?;
            tracing::info!(job_id = %job, "render job submitted");
            job
        }
    };
    let corr = Correlation { run_id: run.run_id, generation, index: 0 };
    engine.store.correlate(Provider::Remotion, &job_id, &corr).await?;
    next.state.render_job = Some(job_id.clone());
    next.step = Step::WaitForRender;
    next.status = RunStatus::AwaitingRender;
    let jobs = vec![ExpectedJob { job_id, index: 0 }];
    next.open_wait = Some(super::waits::open(
        engine,
        WaitKind::Render,
        generation,
        Some(Provider::Remotion),
        jobs,
    ));
    Ok(next)
}
