//! `BlobStore` on S3, with presigned GET URLs for API responses and providers.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use myloware::ports::{BlobError, BlobStore, ByteSource, Media, ProviderError, next_within};

/// The S3 artifact store.
#[derive(Debug, Clone)]
pub struct S3Blobs {
    client: Client,
    bucket: String,
}

impl S3Blobs {
    /// A store in `bucket`.
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }
}

fn unavailable(e: impl std::fmt::Display) -> BlobError {
    BlobError::Unavailable(e.to_string())
}

/// Bytes per multipart part (S3's minimum for every part but the last): what a
/// streamed upload holds in memory at most.
pub const PART_BYTES: usize = 5 * 1024 * 1024;

/// An object's body, read as it arrives.
struct ObjectBody(ByteStream);

#[async_trait]
impl ByteSource for ObjectBody {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ProviderError> {
        match self.0.try_next().await {
            Ok(chunk) => Ok(chunk.map(|b| b.to_vec())),
            Err(e) => Err(ProviderError::Retryable(format!("reading from S3: {e}"))),
        }
    }
}

/// A multipart upload under way.
struct Multipart {
    id: String,
    parts: Vec<CompletedPart>,
}

impl S3Blobs {
    /// Whether an object is at `key` (`HeadObject`).
    pub async fn exists(&self, key: &str) -> Result<bool, BlobError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
            Err(e) => Err(unavailable(aws_sdk_s3::error::DisplayErrorContext(e))),
        }
    }

    /// The body of the object at `key` (`GetObject`; a missing key is `NotFound`).
    async fn body(&self, key: &str) -> Result<ByteStream, BlobError> {
        let out =
            self.client.get_object().bucket(&self.bucket).key(key).send().await.map_err(|e| {
                if e.as_service_error().is_some_and(|s| s.is_no_such_key()) {
                    BlobError::NotFound(key.to_owned())
                } else {
                    unavailable(aws_sdk_s3::error::DisplayErrorContext(e))
                }
            })?;
        Ok(out.body)
    }

    /// The object at `key` as it streams in.
    pub async fn open(&self, key: &str) -> Result<Media, BlobError> {
        Ok(Box::new(ObjectBody(self.body(key).await?)))
    }

    async fn start(&self, key: &str, content_type: &str) -> Result<Multipart, BlobError> {
        let out = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        let id = out.upload_id.ok_or_else(|| unavailable("no upload id"))?;
        Ok(Multipart { id, parts: Vec::new() })
    }

    /// Send one part (starting the upload with the first); a failure aborts the upload.
    async fn send_part(
        &self,
        key: &str,
        upload: Option<Multipart>,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<Multipart, BlobError> {
        let mut u = match upload {
            Some(u) => u,
            None => self.start(key, content_type).await?,
        };
        let n = u.parts.len() as i32 + 1;
        let sent = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(&u.id)
            .part_number(n)
            .body(ByteStream::from(body))
            .send()
            .await;
        match sent {
            Ok(out) => {
                u.parts.push(CompletedPart::builder().part_number(n).set_e_tag(out.e_tag).build());
                Ok(u)
            }
            Err(e) => {
                self.abort(key, &u).await;
                Err(unavailable(aws_sdk_s3::error::DisplayErrorContext(e)))
            }
        }
    }

    async fn complete(&self, key: &str, u: &Multipart) -> Result<(), BlobError> {
        let parts = CompletedMultipartUpload::builder().set_parts(Some(u.parts.clone())).build();
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(&u.id)
            .multipart_upload(parts)
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        Ok(())
    }

    /// Give up an upload: its parts are deleted and no object appears.
    async fn abort(&self, key: &str, u: &Multipart) {
        let aborted = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(&u.id)
            .send()
            .await;
        if let Err(e) = aborted {
            tracing::warn!(key, error = %aws_sdk_s3::error::DisplayErrorContext(e), "multipart upload not aborted (the bucket's lifecycle rule removes it)");
        }
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn check(&self) -> Result<(), BlobError> {
        self.client.head_bucket().bucket(&self.bucket).send().await.map_err(|e| {
            BlobError::Unavailable(aws_sdk_s3::error::DisplayErrorContext(e).to_string())
        })?;
        Ok(())
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        Ok(())
    }

    async fn put_stream(
        &self,
        key: &str,
        mut media: Media,
        content_type: &str,
        max_bytes: u64,
    ) -> Result<u64, BlobError> {
        let mut seen = 0;
        // One part's buffer, filled to exactly PART_BYTES and sent: it never grows.
        let mut part = Vec::with_capacity(PART_BYTES);
        let mut upload: Option<Multipart> = None;
        loop {
            let chunk = match next_within(media.as_mut(), &mut seen, max_bytes).await {
                Ok(c) => c,
                Err(e) => {
                    if let Some(u) = upload {
                        self.abort(key, &u).await;
                    }
                    return Err(e);
                }
            };
            let Some(chunk) = chunk else { break };
            let mut rest: &[u8] = &chunk;
            while !rest.is_empty() {
                let (now, later) = rest.split_at((PART_BYTES - part.len()).min(rest.len()));
                part.extend_from_slice(now);
                rest = later;
                if part.len() == PART_BYTES {
                    let body = std::mem::replace(&mut part, Vec::with_capacity(PART_BYTES));
                    upload = Some(self.send_part(key, upload, body, content_type).await?);
                }
            }
        }
        match upload {
            // Small enough for one request: a plain PUT.
            None => self.put(key, part, content_type).await?,
            Some(mut u) => {
                if !part.is_empty() {
                    u = self.send_part(key, Some(u), part, content_type).await?;
                }
                if let Err(e) = self.complete(key, &u).await {
                    self.abort(key, &u).await;
                    return Err(e);
                }
            }
        }
        Ok(seen)
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        let data = self.body(key).await?.collect().await.map_err(unavailable)?;
        Ok(data.into_bytes().to_vec())
    }

    async fn presign_get(&self, key: &str, ttl: Duration) -> Result<String, BlobError> {
        let conf = PresigningConfig::expires_in(ttl).map_err(unavailable)?;
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(conf)
            .await
            .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        Ok(req.uri().to_owned())
    }
}
