//! Run statuses (the original's ten plus `stalled` and `cancelled`), workflow steps and gates.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a run stands, as API readers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Created; the first step has not started.
    Pending,
    /// A step is executing or queued.
    Running,
    /// Waiting for a human at the ideation gate.
    AwaitingIdeationApproval,
    /// Waiting for the video provider's callbacks.
    AwaitingVideoGeneration,
    /// Waiting for the renderer's callback.
    AwaitingRender,
    /// Waiting for a human at the publish gate.
    AwaitingPublishApproval,
    /// Publishing is processing at the provider.
    AwaitingPublish,
    /// Finished: the video is published.
    Completed,
    /// Finished with an error (operators may resume).
    Failed,
    /// A human rejected a gate.
    Rejected,
    /// Retries exhausted; the message went to the DLQ.
    Stalled,
    /// An operator cancelled the run.
    Cancelled,
}

impl RunStatus {
    /// Every status, in workflow order.
    pub const ALL: [RunStatus; 12] = [
        RunStatus::Pending,
        RunStatus::Running,
        RunStatus::AwaitingIdeationApproval,
        RunStatus::AwaitingVideoGeneration,
        RunStatus::AwaitingRender,
        RunStatus::AwaitingPublishApproval,
        RunStatus::AwaitingPublish,
        RunStatus::Completed,
        RunStatus::Failed,
        RunStatus::Rejected,
        RunStatus::Stalled,
        RunStatus::Cancelled,
    ];

    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Pending => "pending",
            RunStatus::Running => "running",
            RunStatus::AwaitingIdeationApproval => "awaiting_ideation_approval",
            RunStatus::AwaitingVideoGeneration => "awaiting_video_generation",
            RunStatus::AwaitingRender => "awaiting_render",
            RunStatus::AwaitingPublishApproval => "awaiting_publish_approval",
            RunStatus::AwaitingPublish => "awaiting_publish",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Rejected => "rejected",
            RunStatus::Stalled => "stalled",
            RunStatus::Cancelled => "cancelled",
        }
    }

    /// True when no automatic path will move the run again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RunStatus::Completed | RunStatus::Failed | RunStatus::Rejected | RunStatus::Cancelled
        )
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        RunStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown status {s:?}"))
    }
}

/// What kind of work a step is, which decides how a step message is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// Does work (possibly paid) under a lease, then checkpoints.
    Active,
    /// Waits for provider callbacks or status polls; a message checks the rendezvous.
    CallbackWait,
    /// Waits for a human decision through the API; messages are no-ops.
    Gate(Gate),
    /// Nothing left to do.
    Done,
}

/// A workflow step (the original's node names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// LLM ideation from the brief.
    Ideation,
    /// Human gate on the ideas.
    IdeationApproval,
    /// Submit the N video clips.
    Production,
    /// Wait for N video callbacks.
    WaitForVideos,
    /// Fetch clips and submit one render.
    Editing,
    /// Wait for the render callback.
    WaitForRender,
    /// Human gate on the rendered video.
    PublishApproval,
    /// Upload the video (in the background at the publisher, under our request id).
    Publishing,
    /// Wait until the publisher confirms the upload (its status is polled).
    WaitForPublish,
    /// The run has ended.
    Done,
    /// One step of the no-op workflow (`workflow/noop.rs`): computes nothing and pays nothing.
    /// It exists so the engine's own cost is measured through its real runner.
    Noop,
}

impl Step {
    /// Every step, in workflow order.
    pub const WORKFLOW: [Step; 10] = [
        Step::Ideation,
        Step::IdeationApproval,
        Step::Production,
        Step::WaitForVideos,
        Step::Editing,
        Step::WaitForRender,
        Step::PublishApproval,
        Step::Publishing,
        Step::WaitForPublish,
        Step::Done,
    ];

    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Ideation => "ideation",
            Step::IdeationApproval => "ideation_approval",
            Step::Production => "production",
            Step::WaitForVideos => "wait_for_videos",
            Step::Editing => "editing",
            Step::WaitForRender => "wait_for_render",
            Step::PublishApproval => "publish_approval",
            Step::Publishing => "publishing",
            Step::WaitForPublish => "wait_for_publish",
            Step::Done => "done",
            Step::Noop => "noop",
        }
    }

    /// The status of a run that is at this step and moving (not failed or stalled).
    pub fn runnable_status(self) -> RunStatus {
        match self {
            Step::WaitForVideos => RunStatus::AwaitingVideoGeneration,
            Step::WaitForRender => RunStatus::AwaitingRender,
            Step::WaitForPublish => RunStatus::AwaitingPublish,
            Step::IdeationApproval => Gate::Ideation.waiting_status(),
            Step::PublishApproval => Gate::Publish.waiting_status(),
            Step::Done => RunStatus::Completed,
            Step::Ideation | Step::Production | Step::Editing | Step::Publishing | Step::Noop => {
                RunStatus::Running
            }
        }
    }

    /// How the runner treats this step.
    pub fn kind(self) -> StepKind {
        match self {
            Step::Ideation | Step::Production | Step::Editing | Step::Publishing | Step::Noop => {
                StepKind::Active
            }
            Step::WaitForVideos | Step::WaitForRender | Step::WaitForPublish => {
                StepKind::CallbackWait
            }
            Step::IdeationApproval => StepKind::Gate(Gate::Ideation),
            Step::PublishApproval => StepKind::Gate(Gate::Publish),
            Step::Done => StepKind::Done,
        }
    }
}

impl Step {
    /// Whether this active step makes a paid or public call (an LLM, a video or render job, a
    /// publication). Those run under a lease, confirmed before every call, so one execution at
    /// a time can pay; a step that pays nothing is fenced by the checkpoint's version alone.
    pub fn pays(self) -> bool {
        matches!(self, Step::Ideation | Step::Production | Step::Editing | Step::Publishing)
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A human approval gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    /// After ideation, before any paid video call.
    Ideation,
    /// After rendering, before publishing.
    Publish,
}

impl Gate {
    /// The status a run has while waiting at this gate.
    pub fn waiting_status(self) -> RunStatus {
        match self {
            Gate::Ideation => RunStatus::AwaitingIdeationApproval,
            Gate::Publish => RunStatus::AwaitingPublishApproval,
        }
    }
    /// The step at which a run waits at this gate.
    pub fn step(self) -> Step {
        match self {
            Gate::Ideation => Step::IdeationApproval,
            Gate::Publish => Step::PublishApproval,
        }
    }
    /// The step that follows an approval.
    pub fn next_step(self) -> Step {
        match self {
            Gate::Ideation => Step::Production,
            Gate::Publish => Step::Publishing,
        }
    }
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Gate::Ideation => "ideation",
            Gate::Publish => "publish",
        }
    }
}

/// A human's verdict at a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Go on.
    Approve,
    /// Stop the run as `rejected`.
    Reject,
}

impl Decision {
    /// `approve` or `reject`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_by_name() {
        for s in RunStatus::ALL {
            assert_eq!(s.as_str().parse::<RunStatus>().unwrap(), s);
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert!("done".parse::<RunStatus>().is_err());
        assert!(RunStatus::Cancelled.is_terminal() && !RunStatus::Stalled.is_terminal());
        assert_eq!(Step::WaitForVideos.kind(), StepKind::CallbackWait);
        assert_eq!(Step::PublishApproval.kind(), StepKind::Gate(Gate::Publish));
    }
}
