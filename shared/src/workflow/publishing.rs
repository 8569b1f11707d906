//! Publishing, exactly once. Upload-Post takes a request id chosen by the caller: ours is
//! derived from the intent key and recorded on the intent before the upload is posted. The
//! upload runs in the background at the provider, and the run waits for it as a *wait*
//! (`wait_for_publish`, status `awaiting_publish`, its status polled on timers, a deadline) —
//! never as a retry that would post again.
//!
//! An execution that finds the intent already claimed (an earlier one crashed, timed out or lost
//! the answer) asks the status of that request id first: an upload the provider knows is only
//! awaited. Only "no such upload" — the provider never received ours — posts again, under the
//! same request id.

use super::{StepError, fail, guard, provider_error};
use crate::domain::{
    Arrival, ArrivalOutcome, Correlation, ExpectedJob, JobId, Provider, RunRecord, RunStatus, Step,
    WaitKind,
};
use crate::engine::{Engine, meter};
use crate::ports::{IntentKey, JobStatus, PublishRequest};

/// The request id of a publication: derived from its intent key, so every execution of the
/// step (and the status polls) name the same upload.
pub fn request_id(key: &IntentKey) -> JobId {
    JobId::parse(&format!("mw-{}", key.0.replace(':', "-"))).expect("intent keys are id-safe")
}

pub(super) async fn run(engine: &Engine, run: &RunRecord) -> Result<RunRecord, StepError> {
    let video_key =
        run.state.final_video_key.as_ref().ok_or_else(|| {
            fail(Step::Publishing, "missing_video", "no rendered video to publish")
        })?;
    let ideas = run.state.ideas.as_ref();
    let caption = ideas.map(|i| i.caption.clone()).unwrap_or_default();
    guard(engine, run, Step::Publishing, &caption).await?;
    let generation = run.generation();
    let key = IntentKey::new(&run.run_id, Step::Publishing, generation, 0);
    let request = request_id(&key);
    let intent = engine.store.claim_intent(&key, engine.clock.now()).await?;
    if intent.job_id.is_none() {
        engine.store.complete_intent(&key, &request).await?;
    }
    let publish = &engine.providers.publish;
    // A fresh claim: nobody can have posted. Otherwise ask before anything is posted again.
    let mut status = None;
    if !intent.fresh {
        let s = meter::provider_call("publish", publish.status(request.as_str()))
            .await
            .map_err(|e| provider_error(Step::Publishing, "publish_status_failed", e))?;
        tracing::info!(request_id = %request, status = ?s, "publication claimed before; asked its status");
        status = Some(s);
    }
    if matches!(status, None | Some(JobStatus::Unknown { .. })) {
        let target = run.state.spec.as_ref().and_then(|s| s.publish.as_ref());
        let captions = target.map(|t| t.captions(&caption)).unwrap_or_default();
        let req = PublishRequest {
            run_id: run.run_id,
            video_url: engine.blobs.presign_get(video_key, engine.config.presign_ttl).await?,
            title: ideas.map(|i| i.title.clone()).unwrap_or_default(),
            // The shortest platform caption serves every platform without its own.
            caption: captions
                .values()
                .min_by_key(|c| c.chars().count())
                .cloned()
                .unwrap_or(caption),
            platforms: target.map(|t| t.platforms.clone()).unwrap_or_default(),
            user: target.and_then(|t| t.user.clone()),
            captions,
        };
        engine.confirm_lease(run).await?;
        let s = meter::provider_call("publish", publish.publish(request.as_str(), &req))
            .await
            .map_err(|e| provider_error(Step::Publishing, "publish_failed", e))?;
        tracing::info!(request_id = %request, status = ?s, "upload posted");
        status = Some(s);
    }
    let corr = Correlation { run_id: run.run_id, generation, index: 0 };
    engine.store.correlate(Provider::UploadPost, &request, &corr).await?;
    // An upload that already finished is recorded as its poll would record it.
    let outcome = match status {
        Some(JobStatus::Completed { output_url }) => Some(ArrivalOutcome::Completed { output_url }),
        Some(JobStatus::Failed { reason }) => Some(ArrivalOutcome::failed(reason)),
        _ => None,
    };
    if let Some(outcome) = outcome {
        let arrival = Arrival {
            outcome,
            event_id: format!("post:{request}"),
            received_at: engine.clock.now(),
        };
        engine.store.record_arrival(Provider::UploadPost, &request, &arrival, None).await?;
    }
    let mut next = run.clone();
    next.step = Step::WaitForPublish;
    next.status = RunStatus::AwaitingPublish;
    let jobs = vec![ExpectedJob { job_id: request, index: 0 }];
    next.open_wait = Some(super::waits::open(
        engine,
        WaitKind::Publish,
        generation,
        Some(Provider::UploadPost),
        jobs,
    ));
    Ok(next)
}
