//! Blob store conformance.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use myloware::domain::RunId;
use myloware::ports::{BlobError, BlobStore, ByteSource, ProviderError};

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

/// `chunks` chunks of `size` bytes each, a pattern that shows any misplaced byte; it fails
/// with `fail` at chunk `fail_at` when given.
pub struct Pattern {
    /// Chunks to give.
    pub chunks: usize,
    /// Bytes per chunk.
    pub size: usize,
    /// Fail instead of giving this chunk.
    pub fail_at: Option<usize>,
    given: usize,
}

impl Pattern {
    /// A source of `chunks` × `size` bytes.
    pub fn new(chunks: usize, size: usize) -> Self {
        Self { chunks, size, fail_at: None, given: 0 }
    }

    /// The bytes it gives, all at once.
    pub fn expected(chunks: usize, size: usize) -> Vec<u8> {
        (0..chunks).flat_map(|c| (0..size).map(move |i| byte(c, i))).collect()
    }
}

fn byte(chunk: usize, i: usize) -> u8 {
    (chunk.wrapping_mul(131) ^ i.wrapping_mul(7) ^ (i >> 8)) as u8
}

#[async_trait]
impl ByteSource for Pattern {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ProviderError> {
        if self.fail_at == Some(self.given) {
            return Err(ProviderError::Retryable("connection reset mid-download".into()));
        }
        if self.given == self.chunks {
            return Ok(None);
        }
        let c = self.given;
        self.given += 1;
        Ok(Some((0..self.size).map(|i| byte(c, i)).collect()))
    }
}

/// Streamed puts: a small one, one bigger than a multipart part (in several parts), one whose
/// source fails midway and one too large — the last two store nothing, not even over an
/// existing blob.
pub async fn blob_stream_suite(blobs: Arc<dyn BlobStore>) {
    let run = RunId::new();
    let key = |n: &str| format!("runs/{run}/clips/{n}.mp4");
    let small = Box::new(Pattern::new(2, 10));
    assert_eq!(blobs.put_stream(&key("small"), small, "video/mp4", 1 << 30).await.unwrap(), 20);
    assert_eq!(blobs.get(&key("small")).await.unwrap(), Pattern::expected(2, 10));
    // 21 MiB in 3 MiB chunks: several multipart parts on S3.
    let (chunks, size) = (7, 3 << 20);
    let big = Box::new(Pattern::new(chunks, size));
    let stored = blobs.put_stream(&key("big"), big, "video/mp4", 1 << 30).await.unwrap();
    assert_eq!(stored, (chunks * size) as u64);
    assert!(
        blobs.get(&key("big")).await.unwrap() == Pattern::expected(chunks, size),
        "big round trip"
    );

    // Chunks bigger than a part, and a total that is a whole number of parts (S3's are 5 MiB).
    for (n, (chunks, size)) in [(2, 12 << 20), (2, 5 << 20)].into_iter().enumerate() {
        let k = key(&format!("odd{n}"));
        let stored =
            blobs.put_stream(&k, Box::new(Pattern::new(chunks, size)), "video/mp4", 1 << 30);
        assert_eq!(stored.await.unwrap(), (chunks * size) as u64);
        assert!(blobs.get(&k).await.unwrap() == Pattern::expected(chunks, size), "{chunks}x{size}");
    }

    let mut failing = Pattern::new(chunks, size);
    failing.fail_at = Some(4);
    let r = blobs.put_stream(&key("failed"), Box::new(failing), "video/mp4", 1 << 30).await;
    assert!(matches!(r, Err(BlobError::Source(ProviderError::Retryable(_)))), "{r:?}");
    let gone = blobs.get(&key("failed")).await;
    assert!(matches!(gone, Err(BlobError::NotFound(_))), "a failed stream stored {gone:?}");
    let r = blobs
        .put_stream(&key("small"), Box::new(Pattern::new(chunks, size)), "video/mp4", 10 << 20)
        .await;
    assert!(matches!(r, Err(BlobError::TooLarge(_))), "{r:?}");
    assert_eq!(
        blobs.get(&key("small")).await.unwrap(),
        Pattern::expected(2, 10),
        "a refused stream left the old blob as it was"
    );
}
