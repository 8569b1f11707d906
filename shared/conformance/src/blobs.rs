//! Blob store conformance.

use std::sync::Arc;
use std::time::Duration;

use myloware::domain::RunId;
use myloware::ports::{BlobError, BlobStore};

/// Every blob check.
pub async fn blob_suite(blobs: Arc<dyn BlobStore>) {
    let run = RunId::new();
    let key = format!("runs/{run}/clips/00.mp4");
    blobs.put(&key, b"first".to_vec(), "video/mp4").await.unwrap();
    assert_eq!(blobs.get(&key).await.unwrap(), b"first", "round trip");
    blobs.put(&key, b"second".to_vec(), "video/mp4").await.unwrap();
    assert_eq!(blobs.get(&key).await.unwrap(), b"second", "a retried step overwrites");
    let missing = blobs.get(&format!("runs/{run}/nothing")).await;
    assert!(matches!(missing, Err(BlobError::NotFound(_))), "missing blob: {missing:?}");
    let url = blobs.presign_get(&key, Duration::from_secs(60)).await.unwrap();
    assert!(url.contains(&run.to_string()), "presigned URL names the object: {url}");
}
