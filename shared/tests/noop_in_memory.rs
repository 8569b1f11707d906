//! The no-op workflow runs through the real runner: K checkpoints, one per step, no lease (it
//! pays nothing), duplicates fenced by the version, and a step that keeps dying stalls the run.

mod common;

use common::Harness;
use myloware::domain::{RunStatus, Step, StepMessage};
use myloware::engine::Disposition;
use myloware::ports::RunStore;

#[tokio::test]
async fn a_noop_run_checkpoints_each_step_once_without_a_lease() {
    let h = Harness::new();
    let run = h.engine.start_noop(5, None).await.unwrap();
    h.pump(1).await;
    let done = h.run(&run.run_id).await;
    assert_eq!((done.status, done.step, done.version), (RunStatus::Completed, Step::Done, 6));
    assert_eq!(done.state.noop.map(|p| (p.done, p.steps)), Some((5, 5)));
    let history = h.store.history(&run.run_id).await.unwrap();
    let versions: Vec<u64> = history.iter().map(|c| c.version).collect();
    assert_eq!(versions, (1..=6).collect::<Vec<_>>());
    let stats = h.faults.stats();
    assert_eq!(stats.get("store.checkpoint.before").map(|s| s.hits), Some(5), "{stats:?}");
    let leases = stats.keys().filter(|k| k.contains("lease")).count();
    assert_eq!(leases, 0, "a step that pays nothing touched a lease: {stats:?}");
}

#[tokio::test]
async fn every_noop_message_twice_counts_each_step_once() {
    let h = Harness::new();
    let run = h.engine.start_noop(4, None).await.unwrap();
    h.pump(2).await;
    let done = h.run(&run.run_id).await;
    assert_eq!((done.status, done.version), (RunStatus::Completed, 5));
    assert_eq!(done.state.noop.map(|p| p.done), Some(4));
    assert_eq!(h.store.history(&run.run_id).await.unwrap().len(), 5);
}

#[tokio::test]
async fn a_noop_step_delivered_past_its_attempts_stalls_the_run() {
    let h = Harness::new();
    let run = h.engine.start_noop(3, None).await.unwrap();
    let limit = h.engine.config.retries.for_step(Step::Noop).max_attempts;
    let m = StepMessage::at(run.run_id, 1);
    let d = h.deliver(&m, limit + 1).await.unwrap();
    assert!(matches!(d, Disposition::DeadLetter { redrive: Some(_) }), "{d:?}");
    assert_eq!(h.run(&run.run_id).await.status, RunStatus::Stalled);
}

#[tokio::test]
async fn a_noop_run_needs_a_step() {
    let h = Harness::new();
    let e = h.engine.start_noop(0, None).await.unwrap_err();
    assert_eq!(e.code(), "invalid_steps");
}
