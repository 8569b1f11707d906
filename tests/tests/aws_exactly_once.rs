//! The exactly-once scenarios on LocalStack (DynamoDB, SQS, S3): the same as on SQLite
//! (`embedded_exactly_once.rs`), each on its own per-test resources.

use myloware_tests::backend::Backend;
use myloware_tests::scenarios;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_send_is_re_sent_at_once_on_sqs() {
    let b = Backend::localstack(2, 8).await;
    scenarios::a_lost_send_is_re_sent_by_the_redelivery_that_wrote_the_checkpoint(&b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_step_that_always_crashes_stalls_once_on_sqs() {
    let b = Backend::localstack(1, 8).await;
    scenarios::a_step_that_always_crashes_stalls_once_and_stays_buried(&b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_editing_step_killed_after_clip_k_resumes_at_the_next_on_sqs() {
    let b = Backend::localstack(2, 8).await;
    scenarios::an_editing_step_killed_after_clip_k_resumes_at_the_next(&b, 4, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_parked_runs_and_one_stuck_one_sweep_on_dynamodb() {
    let b = Backend::localstack(4, 8).await;
    let scale = scenarios::the_sweeper_reads_only_due_runs(&b, 10_000).await;
    println!(
        "DynamoDB: {} runs created in {:.1?}; one sweep pass in {:.1?} examined {} and re-sent {:?}",
        scale.runs, scale.setup, scale.sweep, scale.report.examined, scale.report.requeued
    );
}
