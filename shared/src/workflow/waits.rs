//! The callback waits. Fan-in is set-based: a wait completes when every distinct expected job of
//! the wait's generation has an arrival; a failed arrival fails the run with the provider's reason.

use super::{StepError, fail, final_video_key, provider_error};
use crate::domain::{
    ArrivalOutcome, CorrelationRecord, Gate, JobId, OpenWait, RunRecord, RunStatus, Step, WaitKind,
};
use crate::engine::{Engine, meter};

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
    let bytes = meter::provider_call(
        "render",
        engine.providers.render.fetch_output(&job, output_url.as_deref()),
    )
    .await
    .map_err(|e| provider_error(Step::WaitForRender, "render_fetch_failed", e))?;
    let key = final_video_key(&run.run_id);
    engine.blobs.put(&key, bytes, "video/mp4").await?;
    let mut next = run.clone();
    next.state.final_video_key = Some(key);
    next.step = Step::PublishApproval;
    next.status = RunStatus::AwaitingPublishApproval;
    next.open_wait = Some(OpenWait {
        kind: WaitKind::Gate(Gate::Publish),
        generation: run.version,
        provider: None,
        jobs: vec![],
        since: engine.clock.now(),
    });
    Ok(Some(next))
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
