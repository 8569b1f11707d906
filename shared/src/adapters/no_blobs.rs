//! The blob store of a function that keeps no artifacts (the webhook function on AWS):
//! every use is refused with the reason, so a path that reached for artifacts there fails
//! loudly instead of writing where no one reads. Leaving the real store out keeps its client
//! out of those functions' binaries.

use std::time::Duration;

use async_trait::async_trait;

use crate::ports::{BlobError, BlobStore};

/// No artifacts here; `.0` names the function in the refusal.
#[derive(Debug, Clone, Copy)]
pub struct NoBlobs(pub &'static str);

impl NoBlobs {
    fn refuse(&self, key: &str) -> BlobError {
        BlobError::Unavailable(format!("the {} function keeps no artifacts ({key})", self.0))
    }
}

#[async_trait]
impl BlobStore for NoBlobs {
    async fn put(&self, key: &str, _bytes: Vec<u8>, _content_type: &str) -> Result<(), BlobError> {
        Err(self.refuse(key))
    }
    async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        Err(self.refuse(key))
    }
    async fn presign_get(&self, key: &str, _ttl: Duration) -> Result<String, BlobError> {
        Err(self.refuse(key))
    }
    /// Nothing to reach: the function has no artifact store to be down.
    async fn check(&self) -> Result<(), BlobError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_use_is_refused_with_the_function_named() {
        let b = NoBlobs("webhook");
        let e = b.put("runs/r/a.mp4", vec![1], "video/mp4").await.unwrap_err().to_string();
        assert!(e.contains("webhook function keeps no artifacts (runs/r/a.mp4)"), "{e}");
        assert!(b.get("k").await.is_err());
        assert!(b.presign_get("k", Duration::from_secs(1)).await.is_err());
        let media = crate::ports::InMemory::media(vec![1, 2, 3]);
        assert!(b.put_stream("k", media, "video/mp4", 10).await.is_err());
    }
}
