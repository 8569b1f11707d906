//! A backend under test: the ports on SQLite (the embedded backend) or on LocalStack
//! (DynamoDB, SQS, S3), each with real delete semantics, so one scenario runs on both.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use myloware::domain::RunRecord;
use myloware::ports::{BlobStore, DeadLetters, QueueConsumer, RunStore, StepCommit, StepQueue};
use myloware::time::{SystemClock, Timestamp};
use myloware_aws::resources::{QueueSettings as SqsSettings, ResourceNames, bootstrap_with};
use myloware_aws::{AwsClients, DynamoStore, S3Blobs, SqsDeadLetters, SqsQueue};
use myloware_sqlite::{Durability, Embedded, QueueSettings};

/// The ports of one backend, and its queue's visibility timeout.
#[derive(Clone)]
pub struct Backend {
    /// Run store.
    pub store: Arc<dyn RunStore>,
    /// Sending side of the step queue.
    pub queue: Arc<dyn StepQueue>,
    /// Consuming side.
    pub consumer: Arc<dyn QueueConsumer>,
    /// Its DLQ.
    pub dlq: Arc<dyn DeadLetters>,
    /// Artifacts.
    pub blobs: Arc<dyn BlobStore>,
    /// The queue's visibility timeout (leases are kept below it).
    pub visibility: Duration,
    /// The SQLite data directory, when embedded (removed by the test when it is done).
    pub dir: Option<PathBuf>,
    /// The DynamoDB store, on LocalStack (for bulk seeding).
    pub dynamo: Option<Arc<DynamoStore>>,
    /// The AWS clients and the bucket, on LocalStack.
    pub aws: Option<(AwsClients, String)>,
    /// The one-transaction step commit, where the backend has one (embedded).
    pub step_commit: Option<Arc<dyn StepCommit>>,
}

impl Backend {
    /// SQLite in a fresh temporary directory.
    pub fn embedded(visibility: Duration, max_receive_count: u32, durability: Durability) -> Self {
        let dir = std::env::temp_dir()
            .join(format!("myloware-backend-{}", uuid::Uuid::new_v4().simple()));
        let settings = QueueSettings { visibility_timeout: visibility, max_receive_count };
        let e = Embedded::open_with(&dir, Arc::new(SystemClock), settings, durability)
            .expect("open the embedded backend");
        Self {
            store: e.store.clone(),
            queue: e.queue.clone(),
            consumer: e.queue.clone(),
            dlq: e.queue.clone(),
            blobs: e.blobs.clone(),
            visibility,
            dir: Some(dir),
            dynamo: None,
            aws: None,
            step_commit: Some(Arc::new(e.clone())),
        }
    }

    /// Per-test resources on LocalStack (`AWS_ENDPOINT_URL`).
    pub async fn localstack(visibility_secs: u32, max_receive_count: u32) -> Self {
        assert!(std::env::var("AWS_ENDPOINT_URL").is_ok(), "start LocalStack (see .ci/run)");
        let clients = AwsClients::from_env().await;
        let prefix = format!("b{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let settings = SqsSettings { visibility_timeout_secs: visibility_secs, max_receive_count };
        let r = bootstrap_with(&clients, &ResourceNames::with_prefix(&prefix), settings)
            .await
            .expect("bootstrap");
        let queue = Arc::new(SqsQueue::new(clients.sqs().clone(), &r.queue_url));
        let dynamo = Arc::new(DynamoStore::new(clients.dynamodb().clone(), &r.names.table));
        Self {
            store: dynamo.clone(),
            queue: queue.clone(),
            consumer: queue,
            dlq: Arc::new(
                SqsDeadLetters::new(clients.sqs().clone(), &r.dlq_url).with_source(&r.queue_url),
            ),
            blobs: Arc::new(S3Blobs::new(clients.s3().clone(), &r.names.bucket)),
            visibility: Duration::from_secs(visibility_secs as u64),
            dir: None,
            dynamo: Some(dynamo),
            aws: Some((clients.clone(), r.names.bucket.clone())),
            step_commit: None,
        }
    }

    /// Create many runs as they are (seeding a scale test): batched on DynamoDB, 32 at a time
    /// through the store elsewhere.
    pub async fn seed(&self, runs: Vec<RunRecord>) {
        if let Some(d) = &self.dynamo {
            let mut tasks = tokio::task::JoinSet::new();
            for chunk in runs.chunks(240) {
                let (d, chunk) = (d.clone(), chunk.to_vec());
                tasks.spawn(async move { d.import_runs(&chunk).await });
                while tasks.len() >= 8 {
                    tasks.join_next().await.unwrap().unwrap().expect("import runs");
                }
            }
            while let Some(t) = tasks.join_next().await {
                t.unwrap().expect("import runs");
            }
            return;
        }
        let mut tasks = tokio::task::JoinSet::new();
        for run in runs {
            let store = self.store.clone();
            tasks.spawn(async move { store.create_run(&run, Timestamp(i64::MAX)).await });
            while tasks.len() >= 32 {
                tasks.join_next().await.unwrap().unwrap().expect("create a run");
            }
        }
        while let Some(t) = tasks.join_next().await {
            t.unwrap().expect("create a run");
        }
    }

    /// Remove the data directory, if any.
    pub fn cleanup(&self) {
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}
