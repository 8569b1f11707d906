//! What the API shows of a run: status, step, open wait, artifacts with presigned URLs, error and
//! history length.

use myloware::Engine;
use myloware::domain::{GateDecision, Ideas, OpenWait, RunError, RunRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ApiError;

/// A clip artifact.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClipView {
    /// Position.
    pub index: u32,
    /// Provider job.
    pub job_id: String,
    /// Blob key.
    pub key: Option<String>,
    /// Presigned GET URL.
    pub url: Option<String>,
}

/// A stored file.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FileView {
    /// Blob key.
    pub key: String,
    /// Presigned GET URL.
    pub url: String,
}

/// The run's artifacts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ArtifactsView {
    /// Ideation output.
    #[schema(value_type = Option<Object>)]
    pub ideas: Option<Ideas>,
    /// Clips.
    pub clips: Vec<ClipView>,
    /// The render job.
    pub render_job_id: Option<String>,
    /// The rendered video.
    pub final_video: Option<FileView>,
    /// Where it was published.
    pub published_url: Option<String>,
}

/// A run as `GET /v1/runs/{id}` shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RunView {
    /// Id.
    pub run_id: String,
    /// Project.
    pub project: String,
    /// The brief it was started with.
    pub brief: String,
    /// Status.
    pub status: String,
    /// Current step.
    pub current_step: String,
    /// Version (number of checkpoints).
    pub version: u64,
    /// Clips requested.
    pub clip_count: u32,
    /// The open wait.
    #[schema(value_type = Option<Object>)]
    pub open_wait: Option<OpenWait>,
    /// Artifacts.
    pub artifacts: ArtifactsView,
    /// Gate decisions.
    #[schema(value_type = Vec<Object>)]
    pub decisions: Vec<GateDecision>,
    /// Failure.
    #[schema(value_type = Option<Object>)]
    pub error: Option<RunError>,
    /// Checkpoints written.
    pub history_length: usize,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last checkpoint (RFC 3339).
    pub updated_at: String,
}

impl RunView {
    /// Build the view, presigning artifact URLs.
    pub async fn build(engine: &Engine, run: RunRecord) -> Result<Self, ApiError> {
        let ttl = engine.config.presign_ttl;
        let mut clips = Vec::with_capacity(run.state.clips.len());
        for c in &run.state.clips {
            let url = match &c.blob_key {
                Some(k) => Some(
                    engine
                        .blobs
                        .presign_get(k, ttl)
                        .await
                        .map_err(myloware::engine::EngineError::from)?,
                ),
                None => None,
            };
            clips.push(ClipView {
                index: c.index,
                job_id: c.job_id.to_string(),
                key: c.blob_key.clone(),
                url,
            });
        }
        let final_video = match &run.state.final_video_key {
            Some(k) => Some(FileView {
                key: k.clone(),
                url: engine
                    .blobs
                    .presign_get(k, ttl)
                    .await
                    .map_err(myloware::engine::EngineError::from)?,
            }),
            None => None,
        };
        // One checkpoint per version, from 1: the history length is the version.
        let history_length = run.version as usize;
        Ok(Self {
            run_id: run.run_id.to_string(),
            project: run.project.as_str().to_owned(),
            brief: run.brief.clone(),
            status: run.status.to_string(),
            current_step: run.step.to_string(),
            version: run.version,
            clip_count: run.clip_count,
            open_wait: run.open_wait.clone(),
            artifacts: ArtifactsView {
                ideas: run.state.ideas.clone(),
                clips,
                render_job_id: run.state.render_job.as_ref().map(|j| j.to_string()),
                final_video,
                published_url: run.state.published_url.clone(),
            },
            decisions: run.state.decisions.clone(),
            error: run.error.clone(),
            history_length,
            created_at: run.created_at.rfc3339(),
            updated_at: run.updated_at.rfc3339(),
        })
    }
}

/// A run in a listing.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RunSummary {
    /// Id.
    pub run_id: String,
    /// Project.
    pub project: String,
    /// Status.
    pub status: String,
    /// Current step.
    pub current_step: String,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last checkpoint (RFC 3339).
    pub updated_at: String,
}

impl From<&RunRecord> for RunSummary {
    fn from(r: &RunRecord) -> Self {
        Self {
            run_id: r.run_id.to_string(),
            project: r.project.as_str().to_owned(),
            status: r.status.to_string(),
            current_step: r.step.to_string(),
            created_at: r.created_at.rfc3339(),
            updated_at: r.updated_at.rfc3339(),
        }
    }
}

/// A page of runs.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RunList {
    /// The runs, newest first.
    pub runs: Vec<RunSummary>,
    /// The next page's cursor, if there is one.
    pub next_cursor: Option<String>,
}

/// A started run (`201`; the header `idempotent-replayed: true` on a retry's answer).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Started {
    /// Its id.
    pub run_id: String,
    /// Its status.
    pub status: String,
}

/// A run after an action on it (resume, cancel).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RunState {
    /// Id.
    pub run_id: String,
    /// Status.
    pub status: String,
    /// Current step.
    pub current_step: String,
}

impl RunState {
    /// The state of `run`.
    pub fn of(run: &RunRecord) -> Self {
        Self {
            run_id: run.run_id.to_string(),
            status: run.status.to_string(),
            current_step: run.step.to_string(),
        }
    }
}

/// A gate decision's answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Decided {
    /// Id.
    pub run_id: String,
    /// Status after the decision.
    pub status: String,
    /// Step after the decision.
    pub current_step: String,
    /// The gate.
    pub gate: String,
    /// `approve` or `reject`.
    pub decision: String,
    /// True when this decision had been taken already (nothing changed).
    pub replayed: bool,
}

/// Where a fork came from.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ForkedFrom {
    /// The source run.
    pub run_id: String,
    /// The checkpoint.
    pub version: u64,
}

/// A fork (`201`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Forked {
    /// The new run.
    pub run_id: String,
    /// Its status.
    pub status: String,
    /// Its step.
    pub current_step: String,
    /// Its source.
    pub forked_from: ForkedFrom,
}

/// One checkpoint.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CheckpointView {
    /// Version.
    pub version: u64,
    /// Step.
    pub step: String,
    /// Status.
    pub status: String,
    /// When (RFC 3339).
    pub at: String,
    /// The failure, if any.
    #[schema(value_type = Option<Object>)]
    pub error: Option<RunError>,
}

/// A run's history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct History {
    /// The run.
    pub run_id: String,
    /// Every checkpoint, oldest first.
    pub checkpoints: Vec<CheckpointView>,
}

/// One principal's rating of a run.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FeedbackView {
    /// The run.
    pub run_id: String,
    /// The principal.
    pub caller: String,
    /// 1 to 5.
    pub rating: u8,
    /// Why.
    pub comment: Option<String>,
    /// First given (RFC 3339).
    pub created_at: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
}

/// A run's feedback.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FeedbackList {
    /// The run.
    pub run_id: String,
    /// Each principal's, oldest first.
    pub feedback: Vec<FeedbackView>,
    /// How many.
    pub count: usize,
    /// Their average, when there are any.
    pub average: Option<f64>,
}

/// One event's delivery to one endpoint.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NoticeView {
    /// The event id (the `webhook-id` header).
    pub event_id: String,
    /// `run.awaiting_approval`, `run.stalled`, `run.failed` or `run.completed`.
    pub event_type: String,
    /// The endpoint's configured name.
    pub endpoint: String,
    /// `sending`, `retrying`, `delivered`, `gave_up` or `dropped` (the endpoint is no longer
    /// configured).
    pub state: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last answer's HTTP status.
    pub last_status: Option<u16>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When the next attempt is due (RFC 3339).
    pub next_attempt_at: Option<String>,
    /// First attempt (RFC 3339).
    pub first_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

/// A run's notification delivery log.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NoticeList {
    /// The run.
    pub run_id: String,
    /// Oldest first.
    pub deliveries: Vec<NoticeView>,
}

/// An error: a stable code and a reason for people (`docs/errors.md`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The code.
    pub error: String,
    /// What is wrong.
    pub detail: String,
}

/// The dead letters, oldest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DlqList {
    /// Each: message_id, run_id, step, status, error, attempts, age_secs, body.
    #[schema(value_type = Vec<Object>)]
    pub messages: Vec<myloware::engine::DeadLetterView>,
}

/// A move of the dead letters back to the step queue.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TaskView {
    /// Its handle.
    pub handle: String,
    /// `RUNNING`, `COMPLETED`, `FAILED`, `CANCELLED`, …
    pub status: String,
    /// Messages moved so far.
    pub moved: u64,
    /// Messages to move, when known.
    pub total: Option<u64>,
    /// Why it failed.
    pub failure: Option<String>,
}

impl From<&myloware::ports::MoveTask> for TaskView {
    fn from(t: &myloware::ports::MoveTask) -> Self {
        Self {
            handle: t.handle.clone(),
            status: t.status.clone(),
            moved: t.moved,
            total: t.total,
            failure: t.failure.clone(),
        }
    }
}

/// One move task (`?handle=`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TaskFound {
    /// The task.
    pub task: TaskView,
}

/// The latest move tasks, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TaskList {
    /// The tasks.
    pub tasks: Vec<TaskView>,
}
