//! The render function's handler: one message of the render queue is one render. Its output
//! already in the bucket (a repeated message) → only the callback again. Otherwise ffmpeg cuts
//! the clips (read from their presigned URLs) in `/tmp`, the cut is streamed to
//! `renders/<job>.mp4` and the signed callback goes to the webhook; a cut ffmpeg refuses is
//! written to `renders/<job>.error` and called back as failed. Only an infrastructure failure
//! (S3, the message) fails the message, so SQS retries it and then keeps it in the render DLQ.

use std::path::PathBuf;
use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use myloware::ports::{BlobError, BlobStore, CallbackSink, FileSource};
use myloware::webhooks::WebhookSecret;
use myloware::workflow::MAX_MEDIA_BYTES;
use myloware_aws::S3Blobs;
use myloware_aws::queued_render::{RenderJob, error_key, output_key};
use myloware_media::Ffmpeg;
use myloware_providers::clients::{cut_job, send_callback};

/// Why a message failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum RenderFnError {
    /// The message is not a render job.
    #[error("not a render job: {0}")]
    BadMessage(String),
    /// The bucket failed.
    #[error("{0}")]
    Blob(#[from] BlobError),
    /// The cut could not be read back.
    #[error("reading the cut: {0}")]
    Io(#[from] std::io::Error),
}

impl RenderFnError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            RenderFnError::BadMessage(_) => "bad_message",
            RenderFnError::Blob(_) => "blob_store",
            RenderFnError::Io(_) => "render_io",
        }
    }
}

/// What a render needs.
#[derive(Clone)]
pub struct Renderer {
    /// ffmpeg (the layer's, `/opt/bin/ffmpeg`).
    pub ffmpeg: Ffmpeg,
    /// The artifacts bucket.
    pub blobs: S3Blobs,
    /// Where callbacks go (the webhook endpoint).
    pub sink: Arc<dyn CallbackSink>,
    /// What they are signed with.
    pub secret: WebhookSecret,
    /// Scratch space (`/tmp` on Lambda).
    pub work: PathBuf,
}

impl Renderer {
    /// Render one job (see the module's comment).
    pub async fn render(&self, job: &RenderJob) -> Result<(), RenderFnError> {
        let (id, req) = (&job.job_id, &job.request);
        let key = output_key(id);
        if self.blobs.exists(&key).await? {
            tracing::info!(job_id = %id, "already rendered: calling back again");
            send_callback(self.sink.as_ref(), &self.secret, id, req, Ok(())).await;
            return Ok(());
        }
        let dir = self.work.join(id.as_str());
        let out = dir.join("out.mp4");
        let cut = cut_job(&self.ffmpeg, id, req, &dir.join("work"), &out).await;
        let stored = match &cut {
            Ok(()) => {
                let media = FileSource::open(&out).await?;
                self.blobs.put_stream(&key, media, "video/mp4", MAX_MEDIA_BYTES).await.map(|_| ())
            }
            Err(why) => {
                self.blobs.put(&error_key(id), why.clone().into_bytes(), "text/plain").await
            }
        };
        let _ = std::fs::remove_dir_all(&dir);
        stored?;
        send_callback(self.sink.as_ref(), &self.secret, id, req, cut).await;
        Ok(())
    }

    /// One SQS batch (the template sets batch size 1): the first failure fails the batch.
    pub async fn handle(&self, event: SqsEvent) -> Result<(), RenderFnError> {
        for rec in event.records {
            let body = rec.body.unwrap_or_default();
            let job: RenderJob = serde_json::from_str(&body)
                .map_err(|e| RenderFnError::BadMessage(e.to_string()))?;
            let span =
                tracing::info_span!("render", job_id = %job.job_id, run_id = %job.request.run_id);
            let _guard = span.enter();
            if let Err(e) = self.render(&job).await {
                tracing::error!(code = e.code(), error = %e, "render message failed");
                return Err(e);
            }
        }
        Ok(())
    }
}
