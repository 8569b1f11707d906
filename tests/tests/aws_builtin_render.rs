//! The built-in renderer on AWS: the step sends each render to the render queue
//! (`QueuedRender`), the render function (`functions/render`, driven here as Lambda's SQS
//! event source drives it) cuts the clips with ffmpeg, streams the cut to the bucket and calls
//! back signed, and the run completes with a real video in S3 — on LocalStack, with the fake
//! video APIs handing out real clips. A repeated render message renders nothing again.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use myloware::domain::{Provider, RunStatus};
use myloware::webhooks::WebhookSecret;
use myloware_aws::{QueuedRender, QueuedRenderCallbacks, S3Blobs};
use myloware_media::Ffmpeg;
use myloware_render::Renderer;
use myloware_runtime::HttpCallbackSink;
use myloware_tests::REMOTION_SECRET;
use myloware_tests::adapter_run::{Renders, whole_run_with};
use myloware_tests::backend::Backend;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_render_function_renders_a_run_on_localstack() {
    let ffmpeg = Ffmpeg::locate().expect("this test needs ffmpeg (CI installs it)");
    let b = Backend::localstack(10, 5).await;
    let (clients, bucket) = b.aws.clone().expect("LocalStack");
    let queue = clients
        .sqs()
        .create_queue()
        .queue_name(format!("render-{}", uuid::Uuid::new_v4().simple()))
        .send()
        .await
        .expect("the render queue")
        .queue_url
        .expect("its URL");
    let blobs = S3Blobs::new(clients.s3().clone(), &bucket);
    let work = std::env::temp_dir().join(format!("myloware-renderfn-{}", uuid::Uuid::new_v4()));
    let rendered = Arc::new(AtomicUsize::new(0));
    let messages: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();

    let (sqs, q, count, seen) =
        (clients.sqs().clone(), queue.clone(), rendered.clone(), messages.clone());
    let (fn_blobs, fn_ffmpeg, fn_work) = (blobs.clone(), ffmpeg.clone(), work.clone());
    let render = move |webhook_base: &str| -> Option<Renders> {
        let renderer = Renderer {
            ffmpeg: fn_ffmpeg.with_preset("ultrafast"),
            blobs: fn_blobs.clone(),
            sink: Arc::new(HttpCallbackSink::new(webhook_base)),
            secret: WebhookSecret::parse(REMOTION_SECRET).unwrap(),
            work: fn_work,
        };
        // Lambda's event source: receive, invoke with the batch, delete on success.
        let sqs2 = sqs.clone();
        let q2 = q.clone();
        tokio::spawn(async move {
            loop {
                let got = sqs2.receive_message().queue_url(&q2).wait_time_seconds(1).send().await;
                for m in got.ok().and_then(|r| r.messages).unwrap_or_default() {
                    let body = m.body.clone().unwrap_or_default();
                    seen.lock().unwrap().push(body.clone());
                    let event: SqsEvent = serde_json::from_value(
                        serde_json::json!({ "Records": [{ "body": body }] }),
                    )
                    .expect("an SQS event");
                    if renderer.handle(event).await.is_ok() {
                        count.fetch_add(1, Ordering::SeqCst);
                        let receipt = m.receipt_handle.unwrap_or_default();
                        let _ = sqs2
                            .delete_message()
                            .queue_url(&q2)
                            .receipt_handle(receipt)
                            .send()
                            .await;
                    }
                }
            }
        });
        Some(Renders {
            steps: Arc::new(QueuedRender::new(sqs.clone(), q.clone(), fn_blobs)),
            // The webhook function checks the render callbacks' URLs without the bucket.
            callbacks: Arc::new(QueuedRenderCallbacks),
        })
    };
    let done =
        whole_run_with(&b, Provider::OpenAi, 2, |c| c.clips = Some(ffmpeg.clone()), render).await;
    assert_eq!(done.run.status, RunStatus::Completed, "{:?}", done.run);
    assert_eq!(done.stats.render_jobs, 0, "the fake render service was not used");
    assert_eq!(rendered.load(Ordering::SeqCst), 1, "one render message, handled once");

    // The final video in S3 is a real cut at the project's size.
    let key = done.run.state.final_video_key.clone().expect("a final video");
    let bytes = b.blobs.get(&key).await.unwrap();
    let file = work.join("final.mp4");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(&file, bytes).unwrap();
    let p = ffmpeg.probe(&file.to_string_lossy()).await.unwrap();
    assert_eq!((p.video_codec.as_str(), p.width, p.height), ("h264", 1080, 1920), "{p}");
    assert!((p.duration - 16.0).abs() <= 0.5, "two 8 s clips: {p}");

    // The same message again (SQS delivers at least once): only the callback is sent again.
    let again = messages.lock().unwrap()[0].clone();
    let before = blobs
        .exists(&format!(
            "renders/{}.mp4",
            serde_json::from_str::<serde_json::Value>(&again).unwrap()["job_id"].as_str().unwrap()
        ))
        .await
        .unwrap();
    assert!(before, "the render is in the bucket");
    clients.sqs().send_message().queue_url(&queue).message_body(again).send().await.unwrap();
    for _ in 0..100 {
        if rendered.load(Ordering::SeqCst) == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(rendered.load(Ordering::SeqCst), 2, "the repeated message was handled");
    let _ = std::fs::remove_dir_all(&work);
}
