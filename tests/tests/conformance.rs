//! The port conformance suite on DynamoDB / SQS / S3 (LocalStack) and on the in-memory store.

use std::sync::Arc;
use std::time::Duration;

use myloware::adapters::MemoryBackend;
use myloware_aws::resources::{QueueSettings, ResourceNames, bootstrap_with};
use myloware_aws::{AwsClients, DynamoStore, S3Blobs, SqsDeadLetters, SqsQueue};
use myloware_conformance::{
    QueueUnderTest, blob_stream_suite, blob_suite, queue_suite, store_suite,
};

async fn resources(settings: QueueSettings) -> (AwsClients, myloware_aws::Resources) {
    assert!(std::env::var("AWS_ENDPOINT_URL").is_ok(), "needs LocalStack: run scripts/test-all.sh");
    let clients = AwsClients::from_env().await;
    let prefix = format!("c{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let r = bootstrap_with(&clients, &ResourceNames::with_prefix(&prefix), settings)
        .await
        .expect("bootstrap");
    (clients, r)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_store_conformance() {
    let (c, r) = resources(QueueSettings::default()).await;
    store_suite(Arc::new(DynamoStore::new(c.dynamodb().clone(), &r.names.table))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_queue_conformance() {
    let settings = QueueSettings { visibility_timeout_secs: 2, max_receive_count: 2 };
    let (c, r) = resources(settings).await;
    let q = Arc::new(SqsQueue::new(c.sqs().clone(), &r.queue_url));
    queue_suite(QueueUnderTest {
        queue: q.clone(),
        consumer: q,
        dlq: Arc::new(SqsDeadLetters::new(c.sqs().clone(), &r.dlq_url).with_source(&r.queue_url)),
        visibility: Duration::from_secs(2),
        max_receive_count: 2,
        // moto (the fallback emulator) has no message move tasks.
        redrive: std::env::var("AWS_EMULATOR").as_deref() != Ok("moto"),
    })
    .await;
}

#[tokio::test]
async fn s3_blob_conformance() {
    let (c, r) = resources(QueueSettings::default()).await;
    let blobs = Arc::new(S3Blobs::new(c.s3().clone(), &r.names.bucket));
    blob_suite(blobs.clone()).await;
    blob_stream_suite(blobs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_and_blob_conformance() {
    let b = MemoryBackend::default();
    store_suite(b.store.clone()).await;
    blob_suite(b.blobs.clone()).await;
    blob_stream_suite(b.blobs.clone()).await;
}
