//! The callback waits. Fan-in is set-based: a wait completes when every distinct expected job of
//! the wait's generation has an arrival; a failed arrival fails the run with the provider's reason.

use super::{StepError, fail, final_video_key};
use crate::domain::{
    Arrival, ArrivalOutcome, CorrelationRecord, ExpectedJob, Gate, JobId, MAX_URL_CHARS, OpenWait,
    Provider, RunRecord, RunStatus, Step, WaitKind,
};
use crate::engine::{Engine, EngineError, meter};
use crate::ports::JobStatus;

/// Arrivals of the wait's jobs that belong to this run and generation, by job id.
async fn arrivals(
    engine: &Engine,
    run: &RunRecord,
    wait: &OpenWait,
) -> Result<Vec<(JobId, ArrivalOutcome)>, StepError> {
    let Some(provider) = wait.provider else {
        return Ok(vec![]);
    };
    let ids: Vec<JobId> = wait.jobs.iter().map(|j| j.job_id.clone()).collect();
    let records: Vec<CorrelationRecord> = engine.store.correlations(provider, &ids).await?;
    Ok(records
        .into_iter()
        .filter(|r| {
            r.correlation
                .as_ref()
                .is_some_and(|c| c.run_id == run.run_id && c.generation == wait.generation)
        })
        .filter_map(|r| r.arrival.map(|a| (r.job_id, a.outcome)))
        .collect())
}

/// Open a wait of `kind` now, with the deadline the configuration gives that kind.
pub fn open(
    engine: &Engine,
    kind: WaitKind,
    generation: u64,
    provider: Option<Provider>,
    jobs: Vec<ExpectedJob>,
) -> OpenWait {
    let limit = engine.config.waits.deadline(kind);
    OpenWait::new(kind, generation, provider, jobs, engine.clock.now(), limit)
}

fn open_wait(run: &RunRecord, step: Step) -> Result<&OpenWait, StepError> {
    run.open_wait.as_ref().ok_or_else(|| fail(step, "missing_wait", "the run has no open wait"))
}

pub(super) async fn videos(
    engine: &Engine,
    run: &RunRecord,
) -> Result<Option<RunRecord>, StepError> {
    let wait = open_wait(run, Step::WaitForVideos)?;
    let arrived = arrivals(engine, run, wait).await?;
    if let Some((job, reason)) = arrived.iter().find_map(|(j, o)| match o {
        ArrivalOutcome::Failed { reason } => Some((j, reason)),
        _ => None,
    }) {
        return Err(fail(
            Step::WaitForVideos,
            "video_failed",
            format!("video job {job} failed: {reason}"),
        ));
    }
    let done: std::collections::BTreeSet<&JobId> = arrived.iter().map(|(j, _)| j).collect();
    tracing::info!(arrived = done.len(), expected = wait.jobs.len(), "video wait checked");
    if done.len() < wait.jobs.len() {
        return Ok(None);
    }
    let mut next = run.clone();
    // Where each finished video is, for editing to fetch it (Replicate's files expire).
    for clip in &mut next.state.clips {
        clip.output_url =
            arrived.iter().find(|(j, _)| *j == clip.job_id).and_then(|(_, o)| match o {
                ArrivalOutcome::Completed { output_url } => output_url.clone(),
                ArrivalOutcome::Failed { .. } => None,
            });
    }
    next.step = Step::Editing;
    next.status = RunStatus::Running;
    next.open_wait = None;
    Ok(Some(next))
}

pub(super) async fn render(
    engine: &Engine,
    run: &RunRecord,
) -> Result<Option<RunRecord>, StepError> {
    let wait = open_wait(run, Step::WaitForRender)?;
    let arrived = arrivals(engine, run, wait).await?;
    let Some((job, outcome)) = arrived.into_iter().next() else {
        return Ok(None);
    };
    let output_url = match outcome {
        ArrivalOutcome::Failed { reason } => {
            return Err(fail(
                Step::WaitForRender,
                "render_failed",
                format!("render job {job} failed: {reason}"),
            ));
        }
        ArrivalOutcome::Completed { output_url } => output_url,
    };
    let key = final_video_key(&run.run_id);
    let output = engine.providers.render.fetch_output(&job, output_url.as_deref());
    let (step, code) = (Step::WaitForRender, "render_fetch_failed");
    super::media::store(engine, step, "render", code, &key, output).await?;
    let mut next = run.clone();
    next.state.final_video_key = Some(key);
    next.step = Step::PublishApproval;
    next.status = RunStatus::AwaitingPublishApproval;
    next.open_wait = Some(open(engine, WaitKind::Gate(Gate::Publish), run.version, None, vec![]));
    Ok(Some(next))
}

/// The publish wait: the publisher confirmed the upload (its post URL, when it gives one), or
/// refused it (the run fails with its words).
pub(super) async fn publish(
    engine: &Engine,
    run: &RunRecord,
) -> Result<Option<RunRecord>, StepError> {
    let wait = open_wait(run, Step::WaitForPublish)?;
    let arrived = arrivals(engine, run, wait).await?;
    let Some((job, outcome)) = arrived.into_iter().next() else {
        return Ok(None);
    };
    let url = match outcome {
        ArrivalOutcome::Failed { reason } => {
            return Err(fail(
                Step::WaitForPublish,
                "publish_failed",
                format!("upload {job} failed: {reason}"),
            ));
        }
        ArrivalOutcome::Completed { output_url } => output_url,
    };
    tracing::info!(request_id = %job, url = url.as_deref(), "published");
    let mut next = run.clone();
    next.state.published_url = url;
    next.step = Step::Done;
    next.status = RunStatus::Completed;
    next.open_wait = None;
    Ok(Some(next))
}

/// The polling fallback: ask the provider's status API about every expected job that has not
/// called back, and record the finished ones at the rendezvous exactly as their callbacks would
/// be. Returns how many were found finished. A failing status API counts as "not ready".
pub async fn poll(engine: &Engine, run: &RunRecord) -> Result<usize, EngineError> {
    let Some(wait) = run.open_wait.as_ref() else { return Ok(0) };
    let Some(provider) = wait.provider else { return Ok(0) };
    let arrived = arrivals(engine, run, wait).await.map_err(into_engine)?;
    let mut found = 0;
    for job in wait.jobs.iter().filter(|j| !arrived.iter().any(|(a, _)| *a == j.job_id)) {
        let id = &job.job_id;
        let video = &engine.providers.video;
        let status = match provider {
            Provider::OpenAi | Provider::Replicate | Provider::Gemini
                if provider != video.provider() =>
            {
                Ok(JobStatus::Unknown {
                    detail: format!("{provider} is not the configured video provider any more"),
                })
            }
            Provider::OpenAi | Provider::Replicate | Provider::Gemini => {
                meter::provider_call("video", video.status(id)).await
            }
            Provider::Remotion => {
                meter::provider_call("render", engine.providers.render.status(id)).await
            }
            Provider::UploadPost => {
                meter::provider_call("publish", engine.providers.publish.status(id.as_str())).await
            }
        };
        let outcome = match status {
            Ok(JobStatus::Pending) => continue,
            Ok(JobStatus::Completed { output_url })
                if output_url.as_ref().is_some_and(|u| u.chars().count() > MAX_URL_CHARS) =>
            {
                ArrivalOutcome::failed(format!(
                    "{provider} reported an output URL longer than {MAX_URL_CHARS} characters"
                ))
            }
            Ok(JobStatus::Completed { output_url: Some(url) }) => {
                let checked = match provider {
                    Provider::Remotion => engine.providers.render.check_media_url(&url).await,
                    Provider::UploadPost => Ok(()), // a post's public URL, never fetched
                    _ => engine.providers.video.check_media_url(&url).await,
                };
                match checked {
                    Ok(()) => ArrivalOutcome::Completed { output_url: Some(url) },
                    Err(why) => ArrivalOutcome::failed(format!(
                        "{provider} named an output this will not fetch: {why}"
                    )),
                }
            }
            Ok(JobStatus::Completed { output_url }) => ArrivalOutcome::Completed { output_url },
            Ok(JobStatus::Failed { reason }) => ArrivalOutcome::failed(reason),
            // A job the provider no longer knows is an answer, not a delay.
            Ok(JobStatus::Unknown { detail }) => {
                ArrivalOutcome::failed(format!("{provider} no longer knows {id}: {detail}"))
            }
            Err(e) => {
                tracing::warn!(job_id = %job.job_id, error = %e, "status poll failed");
                continue;
            }
        };
        let arrival = Arrival {
            outcome,
            event_id: format!("poll:{}", job.job_id),
            received_at: engine.clock.now(),
        };
        engine.store.record_arrival(provider, &job.job_id, &arrival, None).await?;
        found += 1;
    }
    Ok(found)
}

/// The video provider that made this run's clips: the configured one, if it is the same (a run
/// waiting on one provider's jobs cannot be finished by another's).
pub(super) fn video_provider_of<'a>(
    engine: &'a Engine,
    run: &RunRecord,
    step: Step,
) -> Result<&'a std::sync::Arc<dyn crate::ports::VideoProvider>, StepError> {
    let video = &engine.providers.video;
    let made_by = run
        .open_wait
        .as_ref()
        .filter(|w| w.kind == WaitKind::Videos)
        .and_then(|w| w.provider)
        .or_else(|| {
            run.state.clips.first().map(|_| run.state.video_provider.unwrap_or(Provider::OpenAi))
        });
    match made_by {
        Some(p) if p != video.provider() => Err(fail(
            step,
            "video_provider_changed",
            format!(
                "this run's clips were made by {p}, but the configured video provider is {}",
                video.provider()
            ),
        )),
        _ => Ok(video),
    }
}

fn into_engine(e: StepError) -> EngineError {
    match e {
        StepError::Infra(e) => e,
        StepError::Retryable(why) => EngineError::Store(crate::ports::StoreError::Unavailable(why)),
        StepError::Failed(err) => EngineError::invalid("wait_check_failed", err.message),
        StepError::Superseded(why) => {
            EngineError::Conflict { code: "concurrent_update", detail: why }
        }
    }
}

/// How many of the open wait's expected jobs have called back: `(arrived, expected)`, or `None`
/// when the run is not waiting for callbacks.
pub async fn progress(
    engine: &Engine,
    run: &RunRecord,
) -> Result<Option<(usize, usize)>, StepError> {
    let Some(wait) = run.open_wait.as_ref().filter(|w| w.provider.is_some()) else {
        return Ok(None);
    };
    let arrived = arrivals(engine, run, wait).await?;
    let distinct: std::collections::BTreeSet<&JobId> = arrived.iter().map(|(j, _)| j).collect();
    Ok(Some((distinct.len(), wait.jobs.len())))
}
