//! Wait timers. Every wait (callback or gate) has a deadline, enforced by a chain of delayed timer
//! messages of at most 15 minutes each (SQS's longest delay), so a gate can wait for days. Each
//! tick is a versioned checkpoint: duplicate timers collapse (one wins the tick, the rest are
//! stale), and `updated_at` proves the chain alive to the sweeper. A callback wait whose callbacks
//! are late polls the provider's status API on the tick; "not ready" only schedules the next
//! tick, it never consumes a retry.

use std::time::Duration;

use tracing::{info, warn};

use super::runner::{Disposition, Landed};
use super::{Engine, EngineError};
use crate::domain::{OpenWait, RunError, RunRecord, StepKind, StepMessage, WaitKind};
use crate::time::Timestamp;
use crate::workflow::{self, StepError};

impl Engine {
    /// Schedule the timer of the wait `run` is parked on (after it opened, or after a tick).
    pub(crate) async fn start_timer(
        &self,
        run: &RunRecord,
        request_id: Option<String>,
    ) -> Result<(), EngineError> {
        let Some(wait) = run.open_wait.as_ref() else { return Ok(()) };
        let now = self.clock.now();
        let delay = self.next_fire(wait).since(now).min(self.config.waits.max_timer);
        let m = StepMessage::timer(run.run_id, run.version).with_request_id(request_id);
        self.queue.send(&m, delay).await?;
        Ok(())
    }

    /// When the wait next needs attention: its deadline, or its next poll if that comes first.
    fn next_fire(&self, wait: &OpenWait) -> Timestamp {
        let w = &self.config.waits;
        let deadline = self.deadline(wait);
        if wait.provider.is_none() || wait.polls >= w.max_polls {
            return deadline;
        }
        let poll = match wait.last_poll_at {
            None => wait.since.plus(w.poll_after),
            Some(at) => at.plus(w.poll_interval),
        };
        poll.min(deadline)
    }

    fn deadline(&self, wait: &OpenWait) -> Timestamp {
        let w = &self.config.waits;
        wait.deadline.unwrap_or_else(|| {
            wait.since.plus(match wait.kind {
                WaitKind::Videos => w.videos,
                WaitKind::Render => w.render,
                WaitKind::Gate(_) => w.gate,
            })
        })
    }

    /// A timer message at the run's version: complete, time out, poll, or tick and re-arm.
    pub(crate) async fn on_timer(
        &self,
        run: RunRecord,
        msg: &StepMessage,
    ) -> Result<Disposition, EngineError> {
        let Some(wait) = run.open_wait.clone() else { return Ok(Disposition::Ack) };
        let callbacks = run.step.kind() == StepKind::CallbackWait;
        if callbacks && let Some(d) = self.settle_wait(&run, msg).await? {
            return Ok(d);
        }
        let now = self.clock.now();
        if now >= self.deadline(&wait) {
            let arrived = match workflow::wait_progress(self, &run).await {
                Ok(p) => p.map(|(a, _)| a).unwrap_or(0),
                Err(_) => 0,
            };
            let reason = timeout_reason(&wait, now.since(wait.since), arrived);
            warn!(reason = %reason, "wait deadline passed");
            let err = RunError::new(run.step, "wait_timeout", reason);
            return self.commit(&run, Err(StepError::Failed(err)), msg, 1).await;
        }
        let mut next = run.clone();
        let poll_due = self.next_fire(&wait) <= now && now < self.deadline(&wait);
        if callbacks && poll_due && wait.polls < self.config.waits.max_polls {
            let found = workflow::poll_wait(self, &run).await?;
            info!(found, polls = wait.polls + 1, "polled the provider for late callbacks");
            if found > 0
                && let Some(d) = self.settle_wait(&run, msg).await?
            {
                return Ok(d);
            }
            let w = next.open_wait.as_mut().expect("checked above");
            w.polls += 1;
            w.last_poll_at = Some(now);
        }
        // The tick: a checkpoint (so only one timer chain survives), then the next timer.
        if self.advance_quiet(&run, next, msg.request_id.clone()).await? == Landed::Won {
            info!("wait timer re-armed");
        }
        Ok(Disposition::Ack)
    }

    /// Check the wait's arrivals: `Some` when the wait ended (completed or failed).
    async fn settle_wait(
        &self,
        run: &RunRecord,
        msg: &StepMessage,
    ) -> Result<Option<Disposition>, EngineError> {
        match workflow::check_wait(self, run).await {
            Ok(None) => Ok(None),
            Ok(Some(next)) => {
                self.advance(run, next, msg.request_id.clone()).await?;
                Ok(Some(Disposition::Ack))
            }
            Err(e) => self.commit(run, Err(e), msg, 1).await.map(Some),
        }
    }

    /// A tick checkpoint (same step and status), then the next timer.
    async fn advance_quiet(
        &self,
        prev: &RunRecord,
        next: RunRecord,
        request_id: Option<String>,
    ) -> Result<Landed, EngineError> {
        let mut next = next;
        next.version = prev.version + 1;
        next.updated_at = self.clock.now();
        next.lease = None;
        match self.store.checkpoint(&next, prev.version, None).await {
            Ok(()) => {
                self.start_timer(&next, request_id).await?;
                Ok(Landed::Won)
            }
            Err(crate::ports::StoreError::ConditionFailed(_)) => Ok(Landed::Lost),
            Err(e) => Err(e.into()),
        }
    }
}

fn timeout_reason(wait: &OpenWait, waited: Duration, arrived: usize) -> String {
    let waited = humantime::format_duration(Duration::from_secs(waited.as_secs()));
    match wait.kind {
        WaitKind::Videos => format!(
            "{} of {} video jobs never finished within {waited} ({} status polls)",
            wait.jobs.len().saturating_sub(arrived),
            wait.jobs.len(),
            wait.polls
        ),
        WaitKind::Render => {
            format!("the render never finished within {waited} ({} status polls)", wait.polls)
        }
        WaitKind::Gate(g) => format!("no decision at the {} gate within {waited}", g.as_str()),
    }
}
