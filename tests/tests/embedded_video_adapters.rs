//! Whole runs through each video adapter (OpenAI-compatible and Replicate-style with webhooks,
//! Gemini-style by polling alone) on the embedded backend (SQLite).

use std::time::Duration;

use myloware_sqlite::Durability;
use myloware_tests::adapter_checks;
use myloware_tests::backend::Backend;

fn backend() -> Backend {
    Backend::embedded(Duration::from_secs(5), 5, Durability::PowerLoss)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_video_adapter_completes_a_run_on_sqlite() {
    adapter_checks::every_adapter_completes_a_run(&backend()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_the_provider_forgot_fails_the_run_on_sqlite() {
    adapter_checks::a_forgotten_job_fails_the_run_at_once(&backend()).await;
}
