//! Publishing: post the rendered video once (intent key passed as the idempotency key).

use super::{StepError, fail, guard, provider_error};
use crate::domain::{RunRecord, RunStatus, Step};
use crate::engine::{Engine, meter};
use crate::ports::{IntentKey, PublishRequest};

pub(super) async fn run(engine: &Engine, run: &RunRecord) -> Result<RunRecord, StepError> {
    let video_key =
        run.state.final_video_key.as_ref().ok_or_else(|| {
            fail(Step::Publishing, "missing_video", "no rendered video to publish")
        })?;
    let ideas = run.state.ideas.as_ref();
    let caption = ideas.map(|i| i.caption.clone()).unwrap_or_default();
    guard(engine, run, Step::Publishing, &caption).await?;
    let key = IntentKey::new(&run.run_id, Step::Publishing, run.generation(), 0);
    engine.store.claim_intent(&key, engine.clock.now()).await?;
    let req = PublishRequest {
        run_id: run.run_id,
        video_url: engine.blobs.presign_get(video_key, engine.config.presign_ttl).await?,
        title: ideas.map(|i| i.title.clone()).unwrap_or_default(),
        caption: ideas.map(|i| i.caption.clone()).unwrap_or_default(),
    };
    let published = meter::provider_call("publish", engine.providers.publish.publish(&key.0, &req))
        .await
        .map_err(|e| provider_error(Step::Publishing, "publish_failed", e))?;
    tracing::info!(url = %published.url, "published");
    let mut next = run.clone();
    next.state.published_url = Some(published.url);
    next.step = Step::Done;
    next.status = RunStatus::Completed;
    next.open_wait = None;
    Ok(next)
}
