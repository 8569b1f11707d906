//! Notifications about a run: the events worth telling someone (a gate waits, the run stalled,
//! failed or completed), the message that delivers one to one endpoint, and the delivery log.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Gate, RunId, RunRecord, RunStatus, StepKind};
use crate::time::Timestamp;

/// What happened to a run that someone should hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NoticeKind {
    /// The run waits at a gate for a person's decision.
    #[serde(rename = "run.awaiting_approval")]
    AwaitingApproval,
    /// Retries ran out; an operator must resume it.
    #[serde(rename = "run.stalled")]
    Stalled,
    /// The run ended with an error.
    #[serde(rename = "run.failed")]
    Failed,
    /// The run ended: the video is published.
    #[serde(rename = "run.completed")]
    Completed,
}

impl NoticeKind {
    /// The event type as sent (`run.completed`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::AwaitingApproval => "run.awaiting_approval",
            NoticeKind::Stalled => "run.stalled",
            NoticeKind::Failed => "run.failed",
            NoticeKind::Completed => "run.completed",
        }
    }

    /// The notice a run at this status is worth, if any.
    pub fn of_status(status: RunStatus) -> Option<Self> {
        match status {
            RunStatus::AwaitingIdeationApproval | RunStatus::AwaitingPublishApproval => {
                Some(NoticeKind::AwaitingApproval)
            }
            RunStatus::Stalled => Some(NoticeKind::Stalled),
            RunStatus::Failed => Some(NoticeKind::Failed),
            RunStatus::Completed => Some(NoticeKind::Completed),
            _ => None,
        }
    }

    /// The notice of the checkpoint `next` written over a run at `prev_status`: only a
    /// checkpoint that enters a notable status is worth one (a gate's timer ticks, an edit of
    /// the ideas at the gate are not).
    pub fn entered(prev_status: RunStatus, next: &RunRecord) -> Option<Self> {
        (prev_status != next.status).then(|| Self::of_status(next.status)).flatten()
    }

    /// The notice of the checkpoint at `run.version` when the writer of that version is known
    /// but not the status before it (a redelivery repairing its lost sends): a gate counts when
    /// the step was entered at this version; the other notable statuses are only ever written
    /// on entry (nothing checkpoints a stalled or ended run but a resume, which leaves them).
    pub fn at_version(run: &RunRecord) -> Option<Self> {
        let kind = Self::of_status(run.status)?;
        let gate_entered = run.state.step_generation == Some(run.version);
        (kind != NoticeKind::AwaitingApproval || gate_entered).then_some(kind)
    }
}

impl fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event for one endpoint, carried by a step-queue message. The body is fixed when the
/// event is emitted, so every attempt (and every re-emission by a repair) sends the same bytes
/// under the same `webhook-id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The event id (`webhook-id`): the run and the version whose checkpoint caused it.
    pub event_id: String,
    /// The event type.
    pub kind: NoticeKind,
    /// The configured endpoint's name.
    pub endpoint: String,
    /// The JSON payload.
    pub body: String,
    /// Which attempt this message is (1-based): a retry is a new message, delayed.
    pub attempt: u32,
}

impl Notice {
    /// The event id of the checkpoint of `run` at `version`: one per checkpoint, whoever
    /// emits it and however often.
    pub fn event_id(run: &RunId, version: u64) -> String {
        format!("evt_{run}_{version}")
    }

    /// The payload of `kind` for `run` (Standard Webhooks shape: `type`, `timestamp`, `data`).
    /// `console` is the public base URL of the review console, when known.
    pub fn payload(kind: NoticeKind, run: &RunRecord, console: Option<&str>) -> String {
        let gate = match run.step.kind() {
            StepKind::Gate(Gate::Ideation) => Some("ideation"),
            StepKind::Gate(Gate::Publish) => Some("publish"),
            _ => None,
        };
        let mut data = serde_json::json!({
            "run_id": run.run_id,
            "project": run.project,
            "status": run.status,
            "step": run.step,
            "version": run.version,
        });
        if let Some(gate) = gate.filter(|_| kind == NoticeKind::AwaitingApproval) {
            data["gate"] = gate.into();
        }
        if let Some(e) = run.error.as_ref().filter(|_| kind != NoticeKind::AwaitingApproval) {
            data["error"] = serde_json::json!({ "code": e.code, "message": e.message });
        }
        if let Some(base) = console {
            data["console_url"] =
                format!("{}/console/runs/{}", base.trim_end_matches('/'), run.run_id).into();
        }
        serde_json::json!({
            "type": kind.as_str(),
            "timestamp": run.updated_at.rfc3339(),
            "data": data,
        })
        .to_string()
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// An attempt is being made (claimed until `claimed_until`).
    Sending,
    /// An attempt failed; another is scheduled.
    Retrying,
    /// The endpoint answered 2xx.
    Delivered,
    /// Every attempt failed; no more are made.
    GaveUp,
    /// The endpoint is no longer configured.
    Dropped,
}

impl DeliveryState {
    /// True when no further attempt will be made.
    pub fn is_final(self) -> bool {
        !matches!(self, DeliveryState::Sending | DeliveryState::Retrying)
    }

    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Sending => "sending",
            DeliveryState::Retrying => "retrying",
            DeliveryState::Delivered => "delivered",
            DeliveryState::GaveUp => "gave_up",
            DeliveryState::Dropped => "dropped",
        }
    }
}

/// How a delivery row may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeWrite {
    /// Claim the row's attempt: only if there is no row, the row is at an earlier attempt, or
    /// it is this attempt still `sending` with its claim lapsed before `now`.
    Claim {
        /// The current time.
        now: Timestamp,
    },
    /// Record how the attempt went: unless the row is at a later attempt (a row never goes
    /// back).
    Settle,
}

impl NoticeWrite {
    /// Whether `new` may replace `old` (the rule every store applies in its conditional write).
    pub fn allows(self, old: Option<&NoticeDelivery>, new: &NoticeDelivery) -> bool {
        let Some(old) = old else { return true };
        match self {
            NoticeWrite::Claim { now } => {
                old.attempts < new.attempts
                    || (old.attempts == new.attempts
                        && old.state == DeliveryState::Sending
                        && old.claimed_until.is_none_or(|t| t < now))
            }
            NoticeWrite::Settle => old.attempts <= new.attempts,
        }
    }
}

/// One event's delivery to one endpoint, as the delivery log keeps it (one row, updated per
/// attempt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeDelivery {
    /// The run.
    pub run_id: RunId,
    /// The event id (`webhook-id`).
    pub event_id: String,
    /// The event type.
    pub kind: NoticeKind,
    /// The endpoint's name.
    pub endpoint: String,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: u32,
    /// The last answer's HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<u16>,
    /// Why the last attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the next attempt is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<Timestamp>,
    /// While `sending`: until when the attempt belongs to the delivery that claimed it (a copy
    /// arriving meanwhile waits; after it, the attempt is free to be made again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_until: Option<Timestamp>,
    /// First attempt.
    pub first_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ProjectName, Step};

    fn run_at(status: RunStatus, step: Step, version: u64) -> RunRecord {
        let mut r =
            RunRecord::new(ProjectName::parse("aismr").unwrap(), "b".into(), 1, None, Timestamp(0));
        (r.status, r.step, r.version) = (status, step, version);
        r
    }

    #[test]
    fn only_entering_a_notable_status_is_worth_a_notice() {
        let gate = run_at(RunStatus::AwaitingIdeationApproval, Step::IdeationApproval, 4);
        assert_eq!(
            NoticeKind::entered(RunStatus::Running, &gate),
            Some(NoticeKind::AwaitingApproval)
        );
        assert_eq!(NoticeKind::entered(gate.status, &gate), None, "a tick at the gate");
        let running = run_at(RunStatus::Running, Step::Production, 5);
        assert_eq!(NoticeKind::entered(gate.status, &running), None);
        let done = run_at(RunStatus::Completed, Step::Done, 9);
        assert_eq!(
            NoticeKind::entered(RunStatus::AwaitingPublish, &done),
            Some(NoticeKind::Completed)
        );
    }

    #[test]
    fn a_repair_knows_a_gate_notice_only_at_the_version_that_entered_the_gate() {
        let mut gate = run_at(RunStatus::AwaitingPublishApproval, Step::PublishApproval, 7);
        gate.state.step_generation = Some(7);
        assert_eq!(NoticeKind::at_version(&gate), Some(NoticeKind::AwaitingApproval));
        gate.version = 8;
        assert_eq!(NoticeKind::at_version(&gate), None, "a later tick or edit");
        let stalled = run_at(RunStatus::Stalled, Step::Production, 3);
        assert_eq!(NoticeKind::at_version(&stalled), Some(NoticeKind::Stalled));
    }

    #[test]
    fn the_payload_names_the_gate_and_the_console_page() {
        let mut gate = run_at(RunStatus::AwaitingIdeationApproval, Step::IdeationApproval, 4);
        gate.updated_at = Timestamp(1_700_000_000_000);
        let body = Notice::payload(NoticeKind::AwaitingApproval, &gate, Some("https://x.test/"));
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["type"], "run.awaiting_approval");
        assert_eq!(v["data"]["gate"], "ideation");
        assert_eq!(v["data"]["status"], "awaiting_ideation_approval");
        assert_eq!(
            v["data"]["console_url"],
            format!("https://x.test/console/runs/{}", gate.run_id)
        );
        assert_eq!(v["timestamp"], "2023-11-14T22:13:20.000Z");
        assert_eq!(
            body,
            Notice::payload(NoticeKind::AwaitingApproval, &gate, Some("https://x.test/"))
        );
    }
}
