//! The blob store port (S3 semantics): artifacts under `runs/<run_id>/…`.

use std::time::Duration;

use async_trait::async_trait;

/// Blob store failures.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// No such blob.
    #[error("no blob at {0}")]
    NotFound(String),
    /// Anything else.
    #[error("blob store unavailable: {0}")]
    Unavailable(String),
}

/// Artifact storage.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Store bytes under `key` (overwrites: keys are deterministic, so a retry rewrites the same).
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError>;
    /// Read a blob.
    async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError>;
    /// A URL that lets the holder GET the blob for `ttl`.
    async fn presign_get(&self, key: &str, ttl: Duration) -> Result<String, BlobError>;
}
