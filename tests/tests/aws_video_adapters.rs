//! Whole runs through each video adapter (OpenAI-compatible and Replicate-style with webhooks,
//! Gemini-style by polling alone) on LocalStack (DynamoDB, SQS, S3).

use myloware_tests::adapter_checks;
use myloware_tests::backend::Backend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_video_adapter_completes_a_run_on_localstack() {
    adapter_checks::every_adapter_completes_a_run(&Backend::localstack(5, 5).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_the_provider_forgot_fails_the_run_on_localstack() {
    adapter_checks::a_forgotten_job_fails_the_run_at_once(&Backend::localstack(5, 5).await).await;
}
