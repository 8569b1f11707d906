//! The exactly-once scenarios on the embedded backend (SQLite: an acked message is deleted),
//! with a real clock and several workers. The same scenarios run on LocalStack in
//! `aws_exactly_once.rs`.

use std::time::Duration;

use myloware_sqlite::Durability;
use myloware_tests::backend::Backend;
use myloware_tests::scenarios;

fn sqlite(visibility: Duration) -> Backend {
    Backend::embedded(visibility, 8, Durability::PowerLoss)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_send_is_re_sent_at_once() {
    let b = sqlite(Duration::from_secs(2));
    scenarios::a_lost_send_is_re_sent_by_the_redelivery_that_wrote_the_checkpoint(&b).await;
    b.cleanup();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_step_that_always_crashes_stalls_once() {
    let b = sqlite(Duration::from_secs(1));
    scenarios::a_step_that_always_crashes_stalls_once_and_stays_buried(&b).await;
    b.cleanup();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_editing_step_killed_after_clip_k_resumes_at_the_next() {
    let b = sqlite(Duration::from_secs(2));
    scenarios::an_editing_step_killed_after_clip_k_resumes_at_the_next(&b, 4, 2).await;
    b.cleanup();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_twenty_second_step_runs_once_with_four_workers() {
    // Lease 3 s (visibility 4 s): without renewals the others would take the step at 3–4 s.
    let b = sqlite(Duration::from_secs(4));
    scenarios::a_step_longer_than_its_lease_runs_once(&b, Duration::from_secs(20), 4).await;
    b.cleanup();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_parked_runs_and_one_stuck_one_sweep() {
    // Commits synced to the OS, not the disk: this measures the sweep, not 10,000 fsyncs.
    let b = Backend::embedded(Duration::from_secs(4), 8, Durability::ProcessCrash);
    let scale = scenarios::the_sweeper_reads_only_due_runs(&b, 10_000).await;
    println!(
        "SQLite: {} runs created in {:.1?}; one sweep pass in {:.1?} examined {} and re-sent {:?}",
        scale.runs, scale.setup, scale.sweep, scale.report.examined, scale.report.requeued
    );
    b.cleanup();
}
