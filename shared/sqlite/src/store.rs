//! `RunStore` on SQLite: the same conditions as the DynamoDB adapter, each operation one
//! transaction.

use async_trait::async_trait;
use myloware::domain::{
    Arrival, AuditEntry, CheckpointEntry, Correlation, CorrelationRecord, Feedback, IdempotencyKey,
    JobId, Lease, NoticeDelivery, NoticeWrite, Provider, RunId, RunRecord, RunStatus, SafetyRecord,
};
use myloware::ports::{
    Checkpoint, CreateOutcome, DuePage, DueRun, Intent, IntentKey, ListQuery, RecordArrival,
    RunPage, RunStore, StoreError,
};
use myloware::time::Timestamp;
use rusqlite::{OptionalExtension, params};
use tokio::sync::broadcast;

use crate::db::{Db, SqliteError};

/// The SQLite run store.
pub struct SqliteStore {
    db: Db,
    checkpoints: broadcast::Sender<Checkpointed>,
}

/// A checkpoint this process wrote, told to in-process listeners once it is durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpointed {
    /// The run.
    pub run_id: RunId,
    /// Its new version.
    pub version: u64,
    /// Its status at that version.
    pub status: RunStatus,
}

impl SqliteStore {
    /// A store on `db`.
    pub fn new(db: Db) -> Self {
        Self { db, checkpoints: broadcast::channel(4096).0 }
    }

    /// Every checkpoint this store writes from now on, as it becomes durable, so a process
    /// waiting for a run to move (the bench, a one-process watcher) need not poll. A listener
    /// that falls more than 4096 behind is told it lagged.
    pub fn checkpoints(&self) -> broadcast::Receiver<Checkpointed> {
        self.checkpoints.subscribe()
    }

    /// What tells listeners of checkpoint `c` once its write committed (`true`: it landed),
    /// run on the writer thread right after the commit, so a listener hears of it without the
    /// hop back to the writing task first (nobody listening, the usual case, costs a counter
    /// read).
    pub(crate) fn teller<T: 'static>(
        &self,
        c: Checkpointed,
        landed: fn(&T) -> bool,
    ) -> crate::writer::Then<T> {
        let feed = self.checkpoints.clone();
        Box::new(move |out: &T| {
            if landed(out) {
                let _ = feed.send(c);
            }
        })
    }
}

impl From<SqliteError> for StoreError {
    fn from(e: SqliteError) -> Self {
        if e.0.contains("database is locked") || e.0.contains("busy") {
            StoreError::Throttled(e.0)
        } else {
            StoreError::Unavailable(e.0)
        }
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("domain types serialise")
}

fn from_json<T: serde::de::DeserializeOwned>(key: &str, raw: &str) -> Result<T, SqliteError> {
    serde_json::from_str(raw).map_err(|e| SqliteError(format!("corrupt {key}: {e}")))
}

fn checkpoint_body(run: &RunRecord, tick: bool) -> String {
    to_json(&CheckpointEntry::of(run, tick))
}

fn run_body(run: &RunRecord) -> String {
    to_json(&run.body())
}

/// The columns a run is read from: the body and the control attributes beside it.
const RUN_COLUMNS: &str = "body, lease_owner, lease_until, attempts, timer_seq, timer_by, due_at";

type RunRow = (String, Option<String>, Option<i64>, u32, i64, Option<String>, Option<i64>);

fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
    run_row_from(r, 0)
}

/// [`RUN_COLUMNS`] read from column `first` on.
fn run_row_from(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<RunRow> {
    let c = |i: usize| first + i;
    Ok((
        r.get(c(0))?,
        r.get(c(1))?,
        r.get(c(2))?,
        r.get(c(3))?,
        r.get(c(4))?,
        r.get(c(5))?,
        r.get(c(6))?,
    ))
}

fn decode_run(
    (body, owner, until, attempts, timer_seq, timer_by, due): RunRow,
) -> Result<RunRecord, SqliteError> {
    let mut run: RunRecord = from_json("run", &body)?;
    if let (Some(owner), Some(until)) = (owner, until) {
        run.lease = Some(Lease { owner, until: Timestamp(until) });
    }
    run.attempts = attempts;
    run.timer_seq = timer_seq as u64;
    run.timer_by = timer_by;
    run.due_at = due.map(Timestamp);
    Ok(run)
}

fn read_run(c: &rusqlite::Connection, id: &RunId) -> Result<Option<RunRecord>, SqliteError> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE run_id = ?1");
    let row: Option<RunRow> =
        c.prepare_cached(&sql)?.query_row(params![id.to_string()], run_row).optional()?;
    row.map(decode_run).transpose()
}

/// A checkpoint as one conditional write (also used by the step commit in `lib.rs`).
pub(crate) struct CheckpointWrite {
    next: RunRecord,
    expected: u64,
    audit: Option<AuditEntry>,
    tick: bool,
}

/// The error of a checkpoint whose run is no longer at `expected`.
pub(crate) fn moved(expected: u64) -> StoreError {
    StoreError::ConditionFailed(format!("run is no longer at version {expected}"))
}

impl CheckpointWrite {
    pub(crate) fn of(cp: Checkpoint<'_>) -> Result<Self, StoreError> {
        if cp.next.version != cp.expected + 1 {
            return Err(StoreError::ConditionFailed("next version must be expected + 1".into()));
        }
        Ok(Self {
            next: cp.next.clone(),
            expected: cp.expected,
            audit: cp.audit.cloned(),
            tick: cp.tick,
        })
    }

    /// What listeners are told once it is durable.
    pub(crate) fn told(&self) -> Checkpointed {
        Checkpointed {
            run_id: self.next.run_id,
            version: self.next.version,
            status: self.next.status,
        }
    }

    /// Write it if the run is still at the expected version; false (nothing written) if not.
    pub(crate) fn apply(&self, c: &rusqlite::Connection) -> Result<bool, SqliteError> {
        let next = &self.next;
        let lease = next.lease.as_ref();
        let n = c
            .prepare_cached(
                "UPDATE runs SET version = ?1, status = ?2, updated_at = ?3, body = ?4, \
             lease_owner = ?5, lease_until = ?6, attempts = ?7, timer_seq = ?8, timer_by = ?9, \
             due_at = ?10 WHERE run_id = ?11 AND version = ?12",
            )?
            .execute(params![
                next.version as i64,
                next.status.as_str(),
                next.updated_at.millis(),
                run_body(next),
                lease.map(|l| l.owner.clone()),
                lease.map(|l| l.until.millis()),
                next.attempts,
                next.timer_seq as i64,
                next.timer_by,
                next.due_at.map(Timestamp::millis),
                next.run_id.to_string(),
                self.expected as i64
            ])?;
        if n == 0 {
            return Ok(false);
        }
        c.prepare_cached("INSERT INTO checkpoints (run_id, version, body) VALUES (?1, ?2, ?3)")?
            .execute(params![
                next.run_id.to_string(),
                next.version as i64,
                checkpoint_body(next, self.tick)
            ])?;
        if let Some(a) = &self.audit {
            c.execute(
                "INSERT INTO audit (run_id, body) VALUES (?1, ?2)",
                params![a.run_id.to_string(), to_json(a)],
            )?;
        }
        Ok(true)
    }
}

#[async_trait]
impl RunStore for SqliteStore {
    async fn create_run(
        &self,
        run: &RunRecord,
        key_expires_at: Timestamp,
    ) -> Result<CreateOutcome, StoreError> {
        let run = run.clone();
        Ok(self.db.write(move |c| {
            if let Some(k) = &run.start_key {
                let existing: Option<(String, i64)> = c
                    .query_row("SELECT run_id, expires_at FROM start_keys WHERE key = ?1", params![k.as_str()], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()?;
                if let Some((id, until)) = existing
                    && until > run.created_at.millis()
                {
                    let id = id.parse().map_err(|e| SqliteError(format!("corrupt start key: {e}")))?;
                    return Ok(CreateOutcome::Existing(id));
                }
                c.execute(
                    "INSERT OR REPLACE INTO start_keys (key, run_id, expires_at) VALUES (?1, ?2, ?3)",
                    params![k.as_str(), run.run_id.to_string(), key_expires_at.millis()],
                )?;
            }
            c.execute(
                "INSERT INTO runs (run_id, version, status, created_at, updated_at, body, due_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    run.run_id.to_string(),
                    run.version as i64,
                    run.status.as_str(),
                    run.created_at.millis(),
                    run.updated_at.millis(),
                    run_body(&run),
                    run.due_at.map(Timestamp::millis),
                ],
            )?;
            c.execute(
                "INSERT INTO checkpoints (run_id, version, body) VALUES (?1, ?2, ?3)",
                params![run.run_id.to_string(), run.version as i64, checkpoint_body(&run, false)],
            )?;
            Ok(CreateOutcome::Created)
        })
        .await?)
    }

    async fn get_run(&self, id: &RunId) -> Result<Option<RunRecord>, StoreError> {
        let id = *id;
        Ok(self.db.read(move |c| read_run(c, &id)).await?)
    }

    async fn acquire_lease(
        &self,
        id: &RunId,
        version: u64,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<RunRecord, StoreError> {
        let (id, owner) = (*id, owner.to_owned());
        let got = self
            .db
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "UPDATE runs SET lease_owner = ?1, lease_until = ?2, attempts = attempts + 1 \
                         WHERE run_id = ?3 AND version = ?4 \
                         AND (lease_until IS NULL OR lease_until <= ?5)",
                    )?
                    .execute(params![owner, until.millis(), id.to_string(), version as i64, now.millis()])?;
                if n == 0 { Ok(None) } else { read_run(c, &id) }
            })
            .await?;
        got.ok_or_else(|| StoreError::ConditionFailed("version moved or lease held".into()))
    }

    async fn renew_lease(
        &self,
        id: &RunId,
        version: u64,
        owner: &str,
        until: Timestamp,
    ) -> Result<(), StoreError> {
        let (id, owner) = (id.to_string(), owner.to_owned());
        let n = self.db.write(move |c| {
            Ok(c.prepare_cached(
                "UPDATE runs SET lease_until = ?1 WHERE run_id = ?2 AND version = ?3 AND lease_owner = ?4",
            )?
            .execute(params![until.millis(), id, version as i64, owner])?)
        })
        .await?;
        if n == 0 {
            return Err(StoreError::ConditionFailed("version moved or lease lost".into()));
        }
        Ok(())
    }

    async fn release_lease(
        &self,
        id: &RunId,
        owner: &str,
        due_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let (id, owner) = (id.to_string(), owner.to_owned());
        self.db
            .write(move |c| {
                c.execute(
                    "UPDATE runs SET lease_owner = NULL, lease_until = NULL, \
                 due_at = CASE WHEN ?3 IS NULL OR due_at IS NULL THEN due_at ELSE ?3 END \
                 WHERE run_id = ?1 AND lease_owner = ?2",
                    params![id, owner, due_at.map(Timestamp::millis)],
                )?;
                Ok(())
            })
            .await?;
        Ok(())
    }

    async fn checkpoint(&self, cp: Checkpoint<'_>) -> Result<(), StoreError> {
        let write = CheckpointWrite::of(cp)?;
        let (tell, expected) = (self.teller(write.told(), |landed: &bool| *landed), cp.expected);
        if self.db.write_then(move |c| write.apply(c), tell).await? {
            Ok(())
        } else {
            Err(moved(expected))
        }
    }

    async fn tick_timer(
        &self,
        id: &RunId,
        version: u64,
        seq: u64,
        by: Option<&str>,
        due_at: Timestamp,
    ) -> Result<(), StoreError> {
        let (id, by) = (id.to_string(), by.map(str::to_owned));
        let n = self
            .db
            .write(move |c| {
                Ok(c.execute(
                    "UPDATE runs SET timer_seq = ?1, timer_by = ?2, due_at = ?3 \
                 WHERE run_id = ?4 AND version = ?5 AND timer_seq = ?6",
                    params![(seq + 1) as i64, by, due_at.millis(), id, version as i64, seq as i64],
                )?)
            })
            .await?;
        if n == 0 {
            return Err(StoreError::ConditionFailed("the timer moved".into()));
        }
        Ok(())
    }

    async fn due_runs(
        &self,
        now: Timestamp,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<DuePage, StoreError> {
        // Keyset cursor: "<due_at>:<run_id>" of the last row returned.
        let after = match cursor.as_deref() {
            None => (i64::MIN, String::new()),
            Some(c) => {
                let bad = || StoreError::ConditionFailed("bad cursor".into());
                let (t, id) = c.split_once(':').ok_or_else(bad)?;
                (t.parse().map_err(|_| bad())?, id.to_owned())
            }
        };
        let limit = limit.clamp(1, 1000) as i64;
        Ok(self
            .db
            .read(move |c| {
                let sql = format!(
                    "SELECT run_id, {RUN_COLUMNS} FROM runs INDEXED BY runs_due \
                 WHERE due_at IS NOT NULL AND due_at <= ?1 AND (due_at, run_id) > (?2, ?3) \
                 ORDER BY due_at, run_id LIMIT ?4"
                );
                let mut st = c.prepare(&sql)?;
                let rows =
                    st.query_map(params![now.millis(), after.0, after.1, limit + 1], |r| {
                        let id: String = r.get(0)?;
                        Ok((id, run_row_from(r, 1)?))
                    })?;
                let mut page = DuePage::default();
                for row in rows {
                    let (id, rest): (String, RunRow) = row?;
                    let due = rest.6.unwrap_or_default();
                    if page.runs.len() as i64 == limit {
                        let last = page.runs.last().expect("limit ≥ 1");
                        page.next_cursor =
                            Some(format!("{}:{}", last.due_at.millis(), last.run_id));
                        break;
                    }
                    let Ok(run_id) = id.parse::<RunId>() else { continue };
                    page.runs.push(DueRun {
                        run_id,
                        due_at: Timestamp(due),
                        record: decode_run(rest).map_err(|e| e.0),
                    });
                }
                Ok(page)
            })
            .await?)
    }

    async fn defer_due(
        &self,
        id: &RunId,
        version: Option<u64>,
        until: Timestamp,
    ) -> Result<(), StoreError> {
        let id = id.to_string();
        let n = self
            .db
            .write(move |c| {
                Ok(c.execute(
                    "UPDATE runs SET due_at = ?1 WHERE run_id = ?2 AND due_at IS NOT NULL \
                 AND (?3 IS NULL OR version = ?3)",
                    params![until.millis(), id, version.map(|v| v as i64)],
                )?)
            })
            .await?;
        if n == 0 && version.is_some() {
            return Err(StoreError::ConditionFailed("the run moved".into()));
        }
        Ok(())
    }

    async fn history(&self, id: &RunId) -> Result<Vec<CheckpointEntry>, StoreError> {
        let id = id.to_string();
        Ok(self
            .db
            .read(move |c| {
                let mut st =
                    c.prepare("SELECT body FROM checkpoints WHERE run_id = ?1 ORDER BY version")?;
                let rows = st.query_map(params![id], |r| r.get::<_, String>(0))?;
                rows.map(|b| from_json("checkpoint", &b?)).collect()
            })
            .await?)
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let (id, body) = (entry.run_id.to_string(), to_json(entry));
        self.db
            .write(move |c| {
                c.execute("INSERT INTO audit (run_id, body) VALUES (?1, ?2)", params![id, body])?;
                Ok(())
            })
            .await?;
        Ok(())
    }

    async fn audit_log(&self, id: &RunId) -> Result<Vec<AuditEntry>, StoreError> {
        let id = id.to_string();
        Ok(self
            .db
            .read(move |c| {
                let mut st = c.prepare("SELECT body FROM audit WHERE run_id = ?1 ORDER BY seq")?;
                let rows = st.query_map(params![id], |r| r.get::<_, String>(0))?;
                rows.map(|b| from_json("audit", &b?)).collect()
            })
            .await?)
    }

    async fn list_runs(&self, q: &ListQuery) -> Result<RunPage, StoreError> {
        // Keyset cursor: "<created_at>:<run_id>" of the last row returned.
        let after = match q.cursor.as_deref() {
            None => None,
            Some(c) => {
                let (t, id) = c
                    .split_once(':')
                    .ok_or_else(|| StoreError::ConditionFailed("bad cursor".into()))?;
                let t: i64 =
                    t.parse().map_err(|_| StoreError::ConditionFailed("bad cursor".into()))?;
                // Only a position this query could have handed out: a time and a run id.
                id.parse::<RunId>()
                    .map_err(|_| StoreError::ConditionFailed("bad cursor".into()))?;
                Some((t, id.to_owned()))
            }
        };
        let status = q.status.map(|s| s.as_str().to_owned());
        let owner = q.owner.clone();
        let limit = q.limit.clamp(1, 100) as i64;
        Ok(self
            .db
            .read(move |c| {
                let (t, id) = after.unwrap_or((i64::MAX, String::new()));
                let mut st = c.prepare(
                    "SELECT body, created_at, run_id FROM runs \
                 WHERE (?1 IS NULL OR status = ?1) AND (created_at, run_id) < (?2, ?3) \
                 AND (?5 IS NULL OR json_extract(body, '$.owner') = ?5) \
                 ORDER BY created_at DESC, run_id DESC LIMIT ?4",
                )?;
                let rows = st.query_map(params![status, t, id, limit + 1, owner], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?))
                })?;
                let mut runs = Vec::new();
                let mut last = None;
                for row in rows {
                    let (body, created, rid) = row?;
                    if runs.len() as i64 == limit {
                        return Ok(RunPage { runs, next_cursor: last });
                    }
                    runs.push(from_json::<RunRecord>("run", &body)?);
                    last = Some(format!("{created}:{rid}"));
                }
                Ok(RunPage { runs, next_cursor: None })
            })
            .await?)
    }

    async fn claim_intent(&self, key: &IntentKey, now: Timestamp) -> Result<Intent, StoreError> {
        let k = key.clone();
        Ok(self
            .db
            .write(move |c| {
                let n = c.execute(
                    "INSERT OR IGNORE INTO intents (key, created_at) VALUES (?1, ?2)",
                    params![k.0, now.millis()],
                )?;
                if n == 1 {
                    return Ok(Intent { key: k, job_id: None, fresh: true });
                }
                let job: Option<String> =
                    c.query_row("SELECT job_id FROM intents WHERE key = ?1", params![k.0], |r| {
                        r.get(0)
                    })?;
                let job_id = job
                    .map(|j| JobId::parse(&j))
                    .transpose()
                    .map_err(|e| SqliteError(e.to_string()))?;
                Ok(Intent { key: k, job_id, fresh: false })
            })
            .await?)
    }

    async fn complete_intent(&self, key: &IntentKey, job: &JobId) -> Result<(), StoreError> {
        let (k, j) = (key.0.clone(), job.to_string());
        Ok(self
            .db
            .write(move |c| {
                c.execute("UPDATE intents SET job_id = ?1 WHERE key = ?2", params![j, k])?;
                Ok(())
            })
            .await?)
    }

    async fn correlate(
        &self,
        provider: Provider,
        job: &JobId,
        correlation: &Correlation,
    ) -> Result<(), StoreError> {
        let (j, corr) = (job.to_string(), to_json(correlation));
        Ok(self
            .db
            .write(move |c| {
                c.execute(
                    "INSERT INTO rendezvous (provider, job_id, corr) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (provider, job_id) DO UPDATE SET corr = excluded.corr",
                    params![provider.as_str(), j, corr],
                )?;
                Ok(())
            })
            .await?)
    }

    async fn record_arrival(
        &self,
        provider: Provider,
        job: &JobId,
        arrival: &Arrival,
        claimed: Option<RunId>,
    ) -> Result<RecordArrival, StoreError> {
        let (j, a) = (job.to_string(), to_json(arrival));
        let claimed = claimed.map(|r| r.to_string());
        Ok(self.db.write(move |c| {
            // One statement: only a correlated, open job without an arrival (of the claimed
            // run, if one is claimed) takes it.
            let n = c.execute(
                "UPDATE rendezvous SET arrival = ?3 WHERE provider = ?1 AND job_id = ?2 \
                 AND corr IS NOT NULL AND arrival IS NULL AND closed = 0 \
                 AND (?4 IS NULL OR json_extract(corr, '$.run_id') = ?4)",
                params![provider.as_str(), j, a, claimed],
            )?;
            let row: Option<(Option<String>, bool)> = c
                .query_row(
                    "SELECT corr, arrival IS NOT NULL FROM rendezvous WHERE provider = ?1 AND job_id = ?2",
                    params![provider.as_str(), j],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((Some(corr), arrived)) = row else { return Ok(RecordArrival::Unknown) };
            let correlation: Correlation = from_json("correlation", &corr)?;
            if claimed.as_ref().is_some_and(|c| *c != correlation.run_id.to_string()) {
                return Ok(RecordArrival::WrongRun(correlation));
            }
            Ok(match (n, arrived) {
                (1, _) => RecordArrival::New(correlation),
                (_, true) => RecordArrival::Duplicate { correlation },
                (_, false) => RecordArrival::Closed,
            })
        })
        .await?)
    }

    async fn close_correlations(
        &self,
        provider: Provider,
        jobs: &[JobId],
    ) -> Result<(), StoreError> {
        let jobs: Vec<String> = jobs.iter().map(|j| j.to_string()).collect();
        Ok(self
            .db
            .write(move |c| {
                for j in jobs {
                    c.execute(
                        "UPDATE rendezvous SET closed = 1 WHERE provider = ?1 AND job_id = ?2",
                        params![provider.as_str(), j],
                    )?;
                }
                Ok(())
            })
            .await?)
    }

    async fn safety_verdict(
        &self,
        run: &RunId,
        sha: &str,
    ) -> Result<Option<SafetyRecord>, StoreError> {
        let (r, h) = (run.to_string(), sha.to_owned());
        Ok(self
            .db
            .read(move |c| {
                let body: Option<String> = c
                    .query_row(
                        "SELECT body FROM safety WHERE run_id = ?1 AND sha = ?2",
                        params![r, h],
                        |row| row.get(0),
                    )
                    .optional()?;
                body.map(|b| from_json("safety verdict", &b)).transpose()
            })
            .await?)
    }

    async fn record_safety_verdict(
        &self,
        run: &RunId,
        sha: &str,
        verdict: &SafetyRecord,
    ) -> Result<(), StoreError> {
        let (r, h, b) = (run.to_string(), sha.to_owned(), to_json(verdict));
        Ok(self
            .db
            .write(move |c| {
                c.execute(
                    "INSERT OR REPLACE INTO safety (run_id, sha, body) VALUES (?1, ?2, ?3)",
                    params![r, h, b],
                )?;
                Ok(())
            })
            .await?)
    }

    async fn start_key_run(
        &self,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> Result<Option<RunId>, StoreError> {
        let (k, now) = (key.as_str().to_owned(), now.millis());
        Ok(self
            .db
            .read(move |c| {
                let id: Option<String> = c
                    .query_row(
                        "SELECT run_id FROM start_keys WHERE key = ?1 AND expires_at > ?2",
                        params![k, now],
                        |r| r.get(0),
                    )
                    .optional()?;
                id.map(|i| i.parse().map_err(|e| SqliteError(format!("corrupt start key: {e}"))))
                    .transpose()
            })
            .await?)
    }

    async fn put_feedback(&self, feedback: &Feedback) -> Result<(), StoreError> {
        let (r, who, at, b) = (
            feedback.run_id.to_string(),
            feedback.caller.clone(),
            feedback.created_at.millis(),
            to_json(feedback),
        );
        Ok(self
            .db
            .write(move |c| {
                c.execute(
                    "INSERT OR REPLACE INTO feedback (run_id, caller, created_at, body) \
                 VALUES (?1, ?2, ?3, ?4)",
                    params![r, who, at, b],
                )?;
                Ok(())
            })
            .await?)
    }

    async fn feedback(&self, run: &RunId) -> Result<Vec<Feedback>, StoreError> {
        let r = run.to_string();
        Ok(self
            .db
            .read(move |c| {
                let mut stmt = c.prepare(
                    "SELECT body FROM feedback WHERE run_id = ?1 ORDER BY created_at, caller",
                )?;
                let bodies: Vec<String> =
                    stmt.query_map(params![r], |row| row.get(0))?.collect::<Result<_, _>>()?;
                bodies.iter().map(|b| from_json("feedback", b)).collect()
            })
            .await?)
    }

    async fn put_notice_delivery(
        &self,
        d: &NoticeDelivery,
        how: NoticeWrite,
    ) -> Result<bool, StoreError> {
        let (r, e, to) = (d.run_id.to_string(), d.event_id.clone(), d.endpoint.clone());
        let (n, st, until) = (d.attempts, d.state.as_str(), d.claimed_until.map(|t| t.millis()));
        let (at, b) = (d.first_at.millis(), to_json(d));
        // The rule of `NoticeWrite::allows`, in the upsert's condition.
        let (cond, now) = match how {
            NoticeWrite::Claim { now } => (
                "excluded.attempts > notices.attempts OR (excluded.attempts = notices.attempts \
                 AND notices.state = 'sending' AND COALESCE(notices.claimed_until, 0) < ?8)",
                now.millis(),
            ),
            NoticeWrite::Settle => ("excluded.attempts >= notices.attempts AND ?8 = ?8", 0),
        };
        let sql = format!(
            "INSERT INTO notices (run_id, event_id, endpoint, attempts, state, claimed_until, \
             first_at, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?9) \
             ON CONFLICT (run_id, event_id, endpoint) DO UPDATE SET attempts = excluded.attempts, \
             state = excluded.state, claimed_until = excluded.claimed_until, body = excluded.body \
             WHERE {cond}"
        );
        Ok(self
            .db
            .write(move |c| Ok(c.execute(&sql, params![r, e, to, n, st, until, at, now, b])? == 1))
            .await?)
    }

    async fn notice_deliveries(&self, run: &RunId) -> Result<Vec<NoticeDelivery>, StoreError> {
        let r = run.to_string();
        Ok(self
            .db
            .read(move |c| {
                let mut stmt = c.prepare(
                    "SELECT body FROM notices WHERE run_id = ?1 ORDER BY first_at, event_id, endpoint",
                )?;
                let bodies: Vec<String> =
                    stmt.query_map(params![r], |row| row.get(0))?.collect::<Result<_, _>>()?;
                bodies.iter().map(|b| from_json("notice delivery", b)).collect()
            })
            .await?)
    }

    async fn bump_counter(
        &self,
        counter: &str,
        limit: u64,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Option<u64>, StoreError> {
        let k = counter.to_owned();
        Ok(self
            .db
            .write(move |c| {
                let row: Option<(i64, i64)> = c
                    .query_row(
                        "SELECT n, expires_at FROM counters WHERE key = ?1",
                        params![k],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                let current = match row {
                    Some((n, exp)) if exp > now.millis() => n as u64,
                    _ => 0,
                };
                if current >= limit {
                    return Ok(None);
                }
                let exp = match row {
                    Some((_, exp)) if exp > now.millis() => exp,
                    _ => expires_at.millis(),
                };
                c.execute(
                    "INSERT OR REPLACE INTO counters (key, n, expires_at) VALUES (?1, ?2, ?3)",
                    params![k, (current + 1) as i64, exp],
                )?;
                Ok(Some(current + 1))
            })
            .await?)
    }

    async fn counters(&self, keys: &[String], now: Timestamp) -> Result<Vec<u64>, StoreError> {
        let keys = keys.to_vec();
        Ok(self
            .db
            .read(move |c| {
                let mut st =
                    c.prepare("SELECT n FROM counters WHERE key = ?1 AND expires_at > ?2")?;
                keys.iter()
                    .map(|k| {
                        Ok(st
                            .query_row(params![k, now.millis()], |r| r.get::<_, i64>(0))
                            .optional()?
                            .unwrap_or(0) as u64)
                    })
                    .collect()
            })
            .await?)
    }

    async fn correlations(
        &self,
        provider: Provider,
        jobs: &[JobId],
    ) -> Result<Vec<CorrelationRecord>, StoreError> {
        let jobs: Vec<JobId> = jobs.to_vec();
        Ok(self
            .db
            .read(move |c| {
                let mut st = c.prepare_cached(
                    "SELECT corr, arrival FROM rendezvous WHERE provider = ?1 AND job_id = ?2",
                )?;
                let mut out = Vec::new();
                for job in jobs {
                    let row: Option<(Option<String>, Option<String>)> = st
                        .query_row(params![provider.as_str(), job.as_str()], |r| {
                            Ok((r.get(0)?, r.get(1)?))
                        })
                        .optional()?;
                    if let Some((corr, arrival)) = row {
                        out.push(CorrelationRecord {
                            provider,
                            job_id: job,
                            correlation: corr.map(|s| from_json("correlation", &s)).transpose()?,
                            arrival: arrival.map(|s| from_json("arrival", &s)).transpose()?,
                        });
                    }
                }
                Ok(out)
            })
            .await?)
    }
}
