//! The port conformance suite on the embedded backend.

use std::sync::Arc;
use std::time::Duration;

use myloware::time::SystemClock;
use myloware_conformance::{
    QueueUnderTest, blob_stream_suite, blob_suite, queue_suite, store_suite,
};
use myloware_sqlite::{Embedded, QueueSettings};

fn backend(settings: QueueSettings) -> Embedded {
    let dir = std::env::temp_dir().join(format!("myloware-conf-{}", uuid::Uuid::new_v4().simple()));
    Embedded::open(&dir, Arc::new(SystemClock), settings).expect("open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn store_conformance() {
    store_suite(backend(QueueSettings::default()).store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_conformance() {
    let settings =
        QueueSettings { visibility_timeout: Duration::from_secs(2), max_receive_count: 2 };
    let b = backend(settings);
    queue_suite(QueueUnderTest {
        queue: b.queue.clone(),
        consumer: b.queue.clone(),
        dlq: b.queue.clone(),
        visibility: settings.visibility_timeout,
        max_receive_count: settings.max_receive_count,
        redrive: true,
    })
    .await;
}

#[tokio::test]
async fn blob_conformance() {
    let dir = std::env::temp_dir().join(format!("myloware-conf-{}", uuid::Uuid::new_v4().simple()));
    let b = Embedded::open(&dir, Arc::new(SystemClock), QueueSettings::default()).expect("open");
    blob_suite(b.blobs.clone()).await;
    blob_stream_suite(b.blobs.clone()).await;
    drop(b);
    std::fs::remove_dir_all(dir).expect("remove the test's data directory");
}
