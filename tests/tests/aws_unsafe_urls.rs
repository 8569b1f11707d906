//! URLs from outside are hostile until checked: a signed render callback naming an output the
//! render client would not fetch — a loopback, metadata, IPv4-mapped or other address, plain
//! http, a host that is not the renderer's — is refused with 400 `unsafe_url` before anything
//! is written (DynamoDB and SQS unchanged), and a listener on 127.0.0.1 standing in for an
//! internal service is never asked anything.

use std::sync::Arc;

use myloware::domain::{Provider, RunStatus, Step};
use myloware::webhooks::{WebhookSecret, sign_remotion};
use myloware_providers::clients::{RemotionRender, RenderSettings, plain_client};
use myloware_tests::listener::Internal;
use myloware_tests::{App, Options, REMOTION_SECRET};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn render_callbacks_naming_unsafe_outputs_are_refused_and_write_nothing() {
    let internal = Internal::start().await;
    let p = internal.port;
    // The real render client; its API's origin is the only place its outputs come from.
    let settings = RenderSettings {
        base: "https://render.example.com".into(),
        key: "render-key".into(),
        media_origins: vec![],
    };
    let render = Arc::new(RemotionRender::new(plain_client(), &settings));
    let app =
        App::spawn(Options { no_driver: true, render: Some(render), ..Default::default() }).await;
    let run = app
        .craft(Step::WaitForRender, RunStatus::AwaitingRender, &["render_live"], Provider::Remotion)
        .await;
    let secret = WebhookSecret::parse(REMOTION_SECRET).unwrap();
    let path = format!("/v1/webhooks/remotion?run_id={}", run.run_id);
    let post = |url: String| {
        let body = serde_json::to_vec(&json!({
            "job_id": "render_live", "run_id": run.run_id, "status": "done",
            "output_url": url, "error": null
        }))
        .unwrap();
        let sig = sign_remotion(&secret, &body);
        let (app, path) = (&app, path.clone());
        async move {
            let h = [("content-type", "application/json"), ("x-remotion-signature", sig.as_str())];
            app.webhook(&path, &h, &body).await
        }
    };

    let before = (app.table_snapshot().await, app.queue_messages().await);
    for url in [
        format!("http://127.0.0.1:{p}/out.mp4"),
        format!("https://127.0.0.1:{p}/out.mp4"),
        "https://169.254.169.254/latest/meta-data/iam/security-credentials/".to_owned(),
        format!("https://[::ffff:127.0.0.1]:{p}/out.mp4"),
        "https://[::ffff:a9fe:a9fe]/latest/meta-data/".to_owned(),
        "https://[fd00::1]/out.mp4".to_owned(),
        "https://2130706433/out.mp4".to_owned(), // 127.0.0.1 as one number
        format!("https://localhost:{p}/out.mp4"),
        "http://cdn.example.net/out.mp4".to_owned(),
        "https://cdn.example.net/out.mp4".to_owned(),
        format!("https://render.example.com:{p}/out.mp4"),
        "http://render.example.com/output/render_live.mp4".to_owned(),
        "https://user:pw@render.example.com/output/render_live.mp4".to_owned(),
        "file:///etc/passwd".to_owned(),
        "gopher://127.0.0.1:6379/_INFO".to_owned(),
    ] {
        let (status, answer) = post(url.clone()).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (400, Some("unsafe_url")),
            "{url}: {answer}"
        );
        assert_eq!(
            (app.table_snapshot().await, app.queue_messages().await),
            before,
            "{url}: something was written"
        );
    }
    assert_eq!(internal.hits(), 0, "the internal listener was asked something");

    // The renderer's own output is accepted (and only recorded: it is fetched by the step).
    let good = "https://render.example.com/output/render_live.mp4".to_owned();
    let (status, answer) = post(good).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("accepted")), "{answer}");
    assert_eq!(internal.hits(), 0);
}

/// A renderer whose own output URL redirects somewhere refused: the callback is refused with
/// 400 before anything is written, and the place it redirects to is never asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn render_outputs_that_redirect_somewhere_refused_are_refused() {
    let internal = Internal::start().await;
    let p = internal.port;
    let targets = [
        format!("http://127.0.0.1:{p}/admin"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        format!("https://[::ffff:127.0.0.1]:{p}/x"),
        "http://cdn.example.net/out.mp4".to_owned(),
    ];
    let t = targets.clone();
    // The renderer's own origin (configured, so trusted as written): /output/hopN.mp4
    // redirects to targets[N], /output/fine.mp4 is the file.
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let t = t.clone();
        async move {
            let path = uri.path().to_owned();
            match path.strip_prefix("/output/hop").and_then(|r| r.strip_suffix(".mp4")) {
                Some(i) => axum::response::Response::builder()
                    .status(302)
                    .header("location", &t[i.parse::<usize>().unwrap()])
                    .body(axum::body::Body::empty())
                    .unwrap(),
                None => axum::response::Response::new(axum::body::Body::from("mp4")),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let settings = RenderSettings { base: base.clone(), key: "k".into(), media_origins: vec![] };
    let render = Arc::new(RemotionRender::new(plain_client(), &settings));
    let app =
        App::spawn(Options { no_driver: true, render: Some(render), ..Default::default() }).await;
    let run = app
        .craft(Step::WaitForRender, RunStatus::AwaitingRender, &["render_live"], Provider::Remotion)
        .await;
    let secret = WebhookSecret::parse(REMOTION_SECRET).unwrap();
    let path = format!("/v1/webhooks/remotion?run_id={}", run.run_id);
    let before = (app.table_snapshot().await, app.queue_messages().await);
    for (i, target) in targets.iter().enumerate() {
        let body = serde_json::to_vec(&json!({
            "job_id": "render_live", "run_id": run.run_id, "status": "done",
            "output_url": format!("{base}/output/hop{i}.mp4"), "error": null
        }))
        .unwrap();
        let sig = sign_remotion(&secret, &body);
        let h = [("content-type", "application/json"), ("x-remotion-signature", sig.as_str())];
        let (status, answer) = app.webhook(&path, &h, &body).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("unsafe_url")), "{target}");
        let after = (app.table_snapshot().await, app.queue_messages().await);
        assert_eq!(after, before, "{target}: something was written");
    }
    assert_eq!(internal.hits(), 0, "the internal listener was asked something");
    let body = serde_json::to_vec(&json!({
        "job_id": "render_live", "run_id": run.run_id, "status": "done",
        "output_url": format!("{base}/output/fine.mp4"), "error": null
    }))
    .unwrap();
    let sig = sign_remotion(&secret, &body);
    let h = [("content-type", "application/json"), ("x-remotion-signature", sig.as_str())];
    let (status, answer) = app.webhook(&path, &h, &body).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("accepted")), "{answer}");
}
