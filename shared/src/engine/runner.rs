//! The step runner: one segment per message, under the DESIGN.md invariants.
//!
//! 1. The record decides: a message only names a run (and the version it was sent for).
//! 2. A message for an older version is stale; if the run is runnable but has not moved for
//!    `repair_grace`, its own message was probably lost between checkpoint and send: re-send it.
//! 3. Active steps run under a lease taken with a conditional write at the message's version.
//! 4. Every outcome is a checkpoint conditioned on the version read; the loser of a race acks.
//! 5. Checkpoint, then send the next message, then ack.
//! 6. A retryable failure hides the message for a backoff; on the last allowed attempt the run is
//!    marked `stalled` and the message goes to the DLQ (`stall.rs`). Waits run on timers
//!    (`timers.rs`).

use std::time::Duration;

use tracing::{Instrument, info, info_span, warn};

use super::{Engine, EngineError};
use crate::domain::{RunRecord, RunStatus, Step, StepKind, StepMessage};
use crate::ports::StoreError;
use crate::workflow::{self, StepError};

/// What the caller should do with the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Done with it: delete it.
    Ack,
    /// Leave it for redelivery after `after` (the caller changes its visibility; zero: at once).
    Retry {
        /// How long the message stays hidden.
        after: Duration,
    },
    /// Retries are exhausted (the run is marked `stalled`) or the message is unusable: move it
    /// to the dead-letter queue.
    DeadLetter,
}

/// Whether a checkpoint landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Landed {
    /// This delivery moved the run.
    Won,
    /// Another delivery moved it first; nothing was written.
    Lost,
}

impl Engine {
    /// Handle one step message (first delivery). `owner` names this invocation (lease owner).
    pub async fn handle_message(
        &self,
        msg: &StepMessage,
        owner: &str,
    ) -> Result<Disposition, EngineError> {
        self.handle_delivery(msg, owner, 1).await
    }

    /// Handle one delivery of a step message; `attempt` is the queue's receive count.
    pub async fn handle_delivery(
        &self,
        msg: &StepMessage,
        owner: &str,
        attempt: u32,
    ) -> Result<Disposition, EngineError> {
        let span = info_span!(
            "step",
            run_id = %msg.run_id,
            step = tracing::field::Empty,
            attempt,
            version = msg.version,
            request_id = msg.request_id.as_deref(),
        );
        let result = self.handle_inner(msg, owner, attempt, &span).instrument(span.clone()).await;
        // One line per delivery, so every message (and the request that caused it) is traceable.
        span.in_scope(|| match &result {
            Ok(d) => info!(disposition = ?d, "message handled"),
            Err(e) => warn!(code = e.code(), error = %e, "message failed"),
        });
        result
    }

    async fn handle_inner(
        &self,
        msg: &StepMessage,
        owner: &str,
        attempt: u32,
        span: &tracing::Span,
    ) -> Result<Disposition, EngineError> {
        let Some(run) = self.store.get_run(&msg.run_id).await? else {
            warn!("message for an unknown run; dropping it");
            return Ok(Disposition::Ack);
        };
        span.record("step", run.step.as_str());
        if run.status.is_terminal() {
            return Ok(Disposition::Ack);
        }
        if run.status == RunStatus::Stalled {
            return self.on_stalled(run, msg).await;
        }
        match msg.version {
            Some(v) if v > run.version => {
                warn!(run_version = run.version, "message is ahead of the record; dropping it");
                return Ok(Disposition::Ack);
            }
            Some(v) if v < run.version => {
                self.repair_if_stuck(&run, msg).await?;
                return Ok(Disposition::Ack);
            }
            _ => {}
        }
        match run.step.kind() {
            StepKind::Gate(_) | StepKind::CallbackWait if msg.timer => {
                self.on_timer(run, msg).await
            }
            StepKind::Gate(_) | StepKind::Done => Ok(Disposition::Ack),
            StepKind::CallbackWait => self.check_wait(run, msg, attempt).await,
            // A wake-up (no version) never starts an active step: only its own message does.
            StepKind::Active if msg.version.is_none() => Ok(Disposition::Ack),
            StepKind::Active => self.run_active(run, msg, owner, attempt).await,
        }
    }

    async fn repair_if_stuck(&self, run: &RunRecord, msg: &StepMessage) -> Result<(), EngineError> {
        let now = self.clock.now();
        let runnable = matches!(run.step.kind(), StepKind::Active | StepKind::CallbackWait);
        let leased = run.lease.as_ref().is_some_and(|l| l.until > now);
        if runnable && !leased && now.since(run.updated_at) >= self.config.repair_grace {
            info!(run_version = run.version, "run has not moved since a stale message; re-sending");
            let repair =
                StepMessage::at(run.run_id, run.version).with_request_id(msg.request_id.clone());
            self.queue.send(&repair, Default::default()).await?;
        }
        Ok(())
    }

    async fn run_active(
        &self,
        run: RunRecord,
        msg: &StepMessage,
        owner: &str,
        attempt: u32,
    ) -> Result<Disposition, EngineError> {
        let now = self.clock.now();
        let until = now.plus(self.config.lease_ttl);
        let leased =
            match self.store.acquire_lease(&run.run_id, run.version, owner, until, now).await {
                Ok(r) => r,
                Err(StoreError::ConditionFailed(_)) => {
                    // Either the version moved (someone finished this step: ack) or a live lease is
                    // held (someone is running it; if they crash, this message retries after it lapses).
                    // Never a reason to stall the run: the holder may be mid-step.
                    let current = self.store.get_run(&run.run_id).await?;
                    return Ok(match current {
                        Some(c) if c.version == run.version => {
                            let left = c.lease.map(|l| l.until.since(now)).unwrap_or_default();
                            Disposition::Retry { after: left.max(Duration::from_secs(1)) }
                        }
                        _ => Disposition::Ack,
                    });
                }
                Err(e) => return Err(e.into()),
            };
        info!(step = %leased.step, "step started");
        let started = std::time::Instant::now();
        let result = workflow::execute(self, &leased).await;
        if let Err(StepError::Retryable(_)) = &result {
            // The retry (maybe in another invocation) must not wait for this lease to lapse.
            self.store.release_lease(&leased.run_id, leased.version, owner).await?;
        }
        let disposition = self.commit(&leased, result, msg, attempt).await;
        if let Ok(Disposition::Ack) = disposition {
            super::meter::step_run(leased.step.as_str(), started.elapsed().as_secs_f64() * 1000.0);
        }
        disposition
    }

    /// A callback wait's own message (first check after the wait opened) or a wake-up.
    async fn check_wait(
        &self,
        mut run: RunRecord,
        msg: &StepMessage,
        attempt: u32,
    ) -> Result<Disposition, EngineError> {
        // A lost race with a timer tick must not swallow the wake-up that completes the wait:
        // re-read and check again while the run still waits.
        for _ in 0..3 {
            match workflow::check_wait(self, &run).await {
                Ok(None) => {
                    if msg.version == Some(run.version) {
                        self.start_timer(&run, msg.request_id.clone()).await?;
                    }
                    return Ok(Disposition::Ack);
                }
                Ok(Some(next)) => {
                    if self.advance(&run, next, msg.request_id.clone()).await? == Landed::Won {
                        return Ok(Disposition::Ack);
                    }
                }
                Err(e) => return self.commit(&run, Err(e), msg, attempt).await,
            }
            match self.store.get_run(&run.run_id).await? {
                Some(fresh)
                    if fresh.step == run.step
                        && fresh.status == fresh.step.runnable_status()
                        && msg.version.is_none_or(|v| v == fresh.version) =>
                {
                    run = fresh
                }
                _ => return Ok(Disposition::Ack),
            }
        }
        Ok(Disposition::Retry { after: Duration::ZERO })
    }

    /// Settle a step's outcome: checkpoint success or failure, or retry / stall on a retryable
    /// error (attempt `attempt` of the message).
    pub(crate) async fn commit(
        &self,
        prev: &RunRecord,
        result: Result<RunRecord, StepError>,
        msg: &StepMessage,
        attempt: u32,
    ) -> Result<Disposition, EngineError> {
        let next = match result {
            Ok(next) => next,
            Err(StepError::Retryable(why)) => return self.retry_or_stall(prev, why, attempt).await,
            Err(StepError::Failed(err)) => {
                warn!(code = %err.code, error = %err.message, "step failed the run");
                workflow::failed(prev, err)
            }
            Err(StepError::Infra(e)) => return Err(e),
        };
        self.advance(prev, next, msg.request_id.clone()).await?;
        Ok(Disposition::Ack)
    }

    /// Checkpoint `next` at `prev.version + 1`, then send the message that moves it on.
    pub(crate) async fn advance(
        &self,
        prev: &RunRecord,
        mut next: RunRecord,
        request_id: Option<String>,
    ) -> Result<Landed, EngineError> {
        next.version = prev.version + 1;
        next.updated_at = self.clock.now();
        next.lease = None;
        next.note_step_entry(prev.step);
        match self.store.checkpoint(&next, prev.version, None).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed(_)) => {
                info!("lost the checkpoint race; another delivery won");
                return Ok(Landed::Lost);
            }
            Err(e) => return Err(e.into()),
        }
        info!(
            next_step = %next.step,
            status = %next.status,
            version = next.version,
            "checkpointed"
        );
        if next.status.is_terminal() {
            self.close_wait(prev).await;
        }
        self.send_next(&next, request_id).await?;
        Ok(Landed::Won)
    }

    /// The run ended while waiting for callbacks: close their correlations so late callbacks are
    /// answered "ignored" without a write or a wake-up. Best effort: a callback that slips in
    /// before the close only wakes a run that acks at once.
    pub(crate) async fn close_wait(&self, run: &RunRecord) {
        let Some(wait) = run.open_wait.as_ref() else { return };
        let Some(provider) = wait.provider else { return };
        let jobs: Vec<_> = wait.jobs.iter().map(|j| j.job_id.clone()).collect();
        if let Err(e) = self.store.close_correlations(provider, &jobs).await {
            warn!(error = %e, "could not close the wait's correlations");
        }
    }

    /// Send the message that moves a freshly checkpointed run on, when it is runnable.
    pub(crate) async fn send_next(
        &self,
        run: &RunRecord,
        request_id: Option<String>,
    ) -> Result<(), EngineError> {
        if run.status.is_terminal() || run.step == Step::Done {
            return Ok(());
        }
        match run.step.kind() {
            StepKind::Active | StepKind::CallbackWait => {
                let m = StepMessage::at(run.run_id, run.version).with_request_id(request_id);
                self.queue.send(&m, Duration::ZERO).await?;
            }
            // A gate only needs its deadline timer.
            StepKind::Gate(_) => self.start_timer(run, request_id).await?,
            StepKind::Done => {}
        }
        Ok(())
    }
}
