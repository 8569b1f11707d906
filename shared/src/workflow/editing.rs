//! Editing: store the clips as artifacts, one clip per segment — each stored clip is its own
//! checkpoint, so a later attempt (after a crash, a timeout, an outage) only fetches the clips
//! no earlier attempt stored. With every clip stored, submit one paid render (claimed by an
//! intent, like production) whose callback comes to the Remotion webhook.

use super::{StepError, clip_key, fail, provider_error};
use crate::domain::{Correlation, ExpectedJob, Provider, RunRecord, RunStatus, Step, WaitKind};
use crate::engine::{Engine, meter};
use crate::ports::{IntentKey, RenderRequest};

pub(super) async fn run(engine: &Engine, run: &RunRecord) -> Result<RunRecord, StepError> {
    let mut next = run.clone();
    next.state.clips.sort_by_key(|c| c.index);
    if next.state.clips.is_empty() {
        return Err(fail(Step::Editing, "no_clips", "editing found no clips"));
    }
    if let Some(clip) = next.state.clips.iter_mut().find(|c| c.blob_key.is_none()) {
        let key = clip_key(&run.run_id, clip.index);
        let video = super::waits::video_provider_of(engine, run, Step::Editing)?;
        let url = clip.output_url.as_deref();
        let download = video.download(&clip.job_id, url);
        let (step, code) = (Step::Editing, "video_download_failed");
        let bytes = super::media::store(engine, step, "video", code, &key, download).await?;
        tracing::info!(index = clip.index, bytes, "clip stored");
        clip.blob_key = Some(key);
        clip.output_url = None;
        // A checkpoint at the same step; the next segment stores the next clip.
        return Ok(next);
    }
    let mut urls = Vec::with_capacity(next.state.clips.len());
    for clip in &next.state.clips {
        let key = clip.blob_key.as_deref().expect("every clip is stored");
        urls.push(engine.blobs.presign_get(key, engine.config.presign_ttl).await?);
    }
    let generation = run.generation();
    let key = IntentKey::new(&run.run_id, Step::Editing, generation, 0);
    let intent = engine.store.claim_intent(&key, engine.clock.now()).await?;
    let job_id = match intent.job_id {
        Some(job) => job,
        None => {
            let req = render_request(engine, run, urls);
            engine.confirm_lease(run).await?;
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

/// The render-service contract's request for `run`'s clips (`../reference/providers.md` §7):
/// the template, the size, the length in frames, one overlay per clip — from the project the
/// run started with (its spec), or for a run from before projects, from the configuration.
fn render_request(engine: &Engine, run: &RunRecord, clip_urls: Vec<String>) -> RenderRequest {
    let f = &engine.config.video;
    let ideas = run.state.ideas.as_ref();
    let clips = clip_urls.len() as u32;
    let (template, seconds, width, height) = match &run.state.spec {
        // MYLOWARE_RENDER_TEMPLATE, when set, overrides every project's template.
        Some(s) => (
            f.template.clone().unwrap_or_else(|| s.template.clone()),
            s.duration_seconds.min(clips * s.seconds),
            s.width,
            s.height,
        ),
        None => {
            (f.template_for(&run.project), clips * engine.config.clip_seconds, f.width, f.height)
        }
    };
    RenderRequest {
        overlay_style: run.state.spec.as_ref().and_then(|s| s.overlay_style),
        run_id: run.run_id,
        template,
        clip_urls,
        texts: ideas.map(|i| i.overlays.clone()).unwrap_or_default(),
        title: ideas.map(|i| i.title.clone()).unwrap_or_default(),
        caption: ideas.map(|i| i.caption.clone()).unwrap_or_default(),
        duration_frames: seconds * f.fps,
        fps: f.fps,
        width,
        height,
        callback_url: format!(
            "{}/v1/webhooks/remotion?run_id={}",
            engine.config.webhook_base_url, run.run_id
        ),
    }
}
