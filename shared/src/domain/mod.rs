//! Domain types: typed ids, statuses and steps, the run record and its history, step messages.

mod ids;
mod message;
mod notice;
mod run;
mod status;

pub use ids::{IdError, IdempotencyKey, JobId, ProjectName, Provider, RunId};
pub use message::StepMessage;
pub use notice::{DeliveryState, Notice, NoticeDelivery, NoticeKind, NoticeWrite};
pub use run::{
    Arrival, ArrivalOutcome, AuditEntry, CheckpointEntry, ClipRef, Correlation, CorrelationRecord,
    ExpectedJob, Feedback, GateDecision, Ideas, IdeationGuide, Lease, MAX_CAPTION_CHARS,
    MAX_FEEDBACK_CHARS, MAX_OVERLAY_CHARS, MAX_PROMPT_CHARS, MAX_REASON_CHARS, MAX_TITLE_CHARS,
    MAX_URL_CHARS, NoopProgress, OpenWait, OverlayStyle, PublishSpec, RunError, RunRecord, RunSpec,
    SafetyRecord, VideoModel, Viewer, WaitKind, WorkflowState, bounded,
};
pub use status::{Decision, Gate, RunStatus, Step, StepKind};
