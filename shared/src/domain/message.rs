//! The SQS step message: a hint naming a run (and usually the version it was sent for).

use serde::{Deserialize, Serialize};

use super::RunId;

/// A step message. The record decides: the runner never trusts this over the run record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepMessage {
    /// The run to advance.
    pub run_id: RunId,
    /// The run version this message was sent for; `None` for a wake-up from a callback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// The HTTP request that caused this message, for log correlation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// A wait's timer (deadline and polling), re-sent with a delay until the wait ends.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub timer: bool,
}

impl StepMessage {
    /// A message for a specific run version.
    pub fn at(run_id: RunId, version: u64) -> Self {
        Self { run_id, version: Some(version), request_id: None, timer: false }
    }
    /// A wake-up hint after a callback arrived.
    pub fn wake(run_id: RunId) -> Self {
        Self { run_id, version: None, request_id: None, timer: false }
    }
    /// The timer of the wait the run is at `version`.
    pub fn timer(run_id: RunId, version: u64) -> Self {
        Self { timer: true, ..Self::at(run_id, version) }
    }
    /// Attach the causing request id.
    pub fn with_request_id(mut self, id: Option<String>) -> Self {
        self.request_id = id;
        self
    }
}
