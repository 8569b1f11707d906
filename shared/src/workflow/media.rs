//! Provider media into the blob store: streamed (never whole in memory), capped, and within a
//! time limit inside the step's lease, so a slow download fails the attempt rather than
//! outliving the lease that guards it.

use std::future::Future;

use super::{StepError, fail, provider_error};
use crate::domain::Step;
use crate::engine::{Engine, meter};
use crate::ports::{BlobError, Media, ProviderError};

/// The largest clip or render kept (512 MiB; provider clips are tens of MB).
pub const MAX_MEDIA_BYTES: u64 = 512 * 1024 * 1024;

/// Open the media with `open` (a provider call, metered as `provider`) and store it under
/// `key`. A failed download is the provider's error (`code`), an oversized one fails the run
/// (`media_too_large`), a slow one is retried.
pub(super) async fn store(
    engine: &Engine,
    step: Step,
    provider: &'static str,
    code: &str,
    key: &str,
    open: impl Future<Output = Result<Media, ProviderError>>,
) -> Result<u64, StepError> {
    let limit = engine.config.lease_ttl.mul_f64(0.75);
    let work = async {
        let media = meter::provider_call(provider, open)
            .await
            .map_err(|e| provider_error(step, code, e))?;
        engine.blobs.put_stream(key, media, "video/mp4", MAX_MEDIA_BYTES).await.map_err(|e| match e
        {
            BlobError::Source(e) => provider_error(step, code, e),
            BlobError::TooLarge(max) => {
                fail(step, "media_too_large", format!("{provider} media larger than {max} bytes"))
            }
            other => StepError::from(other),
        })
    };
    match tokio::time::timeout(limit, work).await {
        Ok(stored) => stored,
        Err(_) => Err(StepError::Retryable(format!(
            "{provider} media took longer than {limit:?} (three quarters of the lease)"
        ))),
    }
}
