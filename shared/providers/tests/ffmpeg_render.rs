//! The built-in renderer with the real ffmpeg (CI installs it): it cuts the clips, calls back
//! signed exactly as the render service does, serves its own output only, and a render whose
//! process stopped before it finished is started again by the next status poll.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use myloware::domain::{ArrivalOutcome, RunId};
use myloware::ports::BUILTIN_RENDER_OUTPUT as FFMPEG_OUTPUT;
use myloware::ports::{CallbackSink, Delivery, JobStatus, RenderProvider, RenderRequest, collect};
use myloware::webhooks::{RemotionVerifier, WebhookSecret, parse_remotion_event};
use myloware_media::{Ffmpeg, TestClip};
use myloware_providers::clients::{FfmpegRender, FfmpegRenderSettings};

/// Keeps what it is sent; answers 200.
#[derive(Default)]
struct Inbox(Mutex<Vec<Delivery>>);

#[async_trait]
impl CallbackSink for Inbox {
    async fn deliver(&self, d: &Delivery) -> Result<u16, String> {
        self.0.lock().unwrap().push(d.clone());
        Ok(200)
    }
}

impl Inbox {
    async fn wait_for(&self, n: usize) -> Vec<Delivery> {
        for _ in 0..600 {
            if self.0.lock().unwrap().len() >= n {
                return self.0.lock().unwrap().clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no callback within 30 s");
    }
}

async fn clips(ff: &Ffmpeg, dir: &std::path::Path, n: u32) -> Vec<String> {
    let mut urls = Vec::new();
    for i in 0..n {
        let spec = TestClip {
            title: format!("clip {i}"),
            text: "x".into(),
            index: i,
            seconds: 1.0,
            width: 180,
            height: 320,
        };
        let bytes = ff.test_clip(&spec, &dir.join(format!("w{i}"))).await.unwrap();
        let path = dir.join(format!("clip {i}.mp4"));
        std::fs::write(&path, bytes).unwrap();
        urls.push(url::Url::from_file_path(&path).unwrap().to_string());
    }
    urls
}

fn request(run_id: RunId, clip_urls: Vec<String>) -> RenderRequest {
    RenderRequest {
        run_id,
        overlay_style: None,
        template: "motivational".into(),
        texts: vec!["one".into(), "two".into()],
        clip_urls,
        title: "Title".into(),
        caption: "caption".into(),
        duration_frames: 60,
        fps: 30,
        width: 270,
        height: 480,
        callback_url: format!("http://api.example/v1/webhooks/remotion?run_id={run_id}"),
    }
}

#[tokio::test]
async fn renders_calls_back_signed_and_resumes_an_interrupted_job() {
    let ff =
        Ffmpeg::locate().expect("this test needs ffmpeg (CI installs it)").with_preset("ultrafast");
    let dir = std::env::temp_dir().join(format!("myloware-ffrender-{}", uuid::Uuid::new_v4()));
    let secret = WebhookSecret::parse("render-secret").unwrap();
    let settings = FfmpegRenderSettings { dir: dir.join("jobs"), concurrency: 1 };
    let inbox = Arc::new(Inbox::default());
    let render = FfmpegRender::new(ff.clone(), &settings, secret.clone(), inbox.clone()).unwrap();
    let run = RunId::new();
    let req = request(run, clips(&ff, &dir, 2).await);

    let job = render.submit("intent-1", &req).await.unwrap();
    assert_eq!(render.submit("intent-1", &req).await.unwrap(), job, "same key, same job");
    let d = inbox.wait_for(1).await.remove(0);
    assert_eq!(d.path, format!("/v1/webhooks/remotion?run_id={run}"));
    let sig = d.headers.iter().find(|(k, _)| k == "x-remotion-signature").map(|h| h.1.as_str());
    RemotionVerifier::new(vec![secret], 300).verify(sig, None, &d.body, 0).unwrap();
    let event = parse_remotion_event(&d.body).unwrap();
    assert_eq!((event.job_id.clone(), event.run_id), (job.clone(), Some(run)));
    let Some(ArrivalOutcome::Completed { output_url: Some(url) }) = event.outcome else {
        panic!("{event:?}")
    };
    render.check_media_url(&url).await.unwrap();
    for other in [
        "https://render.example.com/output/x.mp4".to_owned(),
        format!("{FFMPEG_OUTPUT}../../etc/passwd.mp4"),
        format!("{FFMPEG_OUTPUT}{job}.mp4/x"),
    ] {
        assert!(render.check_media_url(&other).await.is_err(), "{other}");
    }
    let bytes =
        collect(render.fetch_output(&job, Some("https://elsewhere/x.mp4")).await).await.unwrap();
    assert_eq!(&bytes[4..8], b"ftyp");
    let probe = ff.probe(&render.output_path(&job).to_string_lossy()).await.unwrap();
    assert_eq!((probe.width, probe.height), (270, 480), "{probe}");
    assert!((probe.duration - 2.0).abs() < 0.5, "{probe}");
    assert_eq!(render.status(&job).await.unwrap(), JobStatus::Completed { output_url: Some(url) });

    // A job whose process stopped mid-render: its request is on disk, its output is not. A
    // renderer started afresh finds it on the next status poll and renders it.
    let job2 = render.submit("intent-2", &req).await.unwrap();
    inbox.wait_for(2).await;
    std::fs::remove_file(render.output_path(&job2)).unwrap();
    let again = FfmpegRender::new(
        ff,
        &settings,
        WebhookSecret::parse("render-secret").unwrap(),
        inbox.clone(),
    )
    .unwrap();
    assert_eq!(again.status(&job2).await.unwrap(), JobStatus::Pending);
    let d = inbox.wait_for(3).await.remove(2);
    assert_eq!(parse_remotion_event(&d.body).unwrap().job_id, job2);
    assert!(matches!(again.status(&job2).await.unwrap(), JobStatus::Completed { .. }));
    let nobody = myloware::domain::JobId::parse("render_nobody").unwrap();
    assert!(matches!(again.status(&nobody).await.unwrap(), JobStatus::Unknown { .. }));

    // A clip that is not a video: the render fails, and says so in its callback.
    let bad = dir.join("bad.mp4");
    std::fs::write(&bad, b"not a video").unwrap();
    let broken = request(run, vec![url::Url::from_file_path(&bad).unwrap().to_string()]);
    let job3 = render.submit("intent-3", &broken).await.unwrap();
    let d = inbox.wait_for(4).await.remove(3);
    let e = parse_remotion_event(&d.body).unwrap();
    assert_eq!(e.job_id, job3);
    assert!(matches!(e.outcome, Some(ArrivalOutcome::Failed { .. })), "{e:?}");
    assert!(matches!(render.status(&job3).await.unwrap(), JobStatus::Failed { .. }));
    let _ = std::fs::remove_dir_all(dir);
}
