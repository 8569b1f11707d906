//! The run store port: conditional writes only, nothing that spans the queue.

use async_trait::async_trait;

use crate::domain::{
    Arrival, AuditEntry, CheckpointEntry, Correlation, CorrelationRecord, Feedback, IdempotencyKey,
    JobId, NoticeDelivery, NoticeWrite, Provider, RunId, RunRecord, RunStatus, SafetyRecord,
};
use crate::time::Timestamp;

/// Store failures, mapped by each adapter from its own errors at the boundary.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost (version moved, lease held, key exists).
    #[error("condition failed: {0}")]
    ConditionFailed(String),
    /// The backend asked us to slow down; retry later.
    #[error("throttled: {0}")]
    Throttled(String),
    /// A stored item could not be decoded.
    #[error("corrupt item {key}: {why}")]
    Corrupt {
        /// The item's key.
        key: String,
        /// Why it could not be decoded.
        why: String,
    },
    /// Anything else (network, permissions, …).
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::ConditionFailed(_) => "condition_failed",
            StoreError::Throttled(_) => "store_throttled",
            StoreError::Corrupt { .. } => "store_corrupt",
            StoreError::Unavailable(_) => "store_unavailable",
        }
    }
}

/// Result of creating a run.
#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome {
    /// The run was created.
    Created,
    /// The start key was used before: this is the run it created.
    Existing(RunId),
}

/// Filter and page for listing runs (newest first).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Only runs with this status.
    pub status: Option<RunStatus>,
    /// Only runs this principal started (`None`: every run).
    pub owner: Option<String>,
    /// Page size (1..=100).
    pub limit: u32,
    /// Opaque cursor from the previous page.
    pub cursor: Option<String>,
}

/// A page of runs.
#[derive(Debug, Clone, Default)]
pub struct RunPage {
    /// The runs.
    pub runs: Vec<RunRecord>,
    /// Cursor for the next page, if there is one.
    pub next_cursor: Option<String>,
}

/// Key of a paid-call intent: run, step, generation, item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IntentKey(pub String);

impl IntentKey {
    /// The key for item `index` of `step` at `generation`.
    pub fn new(run: &RunId, step: crate::domain::Step, generation: u64, index: u32) -> Self {
        Self(format!("{run}:{step}:{generation}:{index}"))
    }
}

/// A recorded intent to call a paid provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    /// The intent's key, passed to the provider as its idempotency key.
    pub key: IntentKey,
    /// The provider's job id once the call returned.
    pub job_id: Option<JobId>,
    /// True when this call created the intent (first attempt).
    pub fresh: bool,
}

/// A checkpoint to write: `next` (at `expected + 1`) if the stored run is still at `expected`.
#[derive(Debug, Clone, Copy)]
pub struct Checkpoint<'a> {
    /// The run at its new version, control attributes included (lease, attempts, timer, due).
    pub next: &'a RunRecord,
    /// The version the writer read.
    pub expected: u64,
    /// An audit entry written in the same transaction.
    pub audit: Option<&'a AuditEntry>,
    /// A wait's tick (same step and status): its history entry carries no snapshot.
    pub tick: bool,
}

impl<'a> Checkpoint<'a> {
    /// `next` over `expected`.
    pub fn new(next: &'a RunRecord, expected: u64) -> Self {
        Self { next, expected, audit: None, tick: false }
    }
    /// With an audit entry.
    pub fn audited(mut self, audit: &'a AuditEntry) -> Self {
        self.audit = Some(audit);
        self
    }
    /// As a wait's tick.
    pub fn tick(mut self) -> Self {
        self.tick = true;
        self
    }
}

/// A run the sweeper should look at: due, with its record (or why it could not be decoded).
#[derive(Debug, Clone)]
pub struct DueRun {
    /// The run.
    pub run_id: RunId,
    /// When it became due.
    pub due_at: Timestamp,
    /// The record, or why it is unreadable (reported and skipped, never fatal to a sweep).
    pub record: Result<RunRecord, String>,
}

/// A page of due runs.
#[derive(Debug, Clone, Default)]
pub struct DuePage {
    /// The runs.
    pub runs: Vec<DueRun>,
    /// Cursor for the next page.
    pub next_cursor: Option<String>,
}

/// Result of recording a callback arrival.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordArrival {
    /// First time this job reported; here is the run it belongs to.
    New(Correlation),
    /// This job already reported; nothing changed.
    Duplicate {
        /// The run it belongs to.
        correlation: Correlation,
    },
    /// No run has correlated this job: nothing was written.
    Unknown,
    /// The run it belonged to has ended: nothing was written.
    Closed,
    /// The callback claimed a run the job does not belong to: nothing was written.
    WrongRun(Correlation),
}

/// The run store.
#[async_trait]
pub trait RunStore: Send + Sync {
    /// Create a run at version 1 with its first checkpoint, claiming `run.start_key` if present
    /// until `key_expires_at` (an expired key is free again; `run.created_at` is "now").
    async fn create_run(
        &self,
        run: &RunRecord,
        key_expires_at: Timestamp,
    ) -> Result<CreateOutcome, StoreError>;

    /// Read a run (strongly consistent).
    async fn get_run(&self, id: &RunId) -> Result<Option<RunRecord>, StoreError>;

    /// Take the lease on a run at `version` if it is free or lapsed, counting one more attempt
    /// (`attempts + 1`), and return the run as leased. `ConditionFailed` when the version moved
    /// or another live lease holds it.
    async fn acquire_lease(
        &self,
        id: &RunId,
        version: u64,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<RunRecord, StoreError>;

    /// Extend a lease `owner` holds on the run at `version` to `until`. `ConditionFailed` when
    /// the version moved (a cancel, another delivery) or the lease is no longer this owner's:
    /// the step must stop before its next side effect.
    async fn renew_lease(
        &self,
        id: &RunId,
        version: u64,
        owner: &str,
        until: Timestamp,
    ) -> Result<(), StoreError>;

    /// Give up a lease this owner holds (whatever the version: a cancel keeps the lease of a
    /// running step until the step lets go), and move `due_at` when given (a retry's backoff).
    /// A no-op when the lease is not this owner's.
    async fn release_lease(
        &self,
        id: &RunId,
        owner: &str,
        due_at: Option<Timestamp>,
    ) -> Result<(), StoreError>;

    /// Write `cp.next` (whose version must be `cp.expected + 1`) if the stored run is still at
    /// `cp.expected`, with its history entry and the audit entry, atomically; the control
    /// attributes are written as `cp.next` has them. `ConditionFailed` when the version moved.
    async fn checkpoint(&self, cp: Checkpoint<'_>) -> Result<(), StoreError>;

    /// A timer link that did not need a checkpoint: `timer_seq` from `seq` to `seq + 1`,
    /// `timer_by` set to `by` (the delivery that moved it) and `due_at` moved, if the run is
    /// still at `version` and its timer at `seq`. `ConditionFailed` otherwise (a duplicate
    /// link, or the run moved).
    async fn tick_timer(
        &self,
        id: &RunId,
        version: u64,
        seq: u64,
        by: Option<&str>,
        due_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Runs whose `due_at` is at or before `now`, each once across pages, from an index (never
    /// a walk over every run); earliest first within an index partition.
    async fn due_runs(
        &self,
        now: Timestamp,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<DuePage, StoreError>;

    /// Move a run's `due_at` to `until` (if it is still at `version`, when given; an unreadable
    /// record is deferred without a version).
    async fn defer_due(
        &self,
        id: &RunId,
        version: Option<u64>,
        until: Timestamp,
    ) -> Result<(), StoreError>;

    /// The run's checkpoint history, oldest first.
    async fn history(&self, id: &RunId) -> Result<Vec<CheckpointEntry>, StoreError>;

    /// Record an operator action on a run that changes no state (DLQ resolve, a fork's source).
    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;

    /// The run's audit entries, oldest first.
    async fn audit_log(&self, id: &RunId) -> Result<Vec<AuditEntry>, StoreError>;

    /// List runs, newest first.
    async fn list_runs(&self, q: &ListQuery) -> Result<RunPage, StoreError>;

    /// Record the intent to make a paid call (or find the one recorded before).
    async fn claim_intent(&self, key: &IntentKey, now: Timestamp) -> Result<Intent, StoreError>;

    /// Record the provider job an intent produced.
    async fn complete_intent(&self, key: &IntentKey, job: &JobId) -> Result<(), StoreError>;

    /// Link a provider job to the run and wait generation that submitted it (idempotent).
    async fn correlate(
        &self,
        provider: Provider,
        job: &JobId,
        correlation: &Correlation,
    ) -> Result<(), StoreError>;

    /// Record a callback for a correlated job, once (one conditional write). A job nobody has
    /// correlated is `Unknown` and nothing is written. With `claimed` (the run the callback
    /// names), a job of another run is `WrongRun`, checked in the same write.
    async fn record_arrival(
        &self,
        provider: Provider,
        job: &JobId,
        arrival: &Arrival,
        claimed: Option<RunId>,
    ) -> Result<RecordArrival, StoreError>;

    /// Close these jobs' correlations (their run ended): later callbacks are `Closed`.
    async fn close_correlations(
        &self,
        provider: Provider,
        jobs: &[JobId],
    ) -> Result<(), StoreError>;

    /// A remembered safety verdict of a run's text (by SHA-256 hex).
    async fn safety_verdict(
        &self,
        run: &RunId,
        sha: &str,
    ) -> Result<Option<SafetyRecord>, StoreError>;

    /// Remember a safety verdict (overwrites: verdicts for one text do not change).
    async fn record_safety_verdict(
        &self,
        run: &RunId,
        sha: &str,
        verdict: &SafetyRecord,
    ) -> Result<(), StoreError>;

    /// The run a start idempotency key created, while the key lives (`now` before its expiry).
    async fn start_key_run(
        &self,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> Result<Option<RunId>, StoreError>;

    /// Store `feedback`, replacing the same caller's earlier feedback on the run.
    async fn put_feedback(&self, feedback: &Feedback) -> Result<(), StoreError>;

    /// Every caller's feedback on a run, oldest first.
    async fn feedback(&self, run: &RunId) -> Result<Vec<Feedback>, StoreError>;

    /// Add one to the counter `key` if it is below `limit`: `Some(new value)`, or `None` when the
    /// limit is reached (nothing changes). A counter restarts from zero after `expires_at`.
    /// Shared by every instance using the store (rate limits, budgets).
    async fn bump_counter(
        &self,
        key: &str,
        limit: u64,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Option<u64>, StoreError>;

    /// Current values of these counters (0 for missing or expired ones).
    async fn counters(&self, keys: &[String], now: Timestamp) -> Result<Vec<u64>, StoreError>;

    /// Write a notification's delivery row (one per run, event and endpoint) if `how` allows
    /// it over the stored row ([`NoticeWrite::allows`], checked in the write): true if written.
    async fn put_notice_delivery(
        &self,
        delivery: &NoticeDelivery,
        how: NoticeWrite,
    ) -> Result<bool, StoreError>;

    /// A run's notification delivery log, oldest first.
    async fn notice_deliveries(&self, run: &RunId) -> Result<Vec<NoticeDelivery>, StoreError>;

    /// The rendezvous records of these jobs (missing ones are absent from the result).
    async fn correlations(
        &self,
        provider: Provider,
        jobs: &[JobId],
    ) -> Result<Vec<CorrelationRecord>, StoreError>;
}
