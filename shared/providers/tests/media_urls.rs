//! Media downloads follow redirects only where each hop is allowed, and a provider's key goes
//! to its own API origin only: a redirect to an internal address is refused before any request
//! reaches it, and a redirect to an allowed file host gets the file without the key.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use myloware::domain::JobId;
use myloware::ports::{ProviderError, RenderProvider, collect};
use myloware_providers::clients::{RemotionRender, RenderSettings, plain_client};

/// A server answering each path as `route` says; it records (path, had a key) per request.
async fn server(
    route: impl Fn(&str) -> Response + Clone + Send + Sync + 'static,
) -> (u16, Arc<Mutex<Vec<(String, bool)>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let app = Router::new().fallback(move |headers: HeaderMap, req: Request| {
        let (route, s) = (route.clone(), s.clone());
        async move {
            let path = req.uri().path().to_owned();
            s.lock().unwrap().push((path.clone(), headers.contains_key("authorization")));
            route(&path)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, seen)
}

fn redirect(to: String) -> Response {
    (StatusCode::FOUND, [("location", to)]).into_response()
}

#[tokio::test]
async fn redirects_are_checked_hop_by_hop_and_the_key_stays_home() {
    let (internal, internal_seen) = server(|_| "internal secret".into_response()).await;
    let (files, files_seen) =
        server(|_| (StatusCode::OK, b"\0\0\0\x18ftypmp42".to_vec()).into_response()).await;
    let targets = [
        format!("http://127.0.0.1:{internal}/admin"),
        "https://169.254.169.254/latest/meta-data/".to_owned(),
        format!("https://[::ffff:127.0.0.1]:{internal}/x"),
        "http://cdn.example.net/out.mp4".to_owned(),
        format!("http://localhost:{files}/ok.mp4"),
    ];
    let t = targets.clone();
    let (api, api_seen) = server(move |path| {
        let i: usize =
            path.trim_start_matches("/output/hop").trim_end_matches(".mp4").parse().unwrap_or(0);
        redirect(t[i].clone())
    })
    .await;
    let settings = RenderSettings {
        base: format!("http://127.0.0.1:{api}"),
        key: "render-key".into(),
        // The renderer's files are served from another origin the operator named.
        media_origins: vec![format!("http://localhost:{files}")],
    };
    let render = RemotionRender::new(plain_client(), &settings);
    let job = JobId::parse("render_1").unwrap();
    for (i, target) in targets.iter().enumerate().take(4) {
        let url = format!("http://127.0.0.1:{api}/output/hop{i}.mp4");
        match collect(render.fetch_output(&job, Some(&url)).await).await {
            Err(ProviderError::Terminal(why)) => {
                assert!(why.contains("refusing"), "{target}: {why}")
            }
            other => panic!("{target}: {other:?}"),
        }
    }
    assert!(internal_seen.lock().unwrap().is_empty(), "the internal listener was asked");
    // An allowed file origin: fetched, without the renderer's key.
    let url = format!("http://127.0.0.1:{api}/output/hop4.mp4");
    let bytes = collect(render.fetch_output(&job, Some(&url)).await).await.unwrap();
    assert_eq!(&bytes[4..8], b"ftyp");
    assert_eq!(files_seen.lock().unwrap().as_slice(), &[("/ok.mp4".to_owned(), false)]);
    assert!(api_seen.lock().unwrap().iter().all(|(_, key)| *key), "the API got its key");
}
