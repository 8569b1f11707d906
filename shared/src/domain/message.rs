//! The SQS step message: a hint naming a run (and usually the version it was sent for).

use serde::{Deserialize, Serialize};

use super::{Notice, RunId, Step};
use crate::time::Timestamp;

/// A step message. The record decides: the runner never trusts this over the run record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepMessage {
    /// The run to advance.
    pub run_id: RunId,
    /// The run version this message was sent for; `None` for a wake-up from a callback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// Unique per send; every copy of one send (a queue's duplicate delivery) carries the same
    /// id. A checkpoint records the id of the message whose delivery wrote it, so a redelivery
    /// of that message knows the send that should have followed may have failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The HTTP request that caused this message, for log correlation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// A wait's timer (deadline and polling), re-sent with a delay until the wait ends.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub timer: bool,
    /// A timer's place in its chain at this version: only the link whose `seq` equals the
    /// run's `timer_seq` may act or re-arm, so duplicate links die at once.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub seq: u64,
    /// When a timer is due; a tick that arrives earlier re-arms for the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fire_at: Option<Timestamp>,
    /// Set only on the copy the runner put into the DLQ after stalling the run at this version.
    /// Moving that copy back (replay, redrive) reopens the run; no other message does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive: Option<u64>,
    /// The step the run was at when this message was sent for its version (a hint, absent in
    /// older messages): a paid step's own message takes its lease first, reading the run in
    /// the same write, instead of reading it and then leasing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<Step>,
    /// A notification to deliver instead of a step to run: such a message never touches the
    /// run record (`engine/notify.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<Box<Notice>>,
    /// The receipt of the delivery this copy came in (set by the consumer, never sent): with a
    /// [`crate::ports::StepCommit`] the runner deletes the delivery with its checkpoint.
    #[serde(skip)]
    pub receipt: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn new_id() -> Option<String> {
    Some(uuid::Uuid::new_v4().simple().to_string())
}

impl StepMessage {
    /// A message for a specific run version.
    pub fn at(run_id: RunId, version: u64) -> Self {
        Self {
            run_id,
            version: Some(version),
            id: new_id(),
            request_id: None,
            timer: false,
            seq: 0,
            fire_at: None,
            redrive: None,
            step: None,
            notice: None,
            receipt: None,
        }
    }
    /// A notification about the run's checkpoint at `version`.
    pub fn notice(run_id: RunId, version: u64, notice: Notice) -> Self {
        Self { notice: Some(Box::new(notice)), ..Self::at(run_id, version) }
    }
    /// A wake-up hint after a callback arrived.
    pub fn wake(run_id: RunId) -> Self {
        Self { version: None, ..Self::at(run_id, 0) }
    }
    /// Link `seq` of the timer of the wait the run is at `version`, due at `fire_at`.
    pub fn timer(run_id: RunId, version: u64, seq: u64, fire_at: Timestamp) -> Self {
        Self { timer: true, seq, fire_at: Some(fire_at), ..Self::at(run_id, version) }
    }
    /// Attach the causing request id.
    pub fn with_request_id(mut self, id: Option<String>) -> Self {
        self.request_id = id;
        self
    }
    /// Name the step the run is at for this message's version.
    pub fn for_step(mut self, step: Step) -> Self {
        self.step = Some(step);
        self
    }
    /// True when this delivery is of the message `id` names.
    pub fn is(&self, id: Option<&str>) -> bool {
        self.id.is_some() && self.id.as_deref() == id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_bodies_still_parse_and_new_fields_round_trip() {
        let run = RunId::new();
        let old = format!(r#"{{"run_id":"{run}","version":3}}"#);
        let m: StepMessage = serde_json::from_str(&old).unwrap();
        assert_eq!((m.version, m.id, m.seq, m.redrive), (Some(3), None, 0, None));
        let t = StepMessage::timer(run, 4, 2, Timestamp(1000));
        let back: StepMessage = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
        assert!(back.is(t.id.as_deref()) && !back.is(None));
        assert_ne!(StepMessage::at(run, 1).id, StepMessage::at(run, 1).id, "one id per send");
    }
}
