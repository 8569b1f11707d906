//! The step runner: one segment per message, under the DESIGN.md invariants.
//!
//! 1. The record decides: a message only names a run (and the version it was sent for).
//! 2. A message for an older version is stale and acked. If its own delivery wrote the run's
//!    current version (`written_by`), the send that should have followed may have failed:
//!    re-send it first. No other message re-sends anything (under a backlog every stale copy
//!    would, and feed the backlog); a run whose API write lost its send is the sweeper's.
//! 3. Active steps run under a lease taken with a conditional write at the message's version;
//!    taking it counts an attempt, so crashes and timeouts count as much as errors. The lease
//!    is renewed while the step runs and before every paid call (a cancel stops it there).
//! 4. Every outcome is a checkpoint conditioned on the version read; the loser of a race acks.
//! 5. Checkpoint, then send the next message, then ack.
//! 6. A retryable failure hides the message for a backoff; when the attempts run out the run is
//!    marked `stalled` and the message goes to the DLQ (`stall.rs`) marked so that only moving
//!    it back reopens the run. Waits run on timers (`timers.rs`).

use std::time::Duration;

use tracing::{Instrument, info, info_span, warn};

use super::{Engine, EngineError};
use crate::domain::{NoticeKind, RunRecord, RunStatus, Step, StepKind, StepMessage};
use crate::ports::{Checkpoint, StoreError};
use crate::time::Timestamp;
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
    DeadLetter {
        /// The version at which the run stalled, carried by the buried copy
        /// ([`Disposition::dead_letter_body`]); only that copy reopens the run.
        redrive: Option<u64>,
    },
}

impl Disposition {
    /// A dead letter that reopens nothing (an unusable message).
    pub const POISON: Disposition = Disposition::DeadLetter { redrive: None };

    /// The body to put into the DLQ for a message whose body was `original`: marked with the
    /// redrive token when the runner stalled the run (an unparseable body stays as it was).
    pub fn dead_letter_body(&self, original: &str) -> String {
        let Disposition::DeadLetter { redrive: Some(v) } = self else { return original.into() };
        match serde_json::from_str::<StepMessage>(original) {
            Ok(mut m) => {
                m.redrive = Some(*v);
                serde_json::to_string(&m).expect("messages serialise")
            }
            Err(_) => original.into(),
        }
    }
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
        if let Some(notice) = msg.notice.as_deref() {
            return self.deliver_notice(msg, notice).await;
        }
        if let Some(leased) = self.lease_first(msg, owner).await? {
            span.record("step", leased.step.as_str());
            return self.run_leased(leased, msg, owner).await;
        }
        let Some(run) = self.store.get_run(&msg.run_id).await? else {
            warn!("message for an unknown run; dropping it");
            return Ok(Disposition::Ack);
        };
        span.record("step", run.step.as_str());
        if run.status.is_terminal() {
            self.repair_notices(&run, msg).await?;
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
                self.repair(&run, msg).await?;
                return Ok(Disposition::Ack);
            }
            // A wake-up that completed the wait it woke: its send may have failed too.
            None if msg.is(run.written_by.as_deref()) && run.step.kind() == StepKind::Active => {
                self.repair(&run, msg).await?;
                return Ok(Disposition::Ack);
            }
            _ => {}
        }
        let kind = run.step.kind();
        // A wait's check or timer that keeps dying (a crash, a timeout, our infrastructure)
        // stalls the run like a step whose retries ran out; the receive count says how often.
        let waiting = matches!(kind, StepKind::CallbackWait | StepKind::Gate(_));
        if waiting && (msg.timer || kind == StepKind::CallbackWait) {
            let limit = self.config.retries.for_step(run.step).max_attempts;
            if attempt > limit {
                let why = format!(
                    "the {} check was delivered {attempt} times without finishing",
                    run.step
                );
                return self.stall(&run, why, attempt - 1, msg).await;
            }
        }
        match kind {
            StepKind::Gate(_) | StepKind::CallbackWait if msg.timer => {
                self.on_timer(run, msg, attempt).await
            }
            StepKind::Gate(_) | StepKind::Done => Ok(Disposition::Ack),
            StepKind::CallbackWait => self.check_wait(run, msg, attempt).await,
            // A wake-up (no version) never starts an active step: only its own message does.
            StepKind::Active if msg.version.is_none() => Ok(Disposition::Ack),
            StepKind::Active if !run.step.pays() => self.run_unleased(run, msg, attempt).await,
            StepKind::Active => self.run_active(run, msg, owner).await,
        }
    }

    /// A stale message. The delivery that wrote the run's current version re-sends the message
    /// that should have followed it (its send may have failed: this is its redelivery).
    async fn repair(&self, run: &RunRecord, msg: &StepMessage) -> Result<(), EngineError> {
        let wrote_it = msg.is(run.written_by.as_deref())
            && msg.version.is_none_or(|v| Some(v) == run.version.checked_sub(1));
        let leased = run.lease.as_ref().is_some_and(|l| l.until > self.clock.now());
        if wrote_it && !leased {
            info!(
                run_version = run.version,
                "redelivery of the message that wrote this version; re-sending what follows"
            );
            self.send_next(run, msg.request_id.clone()).await?;
            self.repair_notices(run, msg).await?;
        }
        Ok(())
    }

    /// An active step that pays nothing runs without a lease: the checkpoint's version fences
    /// copies running at once (the first lands, the others lose and ack), and the queue's
    /// receive count stands for the attempts a lease would have counted.
    async fn run_unleased(
        &self,
        run: RunRecord,
        msg: &StepMessage,
        attempt: u32,
    ) -> Result<Disposition, EngineError> {
        let limit = self.config.retries.for_step(run.step).max_attempts;
        if attempt > limit {
            let tried = attempt - 1;
            let why = format!("the step was delivered {tried} times without finishing");
            return self.stall(&run, why, tried, msg).await;
        }
        let started = std::time::Instant::now();
        let result = workflow::execute(self, &run).await;
        let disposition = self.commit(&run, result, msg, attempt).await?;
        if disposition == Disposition::Ack {
            super::meter::step_run(run.step.as_str(), started.elapsed().as_secs_f64() * 1000.0);
        }
        Ok(disposition)
    }

    /// A paid step's own message (it names the step and the version): read the run and take
    /// the lease in one conditional write (`acquire_lease` returns the record). `None` when the
    /// message is of another kind or the condition failed (the run moved, the lease is held):
    /// the caller reads the run and decides as usual, so this only saves the read.
    async fn lease_first(
        &self,
        msg: &StepMessage,
        owner: &str,
    ) -> Result<Option<RunRecord>, EngineError> {
        let (Some(version), Some(step)) = (msg.version, msg.step) else { return Ok(None) };
        if msg.timer || msg.redrive.is_some() || !step.pays() {
            return Ok(None);
        }
        let now = self.clock.now();
        let until = now.plus(self.config.lease_ttl);
        match self.store.acquire_lease(&msg.run_id, version, owner, until, now).await {
            // A version is written once, so the run at it is where the message says (a fresh
            // run is still `pending`); anything else is left to the usual path.
            Ok(run)
                if run.step.pays()
                    && !run.status.is_terminal()
                    && run.status != RunStatus::Stalled =>
            {
                Ok(Some(run))
            }
            Ok(run) => {
                warn!(step = %run.step, status = %run.status, "leased a run at a step that takes no lease");
                self.let_go(&run, owner, None).await;
                Ok(None)
            }
            Err(StoreError::ConditionFailed(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn run_active(
        &self,
        run: RunRecord,
        msg: &StepMessage,
        owner: &str,
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
        self.run_leased(leased, msg, owner).await
    }

    /// Run an active step whose lease this delivery holds.
    async fn run_leased(
        &self,
        leased: RunRecord,
        msg: &StepMessage,
        owner: &str,
    ) -> Result<Disposition, EngineError> {
        let limit = self.config.retries.for_step(leased.step).max_attempts;
        if leased.attempts > limit {
            // Earlier executions started and never settled: they crashed, timed out, or our
            // infrastructure failed under them. Stop here rather than loop.
            let tried = leased.attempts - 1;
            let why = format!(
                "the step started {tried} times without finishing (crashed, timed out or failed on our infrastructure)"
            );
            return self.stall(&leased, why, tried, msg).await;
        }
        info!(step = %leased.step, attempt = leased.attempts, "step started");
        let started = std::time::Instant::now();
        let result = self.with_heartbeat(&leased, owner, workflow::execute(self, &leased)).await;
        let disposition = match result {
            Err(StepError::Superseded(why)) => {
                info!(reason = %why, "the run moved under the step; stopping before any further side effect");
                self.let_go(&leased, owner, None).await;
                return Ok(Disposition::Ack);
            }
            Err(StepError::Retryable(why)) => {
                let d = self.retry_or_stall(&leased, why, leased.attempts, msg).await?;
                if let Disposition::Retry { after } = d {
                    // The retry (maybe in another invocation) must not wait for this lease to lapse,
                    // and the sweeper must not take the backoff for a stuck run.
                    let due = self.clock.now().plus(after + self.config.waits.stuck_after);
                    self.let_go(&leased, owner, Some(due)).await;
                }
                d
            }
            Err(StepError::Infra(e)) => {
                self.let_go(&leased, owner, None).await;
                return Err(e);
            }
            Err(StepError::Failed(err)) => {
                warn!(code = %err.code, error = %err.message, "step failed the run");
                self.advance_or_let_go(&leased, workflow::failed(&leased, err), msg, owner).await?
            }
            Ok(next) => self.advance_or_let_go(&leased, next, msg, owner).await?,
        };
        if disposition == Disposition::Ack {
            super::meter::step_run(leased.step.as_str(), started.elapsed().as_secs_f64() * 1000.0);
        }
        Ok(disposition)
    }

    async fn advance_or_let_go(
        &self,
        leased: &RunRecord,
        next: RunRecord,
        msg: &StepMessage,
        owner: &str,
    ) -> Result<Disposition, EngineError> {
        if self.advance(leased, next, msg).await? == Landed::Lost {
            self.let_go(leased, owner, None).await;
        }
        Ok(Disposition::Ack)
    }

    /// Release this delivery's lease (best effort: it lapses anyway).
    async fn let_go(&self, run: &RunRecord, owner: &str, due_at: Option<Timestamp>) {
        if let Err(e) = self.store.release_lease(&run.run_id, owner, due_at).await {
            warn!(error = %e, "could not release the lease; it will lapse");
        }
    }

    /// Run `step` while renewing the lease every third of its lifetime, so a step that takes
    /// longer than the lease is never run twice at once. A failed renewal is not fatal here:
    /// the next paid call confirms the lease and stops the step.
    async fn with_heartbeat<T>(
        &self,
        run: &RunRecord,
        owner: &str,
        step: impl std::future::Future<Output = T>,
    ) -> T {
        let every = (self.config.lease_ttl / 3).max(Duration::from_millis(50));
        tokio::pin!(step);
        let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        let mut renewing = true;
        loop {
            tokio::select! {
                out = &mut step => return out,
                _ = beat.tick(), if renewing => {
                    let until = self.clock.now().plus(self.config.lease_ttl);
                    if let Err(e) = self.store.renew_lease(&run.run_id, run.version, owner, until).await {
                        warn!(error = %e, "lease renewal failed; the step stops at its next side effect");
                        renewing = !matches!(e, StoreError::ConditionFailed(_));
                    }
                }
            }
        }
    }

    /// Before a paid call or a publication: renew this step's lease, which fails once the run
    /// moved (a cancel, a stall, another delivery). Then nothing may start.
    pub(crate) async fn confirm_lease(&self, run: &RunRecord) -> Result<(), StepError> {
        let Some(lease) = run.lease.as_ref() else {
            return Err(StepError::Superseded("the step holds no lease".into()));
        };
        let until = self.clock.now().plus(self.config.lease_ttl);
        match self.store.renew_lease(&run.run_id, run.version, &lease.owner, until).await {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed(why)) => Err(StepError::Superseded(why)),
            Err(e) => Err(e.into()),
        }
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
                        self.arm_timer(&run, msg, attempt).await?;
                    }
                    return Ok(Disposition::Ack);
                }
                Ok(Some(next)) => {
                    if self.advance(&run, next, msg).await? == Landed::Won {
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

    /// Settle the outcome of a wait's check or an unleased step: success and failure are checkpointed,
    /// a retryable error retries or stalls (attempt `attempt` of the message).
    pub(crate) async fn commit(
        &self,
        prev: &RunRecord,
        result: Result<RunRecord, StepError>,
        msg: &StepMessage,
        attempt: u32,
    ) -> Result<Disposition, EngineError> {
        let next = match result {
            Ok(next) => next,
            Err(StepError::Retryable(why)) => {
                return self.retry_or_stall(prev, why, attempt, msg).await;
            }
            Err(StepError::Failed(err)) => {
                warn!(code = %err.code, error = %err.message, "the wait failed the run");
                workflow::failed(prev, err)
            }
            Err(StepError::Superseded(_)) => return Ok(Disposition::Ack),
            Err(StepError::Infra(e)) => return Err(e),
        };
        self.advance(prev, next, msg).await?;
        Ok(Disposition::Ack)
    }

    /// Prepare `next` as the checkpoint after `prev`: its version and time, cleared control
    /// attributes, the step generation, and when the sweeper should look at it.
    pub(crate) fn stamp(&self, next: &mut RunRecord, prev: &RunRecord) {
        next.version = prev.version + 1;
        next.updated_at = self.clock.now();
        next.clear_control();
        next.written_by = None;
        next.note_step_entry(prev.step);
        next.due_at = self.due_at(next);
    }

    /// When the sweeper should look at `run` if nothing moves it first: a live run writes at
    /// least every `max_timer` (a step's checkpoint, a timer link), so one that has not for
    /// `stuck_after` lost its message or its chain. Ended and stalled runs are never swept.
    pub(crate) fn due_at(&self, run: &RunRecord) -> Option<Timestamp> {
        let moving =
            !run.status.is_terminal() && run.status != RunStatus::Stalled && run.step != Step::Done;
        moving.then(|| run.updated_at.plus(self.config.waits.stuck_after))
    }

    /// Checkpoint `next` at `prev.version + 1` as written by `msg`'s delivery, then send the
    /// message that moves it on. Where the backend commits a step in one transaction and what
    /// follows is a plain message (or nothing), the checkpoint, that message and the delivery's
    /// deletion land together ([`crate::ports::StepCommit`]); the outcome is the same.
    pub(crate) async fn advance(
        &self,
        prev: &RunRecord,
        mut next: RunRecord,
        msg: &StepMessage,
    ) -> Result<Landed, EngineError> {
        self.stamp(&mut next, prev);
        next.written_by = msg.id.clone();
        let next = super::limits::fit(next, prev);
        let cp = Checkpoint::new(&next, prev.version);
        let follow = self.follow_up(&next, msg.request_id.clone());
        let notices = self.notices(&next, NoticeKind::entered(prev.status, &next));
        // A gate's timer and notices are sent after the checkpoint either way; a plain message
        // or nothing can go with it.
        let foldable = match &follow {
            _ if !notices.is_empty() => None,
            FollowUp::Nothing => Some(None),
            FollowUp::Send(m) => Some(Some(m)),
            FollowUp::Timer(_) => None,
        };
        let folded = match (&self.step_commit, msg.receipt.as_deref(), foldable) {
            (Some(commit), Some(receipt), Some(m)) => {
                commit.commit_step(cp, m, receipt).await.map(|()| true)
            }
            _ => self.store.checkpoint(cp).await.map(|()| false),
        };
        let folded = match folded {
            Ok(folded) => folded,
            Err(StoreError::ConditionFailed(_)) => {
                info!("lost the checkpoint race; another delivery won");
                return Ok(Landed::Lost);
            }
            Err(e) => return Err(e.into()),
        };
        info!(
            next_step = %next.step,
            status = %next.status,
            version = next.version,
            "checkpointed"
        );
        if next.status.is_terminal() {
            self.close_wait(prev).await;
        }
        if !folded {
            self.carry_out(&next, follow).await?;
            self.send_notices(&notices).await?;
        }
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

    /// What follows a fresh checkpoint of `run` (caused by the request `request_id`).
    fn follow_up(&self, run: &RunRecord, request_id: Option<String>) -> FollowUp {
        if run.status.is_terminal() || run.status == RunStatus::Stalled || run.step == Step::Done {
            return FollowUp::Nothing;
        }
        match run.step.kind() {
            StepKind::Active | StepKind::CallbackWait => {
                let m = StepMessage::at(run.run_id, run.version).for_step(run.step);
                FollowUp::Send(m.with_request_id(request_id))
            }
            // A gate only needs its deadline timer.
            StepKind::Gate(_) => FollowUp::Timer(request_id),
            StepKind::Done => FollowUp::Nothing,
        }
    }

    /// Send the message that moves a freshly checkpointed run on, when it is runnable.
    pub(crate) async fn send_next(
        &self,
        run: &RunRecord,
        request_id: Option<String>,
    ) -> Result<(), EngineError> {
        self.carry_out(run, self.follow_up(run, request_id)).await
    }

    /// Send what follows a checkpoint of `run`.
    async fn carry_out(&self, run: &RunRecord, follow: FollowUp) -> Result<(), EngineError> {
        match follow {
            FollowUp::Nothing => {}
            FollowUp::Send(m) => self.queue.send(&m, Duration::ZERO).await?,
            FollowUp::Timer(request_id) => self.start_timer(run, request_id).await?,
        }
        Ok(())
    }
}

/// What follows a checkpoint.
enum FollowUp {
    /// The run stopped moving (ended, stalled): nothing.
    Nothing,
    /// Its next step's message, at once.
    Send(StepMessage),
    /// A gate's deadline timer (for this request).
    Timer(Option<String>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_stalling_dead_letter_marks_the_buried_copy() {
        let m = StepMessage::at(crate::RunId::new(), 4);
        let body = serde_json::to_string(&m).unwrap();
        let marked = Disposition::DeadLetter { redrive: Some(5) }.dead_letter_body(&body);
        let back: StepMessage = serde_json::from_str(&marked).unwrap();
        assert_eq!((back.redrive, back.id, back.version), (Some(5), m.id, Some(4)));
        assert_eq!(Disposition::POISON.dead_letter_body(&body), body);
        assert_eq!(Disposition::DeadLetter { redrive: Some(1) }.dead_letter_body("{x"), "{x");
    }
}
