//! The sweeper on the embedded backend: an unreadable record is reported and skipped (and
//! deferred, so it never starves the others), and data directories written before the due
//! index existed are brought up to it.

use std::sync::Arc;
use std::time::Duration;

use myloware::domain::{ProjectName, RunRecord, RunStatus, Step};
use myloware::fakes::FakeSet;
use myloware::ports::{QueueConsumer, RunStore};
use myloware::time::{Clock, SystemClock, Timestamp};
use myloware::webhooks::WebhookSecret;
use myloware_sqlite::{Embedded, QueueSettings};

fn stuck(brief: &str, now: Timestamp) -> RunRecord {
    let mut run = RunRecord::new(ProjectName::parse("p").unwrap(), brief.into(), 1, None, now);
    run.step = Step::Production;
    run.status = RunStatus::Running;
    run.due_at = Some(Timestamp(now.millis() - 1000));
    run
}

#[tokio::test]
async fn an_unreadable_record_is_reported_skipped_and_deferred() {
    let dir =
        std::env::temp_dir().join(format!("myloware-sweep-{}", uuid::Uuid::new_v4().simple()));
    let backend = Embedded::open(&dir, Arc::new(SystemClock), QueueSettings::default()).unwrap();
    let secret = WebhookSecret::parse("s").unwrap();
    let fakes = FakeSet::silent(secret);
    let engine = backend.engine(fakes.providers(), Arc::new(SystemClock), Default::default());
    let now = SystemClock.now();
    let (bad, good) = (stuck("bad", now), stuck("good", now));
    backend.store.create_run(&bad, Timestamp(i64::MAX)).await.unwrap();
    backend.store.create_run(&good, Timestamp(i64::MAX)).await.unwrap();
    // Someone (a bad migration, a hand edit) left an unreadable body behind.
    let db = rusqlite::Connection::open(dir.join("myloware.db")).unwrap();
    db.execute("UPDATE runs SET body = '{not json' WHERE run_id = ?1", [bad.run_id.to_string()])
        .unwrap();

    // A pass with no time left does nothing and says it did not finish; the next goes on.
    let none = engine.sweep(Duration::ZERO).await.unwrap();
    assert_eq!((none.examined, none.finished), (0, false), "{none:?}");
    let report = engine.sweep(Duration::from_secs(10)).await.unwrap();
    assert_eq!(report.requeued, [good.run_id], "the others are still handled: {report:?}");
    assert_eq!(report.errors.len(), 1, "{report:?}");
    assert_eq!(report.errors[0].run_id, bad.run_id);
    assert!(report.errors[0].error.contains("corrupt"), "{report:?}");
    assert!(report.finished);
    let msgs = backend.queue.receive(10, Duration::from_secs(1)).await.unwrap();
    assert_eq!(msgs.len(), 1, "one message, for the readable run");
    // Both are out of the way until they are due again.
    assert_eq!(engine.sweep(Duration::from_secs(10)).await.unwrap().examined, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_data_directory_from_before_the_due_index_is_migrated() {
    let dir = std::env::temp_dir().join(format!("myloware-old-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    {
        // The runs table as the first release created it.
        let db = rusqlite::Connection::open(dir.join("myloware.db")).unwrap();
        db.execute_batch(
            "CREATE TABLE runs (run_id TEXT PRIMARY KEY, version INTEGER NOT NULL, \
             status TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, \
             lease_owner TEXT, lease_until INTEGER, body TEXT NOT NULL)",
        )
        .unwrap();
    }
    let backend = Embedded::open(&dir, Arc::new(SystemClock), QueueSettings::default()).unwrap();
    let run = stuck("old", SystemClock.now());
    backend.store.create_run(&run, Timestamp(i64::MAX)).await.unwrap();
    let got = backend.store.get_run(&run.run_id).await.unwrap().unwrap();
    assert_eq!((got.due_at, got.attempts, got.timer_seq), (run.due_at, 0, 0));
    backend.store.tick_timer(&run.run_id, 1, 0, Some("link"), SystemClock.now()).await.unwrap();
    let got = backend.store.get_run(&run.run_id).await.unwrap().unwrap();
    assert_eq!((got.timer_seq, got.timer_by.as_deref()), (1, Some("link")), "columns added");
    let page = backend.store.due_runs(SystemClock.now(), 10, None).await.unwrap();
    assert_eq!(page.runs.len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
