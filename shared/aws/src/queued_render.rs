//! The built-in renderer on AWS: a render is a message on the render queue, which the render
//! function (ffmpeg in a layer) consumes; it writes `renders/<job>.mp4` (or `.error`) to the
//! artifacts bucket and calls back signed like the render service. This side submits, answers
//! status from the bucket, and streams the output back.

use async_trait::async_trait;
use aws_sdk_sqs::Client as SqsClient;
use myloware::domain::JobId;
use myloware::ports::{
    JobStatus, Media, ProviderError, RenderProvider, RenderRequest, builtin_render_job,
    builtin_render_output, builtin_render_output_job, read_all,
};
use serde::{Deserialize, Serialize};

use crate::S3Blobs;

/// One render for the render function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderJob {
    /// Its job id (from the intent key).
    pub job_id: JobId,
    /// What to render.
    pub request: RenderRequest,
}

/// Where job `job`'s output goes in the bucket.
pub fn output_key(job: &JobId) -> String {
    format!("renders/{job}.mp4")
}

/// Where job `job`'s failure is written.
pub fn error_key(job: &JobId) -> String {
    format!("renders/{job}.error")
}

/// The renderer port over the render queue and the bucket.
#[derive(Debug, Clone)]
pub struct QueuedRender {
    sqs: SqsClient,
    queue_url: String,
    blobs: S3Blobs,
}

impl QueuedRender {
    /// Renders sent to `queue_url`, their outputs in `blobs`' bucket.
    pub fn new(sqs: SqsClient, queue_url: impl Into<String>, blobs: S3Blobs) -> Self {
        Self { sqs, queue_url: queue_url.into(), blobs }
    }
}

fn retryable(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Retryable(e.to_string())
}

#[async_trait]
impl RenderProvider for QueuedRender {
    async fn submit(&self, key: &str, req: &RenderRequest) -> Result<JobId, ProviderError> {
        // The job follows from the key: a repeated submit sends the same job again, and the
        // function finds its output already there.
        let job_id = builtin_render_job(key);
        let body =
            serde_json::to_string(&RenderJob { job_id: job_id.clone(), request: req.clone() })
                .map_err(|e| ProviderError::Terminal(e.to_string()))?;
        self.sqs
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| retryable(aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        Ok(job_id)
    }

    async fn fetch_output(
        &self,
        job: &JobId,
        _output_url: Option<&str>,
    ) -> Result<Media, ProviderError> {
        // Its own object, whatever a callback said.
        self.blobs.open(&output_key(job)).await.map_err(|e| match e {
            myloware::ports::BlobError::NotFound(k) => {
                ProviderError::Terminal(format!("render {job} has no output at {k}"))
            }
            e => retryable(e),
        })
    }

    async fn status(&self, job: &JobId) -> Result<JobStatus, ProviderError> {
        if self.blobs.exists(&output_key(job)).await.map_err(retryable)? {
            return Ok(JobStatus::Completed { output_url: Some(builtin_render_output(job)) });
        }
        if self.blobs.exists(&error_key(job)).await.map_err(retryable)? {
            let mut why = self.blobs.open(&error_key(job)).await.map_err(retryable)?;
            let reason = read_all(why.as_mut(), 4096).await.unwrap_or_default();
            let reason = String::from_utf8_lossy(&reason).into_owned();
            return Ok(JobStatus::Failed { reason });
        }
        // Queued or rendering; a render that never finishes meets the wait's deadline.
        Ok(JobStatus::Pending)
    }

    async fn check_media_url(&self, url: &str) -> Result<(), String> {
        check_output_url(url)
    }
}

/// Whether `url` names the built-in renderer's output (the only URL its callbacks carry).
fn check_output_url(url: &str) -> Result<(), String> {
    match builtin_render_output_job(url) {
        Some(_) => Ok(()),
        None => Err(format!("{url} is not the built-in renderer's output")),
    }
}

/// The built-in renderer as the function that only takes its callbacks sees it (the webhook):
/// its output URLs are recognized; rendering and reading outputs are the step
/// function's, which has the bucket, and are refused here. Leaves S3 out of that binary.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueuedRenderCallbacks;

impl QueuedRenderCallbacks {
    fn refuse() -> ProviderError {
        ProviderError::Terminal("the built-in renderer is driven by the step function only".into())
    }
}

#[async_trait]
impl RenderProvider for QueuedRenderCallbacks {
    async fn submit(&self, _key: &str, _req: &RenderRequest) -> Result<JobId, ProviderError> {
        Err(Self::refuse())
    }

    async fn fetch_output(&self, _: &JobId, _: Option<&str>) -> Result<Media, ProviderError> {
        Err(Self::refuse())
    }

    async fn status(&self, _job: &JobId) -> Result<JobStatus, ProviderError> {
        Err(Self::refuse())
    }

    async fn check_media_url(&self, url: &str) -> Result<(), String> {
        check_output_url(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_webhook_view_checks_urls_and_refuses_to_render() {
        let r = QueuedRenderCallbacks;
        let job = builtin_render_job("run-1:render");
        r.check_media_url(&builtin_render_output(&job)).await.unwrap();
        let err = r.check_media_url("https://example.com/x.mp4").await.unwrap_err();
        assert!(err.contains("not the built-in renderer's output"), "{err}");
        assert!(matches!(r.status(&job).await, Err(ProviderError::Terminal(_))));
        assert!(r.fetch_output(&job, None).await.is_err());
    }
}
