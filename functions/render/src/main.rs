//! Lambda entry point of the render function (SQS trigger, ffmpeg from a layer): wiring only.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use myloware_aws::{AwsClients, S3Blobs};
use myloware_media::Ffmpeg;
use myloware_render::Renderer;
use myloware_runtime::config::render_signing_secret;
use myloware_runtime::{HttpCallbackSink, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let clients = AwsClients::from_lambda_env();
    let bucket = std::env::var(myloware_aws::resources::ENV_BUCKET)
        .map_err(|_| "MYLOWARE_BUCKET: the artifacts bucket")?;
    let webhook_base = std::env::var("MYLOWARE_WEBHOOK_BASE_URL")
        .map_err(|_| "MYLOWARE_WEBHOOK_BASE_URL: where render callbacks go")?;
    let renderer = Renderer {
        ffmpeg: Ffmpeg::locate()?,
        blobs: S3Blobs::new(clients.s3().clone(), &bucket),
        sink: Arc::new(HttpCallbackSink::new(webhook_base)),
        secret: render_signing_secret(&clients).await?,
        work: std::env::temp_dir(),
    };
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<SqsEvent>| {
        let renderer = renderer.clone();
        async move { renderer.handle(ev.payload).await.map_err(lambda_runtime::Error::from) }
    }))
    .await
}
