//! Blobs in a map; presigned URLs are `mem://<key>`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use crate::ports::{BlobError, BlobStore};

/// An in-memory blob store.
#[derive(Debug, Default)]
pub struct MemoryBlobs {
    blobs: Mutex<HashMap<String, Vec<u8>>>,
}

impl MemoryBlobs {
    /// Keys stored so far, sorted.
    pub fn keys(&self) -> Vec<String> {
        let mut k: Vec<_> = self.blobs.lock().unwrap().keys().cloned().collect();
        k.sort();
        k
    }
}

#[async_trait]
impl BlobStore for MemoryBlobs {
    async fn put(&self, key: &str, bytes: Vec<u8>, _content_type: &str) -> Result<(), BlobError> {
        self.blobs.lock().unwrap().insert(key.to_owned(), bytes);
        Ok(())
    }
    async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        self.blobs.lock().unwrap().get(key).cloned().ok_or_else(|| BlobError::NotFound(key.into()))
    }
    async fn presign_get(&self, key: &str, _ttl: Duration) -> Result<String, BlobError> {
        Ok(format!("mem://{key}"))
    }
}
