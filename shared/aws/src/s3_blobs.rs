//! `BlobStore` on S3, with presigned GET URLs for API responses and providers.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use myloware::ports::{BlobError, BlobStore};

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

#[async_trait]
impl BlobStore for S3Blobs {
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

    async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        let out =
            self.client.get_object().bucket(&self.bucket).key(key).send().await.map_err(|e| {
                if e.as_service_error().is_some_and(|s| s.is_no_such_key()) {
                    BlobError::NotFound(key.to_owned())
                } else {
                    unavailable(aws_sdk_s3::error::DisplayErrorContext(e))
                }
            })?;
        let data = out.body.collect().await.map_err(unavailable)?;
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
