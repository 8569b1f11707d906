//! Chaos on LocalStack (DynamoDB, SQS, S3): 50 runs with crashes injected at random fault points
//! and every message and callback duplicated; every run completes with exactly N video jobs, one
//! render and one publication. Prints the table per fault point.

use std::sync::Arc;
use std::time::Duration;

use myloware_aws::resources::{QueueSettings, ResourceNames, bootstrap_with};
use myloware_aws::{AwsClients, DynamoStore, S3Blobs, SqsDeadLetters, SqsQueue};
use myloware_tests::chaos::{ChaosBackend, ChaosOptions, run_chaos};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_runs_on_localstack_survive_crashes_at_every_fault_point() {
    myloware_tests::init_logs();
    assert!(std::env::var("AWS_ENDPOINT_URL").is_ok(), "start LocalStack (see .ci/run)");
    let runs: usize = std::env::var("CHAOS_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let seed = std::env::var("CHAOS_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
            as u64
    });
    let clients = AwsClients::from_env().await;
    let prefix = format!("chaos{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let settings = QueueSettings { visibility_timeout_secs: 2, max_receive_count: 30 };
    let r = bootstrap_with(&clients, &ResourceNames::with_prefix(&prefix), settings)
        .await
        .expect("bootstrap");
    let queue = Arc::new(SqsQueue::new(clients.sqs.clone(), &r.queue_url));
    let b = ChaosBackend {
        store: Arc::new(DynamoStore::new(clients.dynamodb.clone(), &r.names.table)),
        queue: queue.clone(),
        consumer: queue,
        dlq: Arc::new(
            SqsDeadLetters::new(clients.sqs.clone(), &r.dlq_url).with_source(&r.queue_url),
        ),
        blobs: Arc::new(S3Blobs::new(clients.s3.clone(), &r.names.bucket)),
        visibility: Duration::from_secs(2),
    };
    let opts = ChaosOptions {
        runs,
        clips: 2,
        p: 0.02,
        seed,
        workers: 4,
        timeout: Duration::from_secs(600),
    };
    run_chaos(b, opts).await.check(runs, 2, seed);
}
