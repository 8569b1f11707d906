//! Media as it arrives: a source of chunks (a download being read, a file), so a clip goes from
//! a provider to the blob store without ever being whole in memory.

use async_trait::async_trait;

use super::ProviderError;

/// Bytes in chunks, read once.
#[async_trait]
pub trait ByteSource: Send {
    /// The next chunk; `None` at the end. A failure says whether reading again may work.
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ProviderError>;
}

/// A source of media bytes.
pub type Media = Box<dyn ByteSource>;

/// Bytes already in memory (the fakes, small files): one chunk.
pub struct InMemory(Option<Vec<u8>>);

impl InMemory {
    /// `bytes` as a source.
    pub fn media(bytes: Vec<u8>) -> Media {
        Box::new(InMemory(Some(bytes)))
    }
}

#[async_trait]
impl ByteSource for InMemory {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ProviderError> {
        Ok(self.0.take())
    }
}

/// A file read in 1 MiB chunks.
pub struct FileSource(tokio::fs::File);

impl FileSource {
    /// Open `path` as a source.
    pub async fn open(path: &std::path::Path) -> std::io::Result<Media> {
        Ok(Box::new(FileSource(tokio::fs::File::open(path).await?)))
    }
}

#[async_trait]
impl ByteSource for FileSource {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ProviderError> {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0; 1 << 20];
        let n = self.0.read(&mut buf).await.map_err(|e| ProviderError::Retryable(e.to_string()))?;
        buf.truncate(n);
        Ok((n > 0).then_some(buf))
    }
}

/// Read all of `media`, refusing more than `max` bytes (for small things and tests).
pub async fn read_all(media: &mut dyn ByteSource, max: u64) -> Result<Vec<u8>, ProviderError> {
    let mut all = Vec::new();
    while let Some(chunk) = media.next_chunk().await? {
        if (all.len() + chunk.len()) as u64 > max {
            return Err(ProviderError::Terminal(format!("media larger than {max} bytes")));
        }
        all.extend_from_slice(&chunk);
    }
    Ok(all)
}

/// Open-then-read-all for small media and tests: the bytes, or the failure of either step.
pub async fn collect(opened: Result<Media, ProviderError>) -> Result<Vec<u8>, ProviderError> {
    read_all(opened?.as_mut(), u64::MAX).await
}
