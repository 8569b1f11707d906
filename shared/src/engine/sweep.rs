//! The sweeper: a periodic pass over runs that have not ended, for the ones that stopped moving
//! (their message was lost, their timer chain broke, their deadline passed while nothing was
//! in flight). A wait gets its timer handled in place (complete, time out, poll, re-arm); an
//! active step whose lease has lapsed gets its message re-sent. False positives are harmless:
//! a second message or timer for the same version loses the checkpoint race and is acked.

use serde::Serialize;
use tracing::info;

use super::{Engine, EngineError};
use crate::domain::{RunId, RunRecord, RunStatus, StepKind, StepMessage};
use crate::ports::ListQuery;

/// What a sweep did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SweepReport {
    /// Runs looked at.
    pub examined: usize,
    /// Active runs whose message was re-sent.
    pub requeued: Vec<RunId>,
    /// Waiting runs whose timer was run in place (ticked, polled, completed).
    pub timers: Vec<RunId>,
    /// Runs that ended because their wait's deadline had passed.
    pub timed_out: Vec<RunId>,
}

/// Statuses of runs that should be moving on their own.
const MOVING: [RunStatus; 7] = [
    RunStatus::Pending,
    RunStatus::Running,
    RunStatus::AwaitingIdeationApproval,
    RunStatus::AwaitingVideoGeneration,
    RunStatus::AwaitingRender,
    RunStatus::AwaitingPublishApproval,
    RunStatus::AwaitingPublish,
];

impl Engine {
    /// One sweep over every run that has not ended (up to `max_runs`).
    pub async fn sweep(&self, max_runs: usize) -> Result<SweepReport, EngineError> {
        let mut report = SweepReport::default();
        for status in MOVING {
            let mut cursor = None;
            loop {
                let q = ListQuery { status: Some(status), limit: 100, cursor };
                let page = self.store.list_runs(&q).await?;
                for run in page.runs {
                    if report.examined >= max_runs {
                        return Ok(report);
                    }
                    report.examined += 1;
                    self.sweep_one(run, &mut report).await?;
                }
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
        }
        info!(
            examined = report.examined,
            requeued = report.requeued.len(),
            timers = report.timers.len(),
            timed_out = report.timed_out.len(),
            "sweep done"
        );
        Ok(report)
    }

    async fn sweep_one(&self, run: RunRecord, report: &mut SweepReport) -> Result<(), EngineError> {
        let now = self.clock.now();
        if run.lease.as_ref().is_some_and(|l| l.until > now) {
            return Ok(());
        }
        let idle = now.since(run.updated_at) >= self.config.waits.stuck_after;
        let overdue = run
            .open_wait
            .as_ref()
            .is_some_and(|w| now >= w.deadline.unwrap_or(crate::time::Timestamp(i64::MAX)));
        if !idle && !overdue {
            return Ok(());
        }
        let id = run.run_id;
        match run.step.kind() {
            StepKind::Gate(_) | StepKind::CallbackWait if run.open_wait.is_some() => {
                let timer =
                    StepMessage::timer(id, run.version).with_request_id(Some("sweeper".into()));
                self.on_timer(run, &timer).await?;
                let after = self.get(&id).await?;
                if after.status.is_terminal() {
                    report.timed_out.push(id);
                } else {
                    report.timers.push(id);
                }
            }
            StepKind::Active | StepKind::CallbackWait => {
                info!(run_id = %id, step = %run.step, "run stopped moving; re-sending its message");
                let m = StepMessage::at(id, run.version).with_request_id(Some("sweeper".into()));
                self.queue.send(&m, std::time::Duration::ZERO).await?;
                report.requeued.push(id);
            }
            StepKind::Gate(_) | StepKind::Done => {}
        }
        Ok(())
    }
}
