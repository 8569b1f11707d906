//! Deep health checks each dependency with its latency: the store, the queue (its depth), the
//! blob store, and every real provider's host; one that cannot be reached makes it 503.

mod common;

use std::collections::BTreeMap;

use myloware_http::Setup;
use serde_json::Value;

#[tokio::test]
async fn deep_health_checks_every_dependency_and_names_the_one_down() {
    // One provider host that takes connections, one that does not (a port just closed).
    let up = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let down = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let setup = |endpoints: BTreeMap<String, String>| Setup {
        providers: BTreeMap::from([("video".into(), "real".into())]),
        video_adapter: "replicate".into(),
        stage: "dev".into(),
        endpoints,
    };
    let healthy =
        BTreeMap::from([("video".to_owned(), format!("http://{}/v1", up.local_addr().unwrap()))]);
    let (status, body) = deep(setup(healthy)).await;
    assert_eq!(status, 200, "{body}");
    for check in ["store", "queue", "blobs", "provider:video"] {
        assert_eq!(body["checks"][check]["ok"], true, "{check}: {body}");
        assert!(body["checks"][check]["ms"].is_u64(), "{body}");
    }
    assert_eq!(body["checks"]["queue"]["depth"], 0);

    let broken = BTreeMap::from([
        ("video".to_owned(), format!("http://{}/v1", up.local_addr().unwrap())),
        ("publish".to_owned(), format!("http://{down}")),
    ]);
    let (status, body) = deep(setup(broken)).await;
    assert_eq!((status, body["status"].as_str()), (503, Some("degraded")), "{body}");
    assert_eq!(body["checks"]["provider:video"]["ok"], true);
    assert_eq!(body["checks"]["provider:publish"]["ok"], false);
    assert!(
        body["checks"]["provider:publish"]["error"].as_str().unwrap().contains(&down.to_string())
    );
}

async fn deep(setup: Setup) -> (u16, Value) {
    let router = common::app_with_setup(&["ops:admin"], setup);
    let (status, body) =
        common::call_json(&router, "ops", "GET", "/health?deep=1", Value::Null).await;
    (status.as_u16(), body)
}
