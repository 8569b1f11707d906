//! Group commit: one writer thread per database. Writes from every caller queue up; the writer
//! takes all that are waiting, runs each in its own savepoint inside one transaction, commits
//! once (one fsync with `synchronous=FULL`), and only then answers them. A write is therefore
//! durable before its caller hears back, exactly as with a commit per write, but concurrent
//! steps share the fsync. A write that fails rolls back its own savepoint only: the others in the
//! batch are unaffected, so every write keeps the meaning it would have alone, in the order the
//! writer took them.
//!
//! Some writes need not wait for the disk: a receive's visibility and count, a settled
//! delivery's deletion. Losing one of them to a power cut only means a message is delivered
//! again, which the engine already tolerates. A batch holding only such writes commits with
//! `synchronous=NORMAL` (no fsync; the WAL frames are in the OS's cache, so they survive the
//! process being killed); the next synced commit makes them durable with it, since the WAL is
//! replayed in order and a power cut can only lose a suffix of it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;

use crate::db::SqliteError;

/// Most writes one commit takes (a bound on how long the first waits for the last).
const MAX_BATCH: usize = 256;

/// What the writer has done so far.
#[derive(Debug, Default)]
pub struct WriteStats {
    commits: AtomicU64,
    synced: AtomicU64,
    writes: AtomicU64,
}

impl WriteStats {
    /// Transactions committed (each one fsync of the WAL when commits are synced).
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }
    /// Commits that waited for the disk (one fsync of the WAL each).
    pub fn synced(&self) -> u64 {
        self.synced.load(Ordering::Relaxed)
    }
    /// Writes carried by those commits.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }
}

/// One queued write: run inside the batch, answered after the commit.
trait Job: Send {
    /// Whether the caller may hear back only once the write is on disk.
    fn needs_sync(&self) -> bool;
    /// Run against the open transaction; false if it failed (its savepoint is rolled back).
    fn run(&mut self, c: &Connection) -> bool;
    /// The write ran and its savepoint is released; the batch is not committed yet.
    fn staged(&mut self);
    /// Answer the caller once the batch's fate is known.
    fn answer(self: Box<Self>, commit: &Result<(), SqliteError>);
}

struct Op<T, F> {
    sync: bool,
    f: Option<F>,
    out: Option<Result<T, SqliteError>>,
    staged: Option<Then<T>>,
    then: Option<Then<T>>,
    reply: oneshot::Sender<Result<T, SqliteError>>,
}

/// What runs on the writer thread with a write's result: once it is committed, before its
/// caller hears back ([`Writer::write_then`]), or once it is staged ([`Writer::write_staged`]).
pub type Then<T> = Box<dyn FnOnce(&T) + Send>;

impl<T, F> Job for Op<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T, SqliteError> + Send,
{
    fn needs_sync(&self) -> bool {
        self.sync
    }

    fn run(&mut self, c: &Connection) -> bool {
        let f = self.f.take().expect("a job runs once");
        let out = f(c);
        let ok = out.is_ok();
        self.out = Some(out);
        ok
    }

    fn staged(&mut self) {
        if let (Some(Ok(v)), Some(staged)) = (&self.out, self.staged.take()) {
            staged(v);
        }
    }

    fn answer(self: Box<Self>, commit: &Result<(), SqliteError>) {
        let out = match (self.out, commit) {
            // A failed write wrote nothing whatever the batch did: its own error says why.
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(v)), Ok(())) => Ok(v),
            (Some(Ok(_)), Err(e)) | (None, Err(e)) => Err(SqliteError(e.0.clone())),
            (None, Ok(())) => Err(SqliteError("the write was not run".into())),
        };
        if let (Ok(v), Some(then)) = (&out, self.then) {
            then(v);
        }
        let _ = self.reply.send(out);
    }
}

/// The handle to a database's writer thread.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
    stats: Arc<WriteStats>,
}

impl Writer {
    /// Start the writer thread owning `conn` (the database's only writing connection). Its
    /// `synchronous` setting is what synced writes get; unsynced ones never get more than
    /// `NORMAL`.
    pub fn spawn(conn: Connection) -> Result<Self, SqliteError> {
        let full: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
        let (jobs, rx) = mpsc::channel::<Box<dyn Job>>();
        let stats = Arc::new(WriteStats::default());
        let s = stats.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(conn, full >= SYNC_FULL, rx, &s))
            .map_err(|e| SqliteError(format!("start the writer thread: {e}")))?;
        Ok(Self { jobs, stats })
    }

    /// Run `f` as one atomic write, durable (as the connection's `synchronous` says) before this
    /// returns. Return an error from `f` to write nothing.
    pub async fn write<T, F>(&self, f: F) -> Result<T, SqliteError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, SqliteError> + Send + 'static,
    {
        self.submit(true, f, None, None).await
    }

    /// [`Writer::write`], and `then` with its result on the writer thread as soon as it is
    /// committed (before the caller's task is woken): for telling listeners of what is durable
    /// without the hop back to the caller first.
    pub async fn write_then<T, F>(&self, f: F, then: Then<T>) -> Result<T, SqliteError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, SqliteError> + Send + 'static,
    {
        self.submit(true, f, None, Some(then)).await
    }

    /// [`Writer::write`], and `staged` with its result on the writer thread as soon as the
    /// write has run in the open transaction, before the batch commits (before the fsync). Only
    /// for telling what the write made possible to whoever can act on it only through this
    /// writer: whatever they write is committed in a later batch (this one was taken before it
    /// ran), so nothing they do outlives this write. If the batch then fails, the caller hears
    /// the error, but what `staged` told is out.
    pub async fn write_staged<T, F>(&self, f: F, staged: Then<T>) -> Result<T, SqliteError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, SqliteError> + Send + 'static,
    {
        self.submit(true, f, Some(staged), None).await
    }

    /// [`Writer::write`] without waiting for the disk: committed (seen by every reader, kept if
    /// the process is killed) before this returns, durable at the next synced commit. Only for
    /// writes whose loss to a power cut is harmless.
    pub async fn write_unsynced<T, F>(&self, f: F) -> Result<T, SqliteError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, SqliteError> + Send + 'static,
    {
        self.submit(false, f, None, None).await
    }

    async fn submit<T, F>(
        &self,
        sync: bool,
        f: F,
        staged: Option<Then<T>>,
        then: Option<Then<T>>,
    ) -> Result<T, SqliteError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, SqliteError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(Op { sync, f: Some(f), out: None, staged, then, reply });
        self.jobs.send(job).map_err(|_| SqliteError("the writer thread has stopped".into()))?;
        answer.await.map_err(|_| SqliteError("the writer thread has stopped".into()))?
    }

    /// Commits and writes so far.
    pub fn stats(&self) -> &WriteStats {
        &self.stats
    }
}

/// `PRAGMA synchronous` values.
const SYNC_NORMAL: i64 = 1;
const SYNC_FULL: i64 = 2;

fn writer_loop(
    mut conn: Connection,
    full: bool,
    rx: mpsc::Receiver<Box<dyn Job>>,
    stats: &WriteStats,
) {
    let mut synced = full;
    // Ends when every handle is dropped.
    while let Some(first) = next_job(&rx) {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // The setting can only change between transactions.
        let sync = full && batch.iter().any(|j| j.needs_sync());
        let commit =
            set_synced(&conn, &mut synced, sync).and_then(|()| run_batch(&mut conn, &mut batch));
        if commit.is_ok() {
            stats.commits.fetch_add(1, Ordering::Relaxed);
            stats.synced.fetch_add(u64::from(synced), Ordering::Relaxed);
            stats.writes.fetch_add(batch.len() as u64, Ordering::Relaxed);
        }
        for job in batch {
            job.answer(&commit);
        }
    }
}

/// After a commit the writer looks for the next write for this long before it sleeps: a step's
/// checkpoint often follows the write that woke it (a callback's, in W2) by less than this, and
/// waking a sleeping thread costs as much again.
const SPIN: std::time::Duration = std::time::Duration::from_micros(SPIN_US);
const SPIN_US: u64 = 150;

/// The next write: one already waiting, one that comes within [`SPIN`] (yielding the core
/// meanwhile), else the first to come. `None` once every handle is dropped.
fn next_job(rx: &mpsc::Receiver<Box<dyn Job>>) -> Option<Box<dyn Job>> {
    let until = std::time::Instant::now() + SPIN;
    loop {
        match rx.try_recv() {
            Ok(job) => return Some(job),
            Err(mpsc::TryRecvError::Disconnected) => return None,
            Err(mpsc::TryRecvError::Empty) if std::time::Instant::now() < until => {
                std::thread::yield_now()
            }
            Err(mpsc::TryRecvError::Empty) => return rx.recv().ok(),
        }
    }
}

fn set_synced(conn: &Connection, now: &mut bool, want: bool) -> Result<(), SqliteError> {
    if *now != want {
        let level = if want { SYNC_FULL } else { SYNC_NORMAL };
        conn.pragma_update(None, "synchronous", level)?;
        *now = want;
    }
    Ok(())
}

fn run_batch(conn: &mut Connection, batch: &mut [Box<dyn Job>]) -> Result<(), SqliteError> {
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for job in batch.iter_mut() {
        let sp = tx.savepoint()?;
        if job.run(&sp) {
            sp.commit()?;
            job.staged();
        }
        // Dropped uncommitted: rolled back to where the job began.
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer() -> Writer {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)").unwrap();
        Writer::spawn(c).unwrap()
    }

    async fn count(w: &Writer) -> i64 {
        w.write(|c| Ok(c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?)).await.unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_waiting_behind_a_commit_share_the_next_one() {
        let w = writer();
        // The first write holds the writer long enough for 200 others to queue behind it.
        let slow = {
            let w = w.clone();
            tokio::spawn(async move {
                w.write(|c| {
                    std::thread::sleep(std::time::Duration::from_millis(300));
                    Ok(c.execute("INSERT INTO t (k, v) VALUES ('slow', -1)", [])?)
                })
                .await
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..200 {
            let w = w.clone();
            tasks.spawn(async move {
                w.write(move |c| {
                    Ok(c.execute("INSERT INTO t (k, v) VALUES (?1, ?2)", (format!("k{i}"), i))?)
                })
                .await
            });
        }
        while let Some(r) = tasks.join_next().await {
            assert_eq!(r.unwrap().unwrap(), 1);
        }
        assert_eq!(slow.await.unwrap().unwrap(), 1);
        let (commits, writes) = (w.stats().commits(), w.stats().writes());
        assert_eq!((count(&w).await, writes), (201, 201));
        assert!(
            commits <= 3,
            "{commits} commits for {writes} writes: the waiting ones were not grouped"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn then_runs_once_committed_before_the_caller_hears_back_and_only_if_it_landed() {
        let w = writer();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let s = seen.clone();
        let n = w
            .write_then(
                |c| Ok(c.execute("INSERT INTO t (k, v) VALUES ('a', 1)", [])?),
                Box::new(move |n: &usize| s.lock().unwrap().push(*n)),
            )
            .await
            .unwrap();
        assert_eq!((n, seen.lock().unwrap().clone()), (1, vec![1]), "told before the answer");
        let s = seen.clone();
        let refused = w
            .write_then(
                |c| {
                    c.execute("INSERT INTO t (k, v) VALUES ('b', 2)", [])?;
                    Err::<usize, _>(SqliteError("refused".into()))
                },
                Box::new(move |n: &usize| s.lock().unwrap().push(*n)),
            )
            .await;
        assert!(refused.is_err());
        assert_eq!(seen.lock().unwrap().clone(), vec![1], "a write that failed tells nothing");
        assert_eq!(count(&w).await, 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn staged_runs_before_the_commit_and_only_for_a_write_that_ran() {
        let dir = std::env::temp_dir().join(format!("staged-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode = WAL; CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)",
        )
        .unwrap();
        let w = Writer::spawn(c).unwrap();
        let reader = Arc::new(std::sync::Mutex::new(Connection::open(&path).unwrap()));
        let rows = |r: &std::sync::Mutex<Connection>| -> i64 {
            r.lock().unwrap().query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).unwrap()
        };
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (s, r) = (seen.clone(), reader.clone());
        let n = w
            .write_staged(
                |c| Ok(c.execute("INSERT INTO t (k, v) VALUES ('a', 1)", [])?),
                Box::new(move |n: &usize| s.lock().unwrap().push((*n, rows(&r)))),
            )
            .await
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(seen.lock().unwrap().clone(), vec![(1, 0)], "told while not yet committed");
        assert_eq!(rows(&reader), 1, "committed once answered");
        let (s, r) = (seen.clone(), reader.clone());
        let refused = w
            .write_staged(
                |c| {
                    c.execute("INSERT INTO t (k, v) VALUES ('b', 2)", [])?;
                    Err::<usize, _>(SqliteError("refused".into()))
                },
                Box::new(move |n: &usize| s.lock().unwrap().push((*n, rows(&r)))),
            )
            .await;
        assert!(refused.is_err());
        assert_eq!(seen.lock().unwrap().len(), 1, "a write that failed tells nothing");
        drop(w);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_write_rolls_back_itself_only() {
        let w = writer();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..50 {
            let w = w.clone();
            tasks.spawn(async move {
                w.write(move |c| {
                    c.execute("INSERT INTO t (k, v) VALUES (?1, ?2)", (format!("k{i}"), i))?;
                    if i % 2 == 1 {
                        // Wrote, then refused: nothing of it may remain.
                        return Err(SqliteError(format!("refused {i}")));
                    }
                    Ok(i)
                })
                .await
            });
        }
        let mut refused = 0;
        while let Some(r) = tasks.join_next().await {
            match r.unwrap() {
                Ok(i) => assert_eq!(i % 2, 0),
                Err(e) => {
                    assert!(e.0.starts_with("refused"), "{e}");
                    refused += 1;
                }
            }
        }
        assert_eq!(refused, 25);
        let odd: i64 = w
            .write(|c| Ok(c.query_row("SELECT COUNT(*) FROM t WHERE v % 2 = 1", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!((count(&w).await, odd), (25, 0));
    }

    /// The `synchronous` level the write ran under.
    fn level(c: &Connection) -> Result<i64, SqliteError> {
        Ok(c.query_row("PRAGMA synchronous", [], |r| r.get(0))?)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn only_batches_of_unsynced_writes_skip_the_fsync() {
        let path = std::env::temp_dir().join(format!("writer-{}.db", uuid::Uuid::new_v4()));
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "journal_mode", "WAL").unwrap();
        c.pragma_update(None, "synchronous", "FULL").unwrap();
        c.execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)").unwrap();
        let w = Writer::spawn(c).unwrap();
        assert_eq!(w.write_unsynced(level).await.unwrap(), SYNC_NORMAL);
        assert_eq!(
            w.write(level).await.unwrap(),
            SYNC_FULL,
            "a synced write after an unsynced one"
        );
        assert_eq!((w.stats().commits(), w.stats().synced()), (2, 1));
        // An unsynced write is committed when it returns: a new connection sees it.
        w.write_unsynced(|c| Ok(c.execute("INSERT INTO t (k, v) VALUES ('lazy', 1)", [])?))
            .await
            .unwrap();
        let seen: i64 = Connection::open(&path)
            .unwrap()
            .query_row("SELECT v FROM t WHERE k = 'lazy'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(seen, 1);
        // A batch holding one synced write among unsynced ones is synced for all of them.
        let slow = {
            let w = w.clone();
            tokio::spawn(async move {
                w.write(|c| {
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    level(c)
                })
                .await
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let (lazy, synced) = tokio::join!(w.write_unsynced(level), w.write(level));
        assert_eq!(slow.await.unwrap().unwrap(), SYNC_FULL);
        assert_eq!((lazy.unwrap(), synced.unwrap()), (SYNC_FULL, SYNC_FULL));
        let _ = std::fs::remove_file(&path);
    }
}
