//! Watching a run: what happened since the last look, as events — each checkpoint, the clips
//! that arrived of N while the run waits for them, each gate it waited at, and its end. Read
//! from the store, so any process and any backend can be watched; the API streams them
//! (`GET /v1/runs/{id}/events`).

use serde::Serialize;

use super::{Engine, EngineError};
use crate::domain::{Gate, RunError, RunId, RunRecord, RunStatus, Step, WaitKind};

/// Something that happened to a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    /// A checkpoint was written.
    Checkpoint {
        /// Its version.
        version: u64,
        /// The step the run is at.
        step: Step,
        /// Its status.
        status: RunStatus,
        /// When (RFC 3339).
        at: String,
        /// The failure, if it failed.
        error: Option<RunError>,
    },
    /// While the run waits for its clips: how many arrived.
    Clips {
        /// Arrived.
        arrived: usize,
        /// Expected.
        of: usize,
    },
    /// The run waits for a person at this gate.
    Gate {
        /// Which.
        gate: Gate,
        /// The waiting status.
        status: RunStatus,
    },
    /// The run ended.
    End {
        /// How.
        status: RunStatus,
        /// Why, if it did not complete.
        error: Option<RunError>,
    },
}

impl RunEvent {
    /// The event's name (the SSE `event:` field).
    pub fn name(&self) -> &'static str {
        match self {
            RunEvent::Checkpoint { .. } => "checkpoint",
            RunEvent::Clips { .. } => "clips",
            RunEvent::Gate { .. } => "gate",
            RunEvent::End { .. } => "end",
        }
    }
}

/// What a watcher has been told so far.
#[derive(Debug, Clone)]
pub struct RunWatch {
    id: RunId,
    version: u64,
    clips: Option<(usize, usize)>,
    ended: bool,
}

impl RunWatch {
    /// A watch of `id` from its first checkpoint.
    pub fn new(id: RunId) -> Self {
        Self { id, version: 0, clips: None, ended: false }
    }

    /// Whether the run ended (its `End` was told).
    pub fn ended(&self) -> bool {
        self.ended
    }
}

impl Engine {
    /// What happened to the watched run since the last look (nothing new: empty).
    pub async fn watch(&self, w: &mut RunWatch) -> Result<Vec<RunEvent>, EngineError> {
        let mut out = Vec::new();
        if w.ended {
            return Ok(out);
        }
        let run = self.get(&w.id).await?;
        if run.version > w.version {
            let history = self.store.history(&w.id).await?;
            let all = (run.clip_count as usize, run.clip_count as usize);
            let mut previous = None;
            for c in &history {
                if c.version > w.version {
                    out.push(RunEvent::Checkpoint {
                        version: c.version,
                        step: c.step,
                        status: c.status,
                        at: c.at.rfc3339(),
                        error: c.error.clone(),
                    });
                    // From the history, so a gate passed between two looks is told too.
                    if let Some(gate) = [Gate::Ideation, Gate::Publish]
                        .into_iter()
                        .find(|g| g.waiting_status() == c.status)
                    {
                        out.push(RunEvent::Gate { gate, status: c.status });
                    }
                    // Leaving the clip wait: every clip arrived, however fast it went.
                    if previous == Some(Step::WaitForVideos)
                        && c.step != Step::WaitForVideos
                        && w.clips != Some(all)
                    {
                        out.push(RunEvent::Clips { arrived: all.0, of: all.1 });
                        w.clips = Some(all);
                    }
                }
                previous = Some(c.step);
            }
            w.version = run.version;
        }
        if let Some((arrived, of)) = self.clips_arrived(&run).await?
            && w.clips != Some((arrived, of))
        {
            out.push(RunEvent::Clips { arrived, of });
            w.clips = Some((arrived, of));
        }
        if run.status.is_terminal() {
            out.push(RunEvent::End { status: run.status, error: run.error.clone() });
            w.ended = true;
        }
        Ok(out)
    }

    /// While `run` waits for its clips: how many of them arrived.
    async fn clips_arrived(&self, run: &RunRecord) -> Result<Option<(usize, usize)>, EngineError> {
        let Some(wait) = run.open_wait.as_ref().filter(|w| w.kind == WaitKind::Videos) else {
            return Ok(None);
        };
        let Some(provider) = wait.provider else { return Ok(None) };
        let jobs: Vec<_> = wait.jobs.iter().map(|j| j.job_id.clone()).collect();
        let found = self.store.correlations(provider, &jobs).await?;
        Ok(Some((found.iter().filter(|c| c.arrival.is_some()).count(), jobs.len())))
    }
}
