//! The real provider clients against the fake provider server: the APIs line up, jobs are
//! counted once per idempotency key, callbacks are signed for real and retried until delivered.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use myloware::domain::Provider;
use myloware::domain::{ProjectName, RunId};
use myloware::ports::{
    IdeationAsk, JobStatus, PublishRequest, RenderRequest, VideoRequest, collect,
};
use myloware::time::{Clock, SystemClock};
use myloware::webhooks::{RemotionVerifier, StandardVerifier, WebhookSecret};
use myloware_providers::clients::fake_server_providers;
use myloware_providers::server::{FakeConfig, FakeSecrets, FakeServer};

const OPENAI: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const REMOTION: &str = "render-secret";

fn secrets() -> FakeSecrets {
    FakeSecrets {
        openai: WebhookSecret::parse(OPENAI).unwrap(),
        replicate: WebhookSecret::parse(OPENAI).unwrap(),
        remotion: WebhookSecret::parse(REMOTION).unwrap(),
    }
}

#[derive(Default)]
struct Received {
    verified: Vec<String>,
    refused_first: bool,
}

/// A webhook receiver that verifies signatures and refuses the very first delivery (503).
async fn receiver(got: Arc<Mutex<Received>>) -> SocketAddr {
    let sora = StandardVerifier::new(vec![WebhookSecret::parse(OPENAI).unwrap()], 300);
    let remotion = RemotionVerifier::new(vec![WebhookSecret::parse(REMOTION).unwrap()], 300);
    let (g1, g2) = (got.clone(), got);
    let app = Router::new()
        .route(
            "/v1/webhooks/openai",
            post(move |h: HeaderMap, body: Bytes| async move {
                let mut g = g1.lock().unwrap();
                if !g.refused_first {
                    g.refused_first = true;
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                let hv = |n: &str| h.get(n).and_then(|v| v.to_str().ok());
                let ok = sora.verify(
                    hv("webhook-id"),
                    hv("webhook-timestamp"),
                    hv("webhook-signature"),
                    &body,
                    SystemClock.now().secs(),
                );
                assert!(ok.is_ok(), "sora signature: {ok:?}");
                g.verified.push(String::from_utf8_lossy(&body).into_owned());
                StatusCode::OK
            }),
        )
        .route(
            "/v1/webhooks/remotion",
            post(move |h: HeaderMap, body: Bytes| async move {
                let sig = h.get("x-remotion-signature").and_then(|v| v.to_str().ok());
                assert!(remotion.verify(sig, None, &body, 0).is_ok(), "remotion signature");
                g2.lock().unwrap().verified.push(String::from_utf8_lossy(&body).into_owned());
                StatusCode::OK
            }),
        );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await });
    addr
}

#[tokio::test]
async fn real_clients_drive_the_fake_server() {
    let got = Arc::new(Mutex::new(Received::default()));
    let hook = receiver(got.clone()).await;
    let cfg = FakeConfig {
        openai_webhook_url: Some(format!("http://{hook}/v1/webhooks/openai")),
        callback_delay_ms: 50,
        ..Default::default()
    };
    let server = FakeServer::spawn("127.0.0.1:0".parse().unwrap(), secrets(), cfg).await.unwrap();
    let p = fake_server_providers(&server.base_url(), Provider::OpenAi, &format!("http://{hook}"));
    let run = RunId::new();

    let ask = IdeationAsk {
        project: ProjectName::parse("aismr").unwrap(),
        brief: "a calm ocean".into(),
        clips: 4,
        guide: None,
    };
    let ideas = p.llm.ideate(&ask).await.unwrap();
    assert_eq!(ideas.prompts.len(), 4);

    let req = VideoRequest {
        run_id: run,
        index: 0,
        prompt: ideas.prompts[0].clone(),
        seconds: 8,
        model: None,
        aspect_ratio: None,
    };
    let a = p.video.submit("intent-1", &req).await.unwrap();
    let b = p.video.submit("intent-1", &req).await.unwrap();
    assert_eq!(a, b, "same idempotency key, same job");
    let c = p.video.submit("intent-2", &req).await.unwrap();
    assert_ne!(a, c);
    assert!(a.as_str().starts_with("video_"));

    let render = RenderRequest {
        run_id: run,
        overlay_style: None,
        template: "motivational".into(),
        clip_urls: vec!["http://example/1.mp4".into()],
        texts: vec!["one".into()],
        title: "t".into(),
        caption: "c".into(),
        duration_frames: 240,
        fps: 30,
        width: 1080,
        height: 1920,
        callback_url: format!("http://{hook}/v1/webhooks/remotion?run_id={run}"),
    };
    let job = p.render.submit("render-intent", &render).await.unwrap();
    assert_eq!(p.render.submit("render-intent", &render).await.unwrap(), job);

    let publish = PublishRequest {
        run_id: run,
        video_url: "http://example/final.mp4".into(),
        title: "t".into(),
        caption: "c".into(),
        platforms: vec![],
        user: None,
        captions: Default::default(),
    };
    // Asynchronous under our request id: accepted now, confirmed by its status later.
    assert_eq!(p.publish.publish("mw-pub-1", &publish).await.unwrap(), JobStatus::Pending);
    let never = p.publish.status("mw-never-posted").await.unwrap();
    assert!(matches!(never, JobStatus::Unknown { .. }), "{never:?}");
    let mut published = JobStatus::Pending;
    for _ in 0..100 {
        published = p.publish.status("mw-pub-1").await.unwrap();
        if published != JobStatus::Pending {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let JobStatus::Completed { output_url: Some(url) } = published else {
        panic!("the upload completes: {published:?}")
    };
    assert!(url.starts_with("https://www.tiktok.com/"), "{url}");

    // Two video callbacks + one render callback arrive, the first after a refused attempt.
    for _ in 0..100 {
        if got.lock().unwrap().verified.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(got.lock().unwrap().verified.len(), 3, "all callbacks delivered and verified");
    let mp4 = collect(p.video.download(&a, None).await).await.unwrap();
    assert_eq!(&mp4[4..8], b"ftyp", "a real MP4");
    assert!(collect(p.render.fetch_output(&job, None).await).await.unwrap().len() > 100);

    let stats = server.stats();
    assert_eq!(
        (stats.llm_calls, stats.video_jobs, stats.render_jobs, stats.publish_jobs),
        (1, 2, 1, 1)
    );
    assert_eq!(stats.publish_posts, 1, "one upload POST");
    assert_eq!(stats.callbacks_delivered, 3);
    assert!(stats.callback_attempts_failed >= 1, "the refused delivery was retried");
}

#[tokio::test]
async fn the_upload_status_endpoint_answers_for_a_request_id() {
    let server =
        FakeServer::spawn("127.0.0.1:0".parse().unwrap(), secrets(), FakeConfig::default())
            .await
            .unwrap();
    let http = reqwest::Client::new();
    // Without the documented required fields the upload is refused, naming the field.
    let form = reqwest::multipart::Form::new().text("video", "http://example/v.mp4");
    let refused = http
        .post(format!("{}/api/upload", server.base_url()))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let why: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(why["error"], "user is required", "{why}");
    let form = reqwest::multipart::Form::new()
        .text("user", "myloware")
        .text("platform[]", "tiktok")
        .text("video", "http://example/v.mp4")
        .text("title", "t");
    let up: serde_json::Value = http
        .post(format!("{}/api/upload", server.base_url()))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rid = up["request_id"].as_str().unwrap();
    let st: serde_json::Value = http
        .get(format!("{}/api/uploadposts/status?request_id={rid}", server.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(st["status"], "completed");
    assert_eq!(st["results"][0]["post_url"], up["results"][0]["url"]);
    let missing = http
        .get(format!("{}/api/uploadposts/status?request_id=nope", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
