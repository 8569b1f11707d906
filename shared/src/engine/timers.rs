//! Wait timers. Every wait (callback, publish or gate) has a deadline, and callback and publish
//! waits poll their provider on a schedule. A timer message is one link of a chain that targets
//! the next thing due (a poll or the deadline), each link delayed at most 15 minutes (SQS's
//! longest delay), so a gate can wait for days.
//!
//! - A link that arrives before its target (an intermediate link of a long wait, or a queue
//!   that delivered early) re-arms for the rest: one conditional write moves the chain's
//!   `timer_seq` and the run's `due_at`, no checkpoint. Only the link whose `seq` matches the
//!   run's may do so, so duplicate links die at once instead of multiplying.
//! - A link that arrives when something is due acts: it completes the wait from the rendezvous,
//!   polls the provider (a tick checkpoint, without a snapshot in history) or fails the run at
//!   the deadline. "Not ready" only schedules the next link, it never consumes a retry.

use std::time::Duration;

use tracing::{info, warn};

use super::runner::{Disposition, Landed};
use super::{Engine, EngineError};
use crate::domain::{OpenWait, RunError, RunRecord, StepKind, StepMessage, WaitKind};
use crate::ports::{Checkpoint, StoreError};
use crate::time::Timestamp;
use crate::workflow::{self, StepError};

impl Engine {
    /// Arm the timer of the wait `run` is parked on (after it opened, or after a tick).
    pub(crate) async fn start_timer(
        &self,
        run: &RunRecord,
        request_id: Option<String>,
    ) -> Result<(), EngineError> {
        let Some(wait) = run.open_wait.as_ref() else { return Ok(()) };
        self.send_link(run, run.timer_seq, self.next_fire(wait), request_id).await
    }

    /// Start the chain of a callback wait from its check message `msg` (delivered for the
    /// `attempt`th time). Copies of that message (a queue's duplicates, repairs, the sweeper's)
    /// all get here: the first claims link 1 with one conditional write and sends it; the others
    /// find the chain started and send nothing — but the claiming delivery's own redelivery
    /// sends link 1 again, as its first life may have died between the claim and the send.
    pub(crate) async fn arm_timer(
        &self,
        run: &RunRecord,
        msg: &StepMessage,
        attempt: u32,
    ) -> Result<(), EngineError> {
        let Some(wait) = run.open_wait.as_ref() else { return Ok(()) };
        let request_id = msg.request_id.clone();
        if run.timer_seq > 0 {
            if moved_the_chain(run, msg, attempt) {
                info!("redelivery of the check that started the timer chain; re-sending link 1");
                self.send_link(run, run.timer_seq, self.next_fire(wait), request_id).await?;
            }
            return Ok(());
        }
        let sweep_at = self.clock.now().plus(self.config.waits.stuck_after);
        let by = msg.id.as_deref();
        match self.store.tick_timer(&run.run_id, run.version, 0, by, sweep_at).await {
            Ok(()) => self.send_link(run, 1, self.next_fire(wait), request_id).await,
            Err(StoreError::ConditionFailed(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Send link `seq` of the run's timer chain, due at `fire_at` (delayed by at most
    /// `max_timer`; the queue rounds the delay up, never down).
    async fn send_link(
        &self,
        run: &RunRecord,
        seq: u64,
        fire_at: Timestamp,
        request_id: Option<String>,
    ) -> Result<(), EngineError> {
        let delay = fire_at.since(self.clock.now()).min(self.config.waits.max_timer);
        let m =
            StepMessage::timer(run.run_id, run.version, seq, fire_at).with_request_id(request_id);
        self.queue.send(&m, delay).await?;
        Ok(())
    }

    /// When the wait next needs attention: its deadline, or its next poll if that comes first.
    fn next_fire(&self, wait: &OpenWait) -> Timestamp {
        let deadline = self.deadline(wait);
        let Some(poll) = self.config.waits.polling(wait.kind, wait.polled) else { return deadline };
        if wait.provider.is_none() || wait.polls >= poll.max {
            return deadline;
        }
        let next = match wait.last_poll_at {
            None => wait.since.plus(poll.after),
            Some(at) => at.plus(poll.interval),
        };
        next.min(deadline)
    }

    fn deadline(&self, wait: &OpenWait) -> Timestamp {
        wait.deadline.unwrap_or_else(|| wait.since.plus(self.config.waits.deadline(wait.kind)))
    }

    /// A timer link at the run's version (delivered for the `attempt`th time): complete, time
    /// out, poll, or re-arm.
    pub(crate) async fn on_timer(
        &self,
        run: RunRecord,
        msg: &StepMessage,
        attempt: u32,
    ) -> Result<Disposition, EngineError> {
        let Some(wait) = run.open_wait.clone() else { return Ok(Disposition::Ack) };
        if msg.seq != run.timer_seq {
            // A duplicate link, or one from before the chain moved on: the chain lives elsewhere,
            // unless this is the link that moved it, delivered again because its first life may
            // have died before it sent the next link.
            if moved_the_chain(&run, msg, attempt) {
                info!(
                    seq = run.timer_seq,
                    "redelivery of the link that moved the chain; re-sending the next"
                );
                let due = self.next_fire(&wait);
                self.send_link(&run, run.timer_seq, due, msg.request_id.clone()).await?;
            }
            return Ok(Disposition::Ack);
        }
        let polled = run.step.kind() == StepKind::CallbackWait;
        if polled && let Some(d) = self.settle_wait(&run, msg).await? {
            return Ok(d);
        }
        let now = self.clock.now();
        let due = self.next_fire(&wait);
        if now < due {
            return self.rearm(&run, due, msg).await;
        }
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
        // A poll is due.
        let found = workflow::poll_wait(self, &run).await?;
        info!(found, polls = wait.polls + 1, "polled the provider");
        if found > 0
            && let Some(d) = self.settle_wait(&run, msg).await?
        {
            return Ok(d);
        }
        let mut next = run.clone();
        let w = next.open_wait.as_mut().expect("checked above");
        w.polls += 1;
        w.last_poll_at = Some(now);
        // The tick: a checkpoint (the poll count is state), then the next link.
        if self.tick(&run, next, msg).await? == Landed::Won {
            info!("wait timer re-armed after a poll");
        }
        Ok(Disposition::Ack)
    }

    /// An early link: move the chain on by one conditional write (no checkpoint) and send the
    /// next link for what is left. A duplicate link loses the write and stops here.
    async fn rearm(
        &self,
        run: &RunRecord,
        due: Timestamp,
        msg: &StepMessage,
    ) -> Result<Disposition, EngineError> {
        let sweep_at = self.clock.now().plus(self.config.waits.stuck_after);
        let (seq, by) = (run.timer_seq, msg.id.as_deref());
        match self.store.tick_timer(&run.run_id, run.version, seq, by, sweep_at).await {
            Ok(()) => {
                self.send_link(run, run.timer_seq + 1, due, msg.request_id.clone()).await?;
                Ok(Disposition::Ack)
            }
            Err(StoreError::ConditionFailed(_)) => Ok(Disposition::Ack),
            Err(e) => Err(e.into()),
        }
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
                self.advance(run, next, msg).await?;
                Ok(Some(Disposition::Ack))
            }
            Err(e) => self.commit(run, Err(e), msg, 1).await.map(Some),
        }
    }

    /// A tick checkpoint (same step and status, no snapshot in history), then the next link.
    async fn tick(
        &self,
        prev: &RunRecord,
        mut next: RunRecord,
        msg: &StepMessage,
    ) -> Result<Landed, EngineError> {
        self.stamp(&mut next, prev);
        next.written_by = msg.id.clone();
        match self.store.checkpoint(Checkpoint::new(&next, prev.version).tick()).await {
            Ok(()) => {
                self.start_timer(&next, msg.request_id.clone()).await?;
                Ok(Landed::Won)
            }
            Err(StoreError::ConditionFailed(_)) => Ok(Landed::Lost),
            Err(e) => Err(e.into()),
        }
    }
}

/// Whether `msg` is a redelivery (`attempt` > 1) of the delivery that last moved the run's
/// timer chain without a checkpoint: the send that followed that write may have failed. (A
/// first delivery of a copy is a queue's duplicate: the chain already went on without it.)
fn moved_the_chain(run: &RunRecord, msg: &StepMessage, attempt: u32) -> bool {
    attempt > 1 && msg.is(run.timer_by.as_deref())
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
        WaitKind::Publish => format!(
            "the publication was not confirmed within {waited} ({} status polls)",
            wait.polls
        ),
        WaitKind::Gate(g) => format!("no decision at the {} gate within {waited}", g.as_str()),
    }
}
