//! The run store in memory, with the same conditional semantics as the DynamoDB adapter.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::domain::{
    Arrival, AuditEntry, CheckpointEntry, Correlation, CorrelationRecord, Feedback, IdempotencyKey,
    JobId, Lease, NoticeDelivery, NoticeWrite, Provider, RunId, RunRecord, SafetyRecord,
};
use crate::ports::{
    Checkpoint, CreateOutcome, DuePage, DueRun, Intent, IntentKey, ListQuery, RecordArrival,
    RunPage, RunStore, StoreError,
};
use crate::time::Timestamp;

struct Rendezvous {
    rec: CorrelationRecord,
    closed: bool,
}

#[derive(Default)]
struct Inner {
    runs: HashMap<RunId, RunRecord>,
    history: HashMap<RunId, Vec<CheckpointEntry>>,
    audit: HashMap<RunId, Vec<AuditEntry>>,
    start_keys: HashMap<String, (RunId, Timestamp)>,
    intents: HashMap<String, Option<JobId>>,
    rendezvous: BTreeMap<(Provider, JobId), Rendezvous>,
    safety: HashMap<(RunId, String), SafetyRecord>,
    feedback: BTreeMap<(RunId, String), Feedback>,
    notices: BTreeMap<(RunId, String, String), NoticeDelivery>,
    counters: HashMap<String, (u64, Timestamp)>,
}

/// An in-memory run store.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    reads: std::sync::atomic::AtomicU64,
}

impl MemoryStore {
    /// Runs read so far (`get_run` calls), for tests that count what a path costs.
    pub fn run_reads(&self) -> u64 {
        self.reads.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[async_trait]
impl RunStore for MemoryStore {
    async fn create_run(
        &self,
        run: &RunRecord,
        key_expires_at: Timestamp,
    ) -> Result<CreateOutcome, StoreError> {
        let mut g = self.inner.lock().unwrap();
        if let Some(k) = &run.start_key {
            if let Some((existing, until)) = g.start_keys.get(k.as_str())
                && *until > run.created_at
            {
                return Ok(CreateOutcome::Existing(*existing));
            }
            g.start_keys.insert(k.as_str().to_owned(), (run.run_id, key_expires_at));
        }
        if g.runs.contains_key(&run.run_id) {
            return Err(StoreError::ConditionFailed("run exists".into()));
        }
        g.runs.insert(run.run_id, run.clone());
        g.history.insert(run.run_id, vec![CheckpointEntry::of(run, false)]);
        Ok(CreateOutcome::Created)
    }

    async fn get_run(&self, id: &RunId) -> Result<Option<RunRecord>, StoreError> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(self.inner.lock().unwrap().runs.get(id).cloned())
    }

    async fn acquire_lease(
        &self,
        id: &RunId,
        version: u64,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<RunRecord, StoreError> {
        let mut g = self.inner.lock().unwrap();
        let run = g.runs.get_mut(id).ok_or_else(|| StoreError::ConditionFailed("no run".into()))?;
        if run.version != version {
            return Err(StoreError::ConditionFailed("version moved".into()));
        }
        if run.lease.as_ref().is_some_and(|l| l.until > now) {
            return Err(StoreError::ConditionFailed("lease held".into()));
        }
        run.lease = Some(Lease { owner: owner.to_owned(), until });
        run.attempts += 1;
        Ok(run.clone())
    }

    async fn renew_lease(
        &self,
        id: &RunId,
        version: u64,
        owner: &str,
        until: Timestamp,
    ) -> Result<(), StoreError> {
        let mut g = self.inner.lock().unwrap();
        match g.runs.get_mut(id) {
            Some(run)
                if run.version == version
                    && run.lease.as_ref().is_some_and(|l| l.owner == owner) =>
            {
                run.lease = Some(Lease { owner: owner.to_owned(), until });
                Ok(())
            }
            _ => Err(StoreError::ConditionFailed("version moved or lease lost".into())),
        }
    }

    async fn release_lease(
        &self,
        id: &RunId,
        owner: &str,
        due_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let mut g = self.inner.lock().unwrap();
        if let Some(run) = g.runs.get_mut(id)
            && run.lease.as_ref().is_some_and(|l| l.owner == owner)
        {
            run.lease = None;
            if due_at.is_some() {
                run.due_at = due_at;
            }
        }
        Ok(())
    }

    async fn checkpoint(&self, cp: Checkpoint<'_>) -> Result<(), StoreError> {
        let mut g = self.inner.lock().unwrap();
        let next = cp.next;
        let current = g.runs.get(&next.run_id).map(|r| r.version);
        if current != Some(cp.expected) || next.version != cp.expected + 1 {
            return Err(StoreError::ConditionFailed(format!(
                "expected version {}, found {current:?}",
                cp.expected
            )));
        }
        g.history.entry(next.run_id).or_default().push(CheckpointEntry::of(next, cp.tick));
        g.runs.insert(next.run_id, next.clone());
        if let Some(a) = cp.audit {
            g.audit.entry(next.run_id).or_default().push(a.clone());
        }
        Ok(())
    }

    async fn tick_timer(
        &self,
        id: &RunId,
        version: u64,
        seq: u64,
        by: Option<&str>,
        due_at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut g = self.inner.lock().unwrap();
        match g.runs.get_mut(id) {
            Some(run) if run.version == version && run.timer_seq == seq => {
                run.timer_seq = seq + 1;
                run.timer_by = by.map(str::to_owned);
                run.due_at = Some(due_at);
                Ok(())
            }
            _ => Err(StoreError::ConditionFailed("timer moved".into())),
        }
    }

    async fn due_runs(
        &self,
        now: Timestamp,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<DuePage, StoreError> {
        let g = self.inner.lock().unwrap();
        let mut due: Vec<&RunRecord> =
            g.runs.values().filter(|r| r.due_at.is_some_and(|d| d <= now)).collect();
        due.sort_by_key(|r| (r.due_at, r.run_id));
        let start: usize = match cursor.as_deref() {
            None => 0,
            Some(c) => c.parse().map_err(|_| StoreError::ConditionFailed("bad cursor".into()))?,
        };
        let limit = limit.clamp(1, 1000) as usize;
        let runs: Vec<DueRun> = due
            .iter()
            .skip(start)
            .take(limit)
            .map(|r| DueRun {
                run_id: r.run_id,
                due_at: r.due_at.expect("filtered"),
                record: Ok((*r).clone()),
            })
            .collect();
        let next_cursor =
            (start + runs.len() < due.len()).then(|| (start + runs.len()).to_string());
        Ok(DuePage { runs, next_cursor })
    }

    async fn defer_due(
        &self,
        id: &RunId,
        version: Option<u64>,
        until: Timestamp,
    ) -> Result<(), StoreError> {
        let mut g = self.inner.lock().unwrap();
        match g.runs.get_mut(id) {
            Some(run) if version.is_none_or(|v| v == run.version) => {
                if run.due_at.is_some() {
                    run.due_at = Some(until);
                }
                Ok(())
            }
            Some(_) => Err(StoreError::ConditionFailed("version moved".into())),
            None => Ok(()),
        }
    }

    async fn history(&self, id: &RunId) -> Result<Vec<CheckpointEntry>, StoreError> {
        Ok(self.inner.lock().unwrap().history.get(id).cloned().unwrap_or_default())
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.inner.lock().unwrap().audit.entry(entry.run_id).or_default().push(entry.clone());
        Ok(())
    }

    async fn audit_log(&self, id: &RunId) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(self.inner.lock().unwrap().audit.get(id).cloned().unwrap_or_default())
    }

    async fn list_runs(&self, q: &ListQuery) -> Result<RunPage, StoreError> {
        let g = self.inner.lock().unwrap();
        let mut runs: Vec<RunRecord> = g
            .runs
            .values()
            .filter(|r| q.status.is_none_or(|s| r.status == s))
            .filter(|r| q.owner.is_none() || r.owner == q.owner)
            .cloned()
            .collect();
        runs.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.run_id.cmp(&a.run_id)));
        let start: usize = match q.cursor.as_deref() {
            None => 0,
            Some(c) => c.parse().map_err(|_| StoreError::ConditionFailed("bad cursor".into()))?,
        };
        let limit = q.limit.clamp(1, 100) as usize;
        let page: Vec<RunRecord> = runs.iter().skip(start).take(limit).cloned().collect();
        let next_cursor =
            (start + page.len() < runs.len()).then(|| (start + page.len()).to_string());
        Ok(RunPage { runs: page, next_cursor })
    }

    async fn claim_intent(&self, key: &IntentKey, _now: Timestamp) -> Result<Intent, StoreError> {
        let mut g = self.inner.lock().unwrap();
        match g.intents.get(&key.0) {
            Some(job) => Ok(Intent { key: key.clone(), job_id: job.clone(), fresh: false }),
            None => {
                g.intents.insert(key.0.clone(), None);
                Ok(Intent { key: key.clone(), job_id: None, fresh: true })
            }
        }
    }

    async fn complete_intent(&self, key: &IntentKey, job: &JobId) -> Result<(), StoreError> {
        self.inner.lock().unwrap().intents.insert(key.0.clone(), Some(job.clone()));
        Ok(())
    }

    async fn correlate(
        &self,
        provider: Provider,
        job: &JobId,
        correlation: &Correlation,
    ) -> Result<(), StoreError> {
        let mut g = self.inner.lock().unwrap();
        let r = g.rendezvous.entry((provider, job.clone())).or_insert_with(|| Rendezvous {
            rec: CorrelationRecord {
                provider,
                job_id: job.clone(),
                correlation: None,
                arrival: None,
            },
            closed: false,
        });
        r.rec.correlation = Some(correlation.clone());
        Ok(())
    }

    async fn record_arrival(
        &self,
        provider: Provider,
        job: &JobId,
        arrival: &Arrival,
        claimed: Option<RunId>,
    ) -> Result<RecordArrival, StoreError> {
        let mut g = self.inner.lock().unwrap();
        let Some(r) = g.rendezvous.get_mut(&(provider, job.clone())) else {
            return Ok(RecordArrival::Unknown);
        };
        let Some(corr) = r.rec.correlation.clone() else { return Ok(RecordArrival::Unknown) };
        if claimed.is_some_and(|c| c != corr.run_id) {
            return Ok(RecordArrival::WrongRun(corr));
        }
        if r.rec.arrival.is_some() {
            return Ok(RecordArrival::Duplicate { correlation: corr });
        }
        if r.closed {
            return Ok(RecordArrival::Closed);
        }
        r.rec.arrival = Some(arrival.clone());
        Ok(RecordArrival::New(corr))
    }

    async fn close_correlations(
        &self,
        provider: Provider,
        jobs: &[JobId],
    ) -> Result<(), StoreError> {
        let mut g = self.inner.lock().unwrap();
        for j in jobs {
            if let Some(r) = g.rendezvous.get_mut(&(provider, j.clone())) {
                r.closed = true;
            }
        }
        Ok(())
    }

    async fn safety_verdict(
        &self,
        run: &RunId,
        sha: &str,
    ) -> Result<Option<SafetyRecord>, StoreError> {
        Ok(self.inner.lock().unwrap().safety.get(&(*run, sha.to_owned())).cloned())
    }

    async fn record_safety_verdict(
        &self,
        run: &RunId,
        sha: &str,
        verdict: &SafetyRecord,
    ) -> Result<(), StoreError> {
        self.inner.lock().unwrap().safety.insert((*run, sha.to_owned()), verdict.clone());
        Ok(())
    }

    async fn start_key_run(
        &self,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> Result<Option<RunId>, StoreError> {
        let g = self.inner.lock().unwrap();
        Ok(g.start_keys.get(key.as_str()).filter(|(_, until)| *until > now).map(|(id, _)| *id))
    }

    async fn put_feedback(&self, feedback: &Feedback) -> Result<(), StoreError> {
        let key = (feedback.run_id, feedback.caller.clone());
        self.inner.lock().unwrap().feedback.insert(key, feedback.clone());
        Ok(())
    }

    async fn feedback(&self, run: &RunId) -> Result<Vec<Feedback>, StoreError> {
        let g = self.inner.lock().unwrap();
        let mut all: Vec<Feedback> =
            g.feedback.iter().filter(|((r, _), _)| r == run).map(|(_, f)| f.clone()).collect();
        all.sort_by_key(|f| f.created_at);
        Ok(all)
    }

    async fn put_notice_delivery(
        &self,
        d: &NoticeDelivery,
        how: NoticeWrite,
    ) -> Result<bool, StoreError> {
        let key = (d.run_id, d.event_id.clone(), d.endpoint.clone());
        let mut g = self.inner.lock().unwrap();
        let write = how.allows(g.notices.get(&key), d);
        if write {
            g.notices.insert(key, d.clone());
        }
        Ok(write)
    }

    async fn notice_deliveries(&self, run: &RunId) -> Result<Vec<NoticeDelivery>, StoreError> {
        let g = self.inner.lock().unwrap();
        let mut all: Vec<NoticeDelivery> =
            g.notices.iter().filter(|((r, ..), _)| r == run).map(|(_, d)| d.clone()).collect();
        all.sort_by_key(|d| d.first_at);
        Ok(all)
    }

    async fn bump_counter(
        &self,
        key: &str,
        limit: u64,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Option<u64>, StoreError> {
        let mut g = self.inner.lock().unwrap();
        let entry = g.counters.entry(key.to_owned()).or_insert((0, expires_at));
        if entry.1 <= now {
            *entry = (0, expires_at);
        }
        if entry.0 >= limit {
            return Ok(None);
        }
        entry.0 += 1;
        Ok(Some(entry.0))
    }

    async fn counters(&self, keys: &[String], now: Timestamp) -> Result<Vec<u64>, StoreError> {
        let g = self.inner.lock().unwrap();
        Ok(keys
            .iter()
            .map(|k| g.counters.get(k).filter(|(_, exp)| *exp > now).map_or(0, |(n, _)| *n))
            .collect())
    }

    async fn correlations(
        &self,
        provider: Provider,
        jobs: &[JobId],
    ) -> Result<Vec<CorrelationRecord>, StoreError> {
        let g = self.inner.lock().unwrap();
        Ok(jobs
            .iter()
            .filter_map(|j| g.rendezvous.get(&(provider, j.clone())).map(|r| r.rec.clone()))
            .collect())
    }
}
