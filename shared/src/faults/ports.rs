//! Fault-point decorators for the store and the queue.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{Faults, around, around_about};
use crate::domain::{
    Arrival, AuditEntry, CheckpointEntry, Correlation, CorrelationRecord, Feedback, IdempotencyKey,
    JobId, NoticeDelivery, NoticeWrite, Provider, RunId, RunRecord, SafetyRecord, StepMessage,
};
use crate::ports::{
    Checkpoint, CreateOutcome, DuePage, Intent, IntentKey, ListQuery, QueueConsumer, QueueError,
    Received, RecordArrival, RunPage, RunStore, StepQueue, StoreError,
};
use crate::time::Timestamp;

/// `around` with the point names `<port>.<op>.before/after`.
macro_rules! fp {
    ($faults:expr, $port:literal, $op:ident, $call:expr) => {
        around(
            &$faults,
            concat!($port, ".", stringify!($op), ".before"),
            concat!($port, ".", stringify!($op), ".after"),
            $call,
        )
        .await
    };
}

/// `fp!` for a store write, which can also be made to fail ([`Faults::fail_on`] at its
/// `.before` point) with `StoreError::Unavailable`.
macro_rules! fs {
    ($faults:expr, $op:ident, $call:expr) => {{
        let before = concat!("store.", stringify!($op), ".before");
        if $faults.fails(before) {
            return Err(StoreError::Unavailable(format!("injected failure at {before}")));
        }
        fp!($faults, "store", $op, $call)
    }};
}

/// A run store whose writes pass fault points (reads do not: a crash before a read is a crash
/// before the write that follows it).
pub struct FaultyStore {
    inner: Arc<dyn RunStore>,
    faults: Arc<Faults>,
}

impl FaultyStore {
    /// Wrap `inner`.
    pub fn new(inner: Arc<dyn RunStore>, faults: Arc<Faults>) -> Self {
        Self { inner, faults }
    }
}

#[async_trait]
impl RunStore for FaultyStore {
    async fn create_run(
        &self,
        run: &RunRecord,
        exp: Timestamp,
    ) -> Result<CreateOutcome, StoreError> {
        fs!(self.faults, create_run, self.inner.create_run(run, exp))
    }
    async fn get_run(&self, id: &RunId) -> Result<Option<RunRecord>, StoreError> {
        self.inner.get_run(id).await
    }
    async fn acquire_lease(
        &self,
        id: &RunId,
        version: u64,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<RunRecord, StoreError> {
        fs!(self.faults, acquire_lease, self.inner.acquire_lease(id, version, owner, until, now))
    }
    async fn renew_lease(
        &self,
        id: &RunId,
        version: u64,
        owner: &str,
        until: Timestamp,
    ) -> Result<(), StoreError> {
        fs!(self.faults, renew_lease, self.inner.renew_lease(id, version, owner, until))
    }
    async fn release_lease(
        &self,
        id: &RunId,
        owner: &str,
        due_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        fs!(self.faults, release_lease, self.inner.release_lease(id, owner, due_at))
    }
    async fn checkpoint(&self, cp: Checkpoint<'_>) -> Result<(), StoreError> {
        fs!(self.faults, checkpoint, self.inner.checkpoint(cp))
    }
    async fn tick_timer(
        &self,
        id: &RunId,
        version: u64,
        seq: u64,
        by: Option<&str>,
        due_at: Timestamp,
    ) -> Result<(), StoreError> {
        fs!(self.faults, tick_timer, self.inner.tick_timer(id, version, seq, by, due_at))
    }
    async fn due_runs(
        &self,
        now: Timestamp,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<DuePage, StoreError> {
        self.inner.due_runs(now, limit, cursor).await
    }
    async fn defer_due(
        &self,
        id: &RunId,
        version: Option<u64>,
        until: Timestamp,
    ) -> Result<(), StoreError> {
        fs!(self.faults, defer_due, self.inner.defer_due(id, version, until))
    }
    async fn history(&self, id: &RunId) -> Result<Vec<CheckpointEntry>, StoreError> {
        self.inner.history(id).await
    }
    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        fs!(self.faults, append_audit, self.inner.append_audit(entry))
    }
    async fn audit_log(&self, id: &RunId) -> Result<Vec<AuditEntry>, StoreError> {
        self.inner.audit_log(id).await
    }
    async fn list_runs(&self, q: &ListQuery) -> Result<RunPage, StoreError> {
        self.inner.list_runs(q).await
    }
    async fn claim_intent(&self, key: &IntentKey, now: Timestamp) -> Result<Intent, StoreError> {
        fs!(self.faults, claim_intent, self.inner.claim_intent(key, now))
    }
    async fn complete_intent(&self, key: &IntentKey, job: &JobId) -> Result<(), StoreError> {
        // Tagged with the intent key: a crash before it lands is the crash window of a paid call.
        around_about(
            &self.faults,
            "store.complete_intent.before",
            "store.complete_intent.after",
            Some(&key.0),
            self.inner.complete_intent(key, job),
        )
        .await
    }
    async fn correlate(&self, p: Provider, job: &JobId, c: &Correlation) -> Result<(), StoreError> {
        fs!(self.faults, correlate, self.inner.correlate(p, job, c))
    }
    async fn record_arrival(
        &self,
        p: Provider,
        job: &JobId,
        arrival: &Arrival,
        claimed: Option<RunId>,
    ) -> Result<RecordArrival, StoreError> {
        fs!(self.faults, record_arrival, self.inner.record_arrival(p, job, arrival, claimed))
    }
    async fn close_correlations(&self, p: Provider, jobs: &[JobId]) -> Result<(), StoreError> {
        fs!(self.faults, close_correlations, self.inner.close_correlations(p, jobs))
    }
    async fn safety_verdict(
        &self,
        run: &RunId,
        sha: &str,
    ) -> Result<Option<SafetyRecord>, StoreError> {
        self.inner.safety_verdict(run, sha).await
    }
    async fn record_safety_verdict(
        &self,
        run: &RunId,
        sha: &str,
        v: &SafetyRecord,
    ) -> Result<(), StoreError> {
        fs!(self.faults, record_safety_verdict, self.inner.record_safety_verdict(run, sha, v))
    }
    async fn start_key_run(
        &self,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> Result<Option<RunId>, StoreError> {
        self.inner.start_key_run(key, now).await
    }
    async fn put_feedback(&self, feedback: &Feedback) -> Result<(), StoreError> {
        self.inner.put_feedback(feedback).await
    }
    async fn feedback(&self, run: &RunId) -> Result<Vec<Feedback>, StoreError> {
        self.inner.feedback(run).await
    }
    async fn put_notice_delivery(
        &self,
        d: &NoticeDelivery,
        how: NoticeWrite,
    ) -> Result<bool, StoreError> {
        self.inner.put_notice_delivery(d, how).await
    }
    async fn notice_deliveries(&self, run: &RunId) -> Result<Vec<NoticeDelivery>, StoreError> {
        self.inner.notice_deliveries(run).await
    }
    async fn bump_counter(
        &self,
        key: &str,
        limit: u64,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Option<u64>, StoreError> {
        fs!(self.faults, bump_counter, self.inner.bump_counter(key, limit, expires_at, now))
    }
    async fn counters(&self, keys: &[String], now: Timestamp) -> Result<Vec<u64>, StoreError> {
        self.inner.counters(keys, now).await
    }
    async fn correlations(
        &self,
        p: Provider,
        jobs: &[JobId],
    ) -> Result<Vec<CorrelationRecord>, StoreError> {
        self.inner.correlations(p, jobs).await
    }
}

/// A step queue whose sends pass fault points; with `duplicate`, every message is sent twice
/// (two distinct queue messages, as an at-least-once queue may deliver).
pub struct FaultyQueue {
    inner: Arc<dyn StepQueue>,
    faults: Arc<Faults>,
    duplicate: bool,
}

impl FaultyQueue {
    /// Wrap `inner`.
    pub fn new(inner: Arc<dyn StepQueue>, faults: Arc<Faults>, duplicate: bool) -> Self {
        Self { inner, faults, duplicate }
    }
}

#[async_trait]
impl StepQueue for FaultyQueue {
    async fn send(&self, msg: &StepMessage, delay: Duration) -> Result<(), QueueError> {
        fp!(self.faults, "queue", send, async {
            self.inner.send(msg, delay).await?;
            if self.duplicate {
                self.inner.send(msg, delay).await?;
            }
            Ok(())
        })
    }
    async fn depth(&self) -> Result<Option<u64>, QueueError> {
        self.inner.depth().await
    }
}

/// A consumer whose acks (delete) and retries (visibility change) pass fault points.
pub struct FaultyConsumer {
    inner: Arc<dyn QueueConsumer>,
    faults: Arc<Faults>,
}

impl FaultyConsumer {
    /// Wrap `inner`.
    pub fn new(inner: Arc<dyn QueueConsumer>, faults: Arc<Faults>) -> Self {
        Self { inner, faults }
    }
}

#[async_trait]
impl QueueConsumer for FaultyConsumer {
    async fn receive(&self, max: u32, wait: Duration) -> Result<Vec<Received>, QueueError> {
        self.inner.receive(max, wait).await
    }
    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        fp!(self.faults, "queue", ack, self.inner.delete(receipt))
    }
    async fn change_visibility(&self, receipt: &str, timeout: Duration) -> Result<(), QueueError> {
        fp!(self.faults, "queue", retry, self.inner.change_visibility(receipt, timeout))
    }
}
