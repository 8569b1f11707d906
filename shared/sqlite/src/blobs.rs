//! Blobs as files under a directory; writes are atomic (temp file, fsync, rename), and streamed
//! media is written chunk by chunk. "Presigned" URLs are `file://` URLs: the embedded backend
//! serves one machine.

use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use myloware::ports::{BlobError, BlobStore, Media, next_within};

use crate::SqliteError;

/// Files on disk.
#[derive(Debug, Clone)]
pub struct DiskBlobs {
    root: PathBuf,
}

impl DiskBlobs {
    /// Blobs under `root` (created if missing).
    pub fn new(root: PathBuf) -> Result<Self, SqliteError> {
        std::fs::create_dir_all(&root)
            .map_err(|e| SqliteError(format!("create {}: {e}", root.display())))?;
        let root = root.canonicalize().map_err(|e| SqliteError(e.to_string()))?;
        Ok(Self { root })
    }

    /// Where `key` lives; keys are relative paths without `..`.
    pub fn path_of(&self, key: &str) -> Result<PathBuf, BlobError> {
        let rel = Path::new(key);
        if key.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(BlobError::Unavailable(format!("invalid blob key {key:?}")));
        }
        Ok(self.root.join(rel))
    }
}

fn io(e: std::io::Error) -> BlobError {
    BlobError::Unavailable(e.to_string())
}

#[async_trait]
impl BlobStore for DiskBlobs {
    async fn check(&self) -> Result<(), BlobError> {
        let root = self.root.clone();
        let meta = tokio::task::spawn_blocking(move || std::fs::metadata(root))
            .await
            .map_err(|e| BlobError::Unavailable(e.to_string()))?
            .map_err(io)?;
        if meta.is_dir() {
            Ok(())
        } else {
            Err(BlobError::Unavailable("the blob root is not a directory".into()))
        }
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, _content_type: &str) -> Result<(), BlobError> {
        let path = self.path_of(key)?;
        tokio::task::spawn_blocking(move || {
            let dir = path.parent().expect("keys have a parent");
            std::fs::create_dir_all(dir).map_err(io)?;
            let tmp = dir.join(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
            let mut f = std::fs::File::create(&tmp).map_err(io)?;
            f.write_all(&bytes).map_err(io)?;
            f.sync_all().map_err(io)?;
            std::fs::rename(&tmp, &path).map_err(io)
        })
        .await
        .map_err(|e| BlobError::Unavailable(e.to_string()))?
    }

    async fn put_stream(
        &self,
        key: &str,
        mut media: Media,
        _content_type: &str,
        max_bytes: u64,
    ) -> Result<u64, BlobError> {
        use tokio::io::AsyncWriteExt;
        let path = self.path_of(key)?;
        let dir = path.parent().expect("keys have a parent").to_owned();
        tokio::fs::create_dir_all(&dir).await.map_err(io)?;
        let tmp = dir.join(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
        let written = async {
            let mut f = tokio::fs::File::create(&tmp).await.map_err(io)?;
            let mut seen = 0;
            while let Some(chunk) = next_within(media.as_mut(), &mut seen, max_bytes).await? {
                f.write_all(&chunk).await.map_err(io)?;
            }
            f.sync_all().await.map_err(io)?;
            Ok::<_, BlobError>(seen)
        }
        .await;
        match written {
            Ok(n) => {
                tokio::fs::rename(&tmp, &path).await.map_err(io)?;
                Ok(n)
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        let path = self.path_of(key)?;
        match tokio::fs::read(&path).await {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(BlobError::NotFound(key.to_owned()))
            }
            Err(e) => Err(io(e)),
        }
    }

    async fn presign_get(&self, key: &str, _ttl: Duration) -> Result<String, BlobError> {
        Ok(format!("file://{}", self.path_of(key)?.display()))
    }
}
