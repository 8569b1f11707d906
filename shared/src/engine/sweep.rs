//! The sweeper: a periodic pass over the runs that are *due* — whose `due_at` passed because
//! nothing wrote them for `stuck_after` (their message was lost, their timer chain broke). It
//! reads them from an index on `due_at`, earliest first, never walking the healthy runs, and
//! each run it handles gets a new `due_at`, so a pass cut short by its time budget is resumed by
//! the next one. Errors stay with their run: an unreadable record is reported and skipped.
//!
//! A wait gets its timer handled in place (complete, time out, poll, re-arm the chain); an
//! active step whose lease has lapsed gets its message re-sent. False positives are harmless: a
//! second message or timer for the same version loses the checkpoint race and is acked. Ended
//! and stalled runs have no `due_at`: a stalled run waits for an operator, never for the sweeper.

use std::time::{Duration, Instant};

use serde::Serialize;
use tracing::{info, warn};

use super::{Engine, EngineError};
use crate::domain::{RunId, RunRecord, StepKind, StepMessage};

/// A run the sweeper could not handle, and why.
#[derive(Debug, Clone, Serialize)]
pub struct SweepError {
    /// The run.
    pub run_id: RunId,
    /// What went wrong.
    pub error: String,
}

/// What a sweep did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SweepReport {
    /// Due runs looked at.
    pub examined: usize,
    /// Active runs whose message was re-sent.
    pub requeued: Vec<RunId>,
    /// Waiting runs whose timer was run in place (re-armed, polled, completed).
    pub timers: Vec<RunId>,
    /// Runs that ended because their wait's deadline had passed.
    pub timed_out: Vec<RunId>,
    /// Runs skipped with an error (an unreadable record, a failed write): reported, deferred.
    pub errors: Vec<SweepError>,
    /// False when the time budget ran out before every due run was seen (the next pass goes on).
    pub finished: bool,
}

/// Due runs read per page.
const PAGE: u32 = 100;

impl Engine {
    /// One sweep over the due runs, stopping when `budget` (wall time) is spent.
    pub async fn sweep(&self, budget: Duration) -> Result<SweepReport, EngineError> {
        let started = Instant::now();
        let now = self.clock.now();
        let mut report = SweepReport::default();
        let mut cursor = None;
        'pages: loop {
            let page = self.store.due_runs(now, PAGE, cursor).await?;
            for due in page.runs {
                if started.elapsed() >= budget {
                    break 'pages;
                }
                report.examined += 1;
                let id = due.run_id;
                let outcome = match due.record {
                    Ok(_) => self.sweep_one(&id, &mut report).await,
                    Err(why) => Err(EngineError::Store(crate::ports::StoreError::Corrupt {
                        key: id.to_string(),
                        why,
                    })),
                };
                if let Err(e) = outcome {
                    warn!(run_id = %id, error = %e, "sweeper skipped a run");
                    report.errors.push(SweepError { run_id: id, error: e.to_string() });
                    // Out of the way until a later pass, so it never starves the others.
                    let later = now.plus(self.config.waits.stuck_after);
                    if let Err(e) = self.store.defer_due(&id, None, later).await {
                        warn!(run_id = %id, error = %e, "could not defer a failing run");
                    }
                }
            }
            match page.next_cursor {
                Some(c) if started.elapsed() < budget => cursor = Some(c),
                Some(_) => break,
                None => {
                    report.finished = true;
                    break;
                }
            }
        }
        info!(
            examined = report.examined,
            requeued = report.requeued.len(),
            timers = report.timers.len(),
            timed_out = report.timed_out.len(),
            errors = report.errors.len(),
            finished = report.finished,
            "sweep done"
        );
        Ok(report)
    }

    async fn sweep_one(&self, id: &RunId, report: &mut SweepReport) -> Result<(), EngineError> {
        // The index may lag behind the record: decide on a consistent read.
        let Some(run) = self.store.get_run(id).await? else { return Ok(()) };
        let now = self.clock.now();
        if run.due_at.is_none_or(|d| d > now) {
            return Ok(());
        }
        let later = now.plus(self.config.waits.stuck_after);
        if let Some(lease) = run.lease.as_ref().filter(|l| l.until > now) {
            // A step is running: look again once its lease would have lapsed.
            let at = lease.until.plus(self.config.waits.stuck_after).max(later);
            return self.defer(&run, at).await;
        }
        match run.step.kind() {
            StepKind::Gate(_) | StepKind::CallbackWait if run.open_wait.is_some() => {
                let link = StepMessage::timer(*id, run.version, run.timer_seq, now)
                    .with_request_id(Some("sweeper".into()));
                self.on_timer(run, &link, 1).await?;
                let after = self.get(id).await?;
                if after.status.is_terminal() {
                    report.timed_out.push(*id);
                } else {
                    report.timers.push(*id);
                }
            }
            StepKind::Active | StepKind::CallbackWait => {
                info!(run_id = %id, step = %run.step, "run stopped moving; re-sending its message");
                let m = StepMessage::at(*id, run.version).with_request_id(Some("sweeper".into()));
                self.queue.send(&m, Duration::ZERO).await?;
                self.defer(&run, later).await?;
                report.requeued.push(*id);
            }
            StepKind::Gate(_) | StepKind::Done => self.defer(&run, later).await?,
        }
        Ok(())
    }

    async fn defer(
        &self,
        run: &RunRecord,
        until: crate::time::Timestamp,
    ) -> Result<(), EngineError> {
        match self.store.defer_due(&run.run_id, Some(run.version), until).await {
            Ok(()) | Err(crate::ports::StoreError::ConditionFailed(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
