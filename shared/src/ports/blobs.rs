//! The blob store port (S3 semantics): artifacts under `runs/<run_id>/…`.

use std::time::Duration;

use async_trait::async_trait;

use super::Media;

/// Blob store failures.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// No such blob.
    #[error("no blob at {0}")]
    NotFound(String),
    /// Anything else.
    #[error("blob store unavailable: {0}")]
    Unavailable(String),
    /// The bytes being stored stopped coming (the download failed); nothing was stored.
    #[error("{0}")]
    Source(super::ProviderError),
    /// More bytes came than allowed; nothing was stored.
    #[error("larger than {0} bytes")]
    TooLarge(u64),
}

/// Artifact storage.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Store bytes under `key` (overwrites: keys are deterministic, so a retry rewrites the same).
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError>;
    /// Store what `media` yields under `key` without holding it whole in memory (adapters
    /// stream it: a file written chunk by chunk, an S3 multipart upload). More than
    /// `max_bytes`, or a failing source, stores nothing. Returns the bytes stored. The default
    /// reads it all first: for stores that live in memory anyway.
    async fn put_stream(
        &self,
        key: &str,
        mut media: Media,
        content_type: &str,
        max_bytes: u64,
    ) -> Result<u64, BlobError> {
        let mut bytes = Vec::new();
        let mut seen = 0;
        while let Some(chunk) = next_within(media.as_mut(), &mut seen, max_bytes).await? {
            bytes.extend_from_slice(&chunk);
        }
        let n = bytes.len() as u64;
        self.put(key, bytes, content_type).await?;
        Ok(n)
    }
    /// Read a blob.
    async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError>;
    /// A URL that lets the holder GET the blob for `ttl`.
    async fn presign_get(&self, key: &str, ttl: Duration) -> Result<String, BlobError>;
    /// Whether the store answers (deep health): a read that changes nothing.
    async fn check(&self) -> Result<(), BlobError> {
        Ok(())
    }
}

/// The next chunk of `media` for a store writing it, `seen` counting the bytes so far: a source
/// failure or more than `max` bytes is the store's error (and the store keeps nothing).
pub async fn next_within(
    media: &mut dyn super::ByteSource,
    seen: &mut u64,
    max: u64,
) -> Result<Option<Vec<u8>>, BlobError> {
    let chunk = media.next_chunk().await.map_err(BlobError::Source)?;
    if let Some(c) = &chunk {
        *seen += c.len() as u64;
        if *seen > max {
            return Err(BlobError::TooLarge(max));
        }
    }
    Ok(chunk)
}
