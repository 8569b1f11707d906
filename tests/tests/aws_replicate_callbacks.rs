//! Replicate's callbacks on LocalStack, signed by the official Standard Webhooks library as
//! Replicate signs them: a good one is accepted once and wakes the run; a forged, stale,
//! tampered or replayed one is refused (or acknowledged as a duplicate) with nothing written —
//! DynamoDB and SQS unchanged.

use myloware::domain::{Provider, RunStatus, Step};
use myloware::time::{Clock, SystemClock};
use myloware_tests::interop::{peer_python, sign_with_library};
use myloware_tests::{App, Options, REPLICATE_SECRET};
use serde_json::json;

const FORGER: &str = "whsec_Zm9yZ2VkLWJ5LXNvbWVvbmUtZWxzZS0xMjM0NTY=";

/// The prediction object Replicate posts (replicate.com/docs/topics/webhooks/receive-webhook;
/// fields as in `shared/providers/tests/fixtures/replicate.json`).
fn prediction(id: &str) -> String {
    json!({
        "id": id, "model": "bytedance/seedance-1-pro", "version": "a5fd5508",
        "input": {"prompt": "Bicycle at dawn", "duration": 5},
        "output": format!("https://replicate.delivery/xezq/{id}/output.mp4"),
        "error": null, "logs": "", "status": "succeeded", "data_removed": false,
        "created_at": "2026-07-14T09:12:03Z", "started_at": "2026-07-14T09:12:05Z",
        "completed_at": "2026-07-14T09:13:41Z", "metrics": {"predict_time": 96.1},
        "urls": {"get": format!("https://api.replicate.com/v1/predictions/{id}")}
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicate_callbacks_signed_by_the_official_library() {
    let python = peer_python(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")));
    let app = App::spawn(Options { no_driver: true, ..Default::default() }).await;
    let run = app
        .craft(
            Step::WaitForVideos,
            RunStatus::AwaitingVideoGeneration,
            &["qz7mvx2p9srm80cqmq0b3v8gkc", "r2a9kx5v1hrm80cqmq0bbc3f7w"],
            Provider::Replicate,
        )
        .await;
    let body = prediction("qz7mvx2p9srm80cqmq0b3v8gkc");
    let now = SystemClock.now().secs();
    let msgs = [("msg_2fd", now, body.as_str()), ("msg_2fd", now - 600, body.as_str())];
    let [good, stale] =
        <[String; 2]>::try_from(sign_with_library(&python, REPLICATE_SECRET, &msgs)).unwrap();
    let [forged] = <[String; 1]>::try_from(sign_with_library(&python, FORGER, &msgs[..1])).unwrap();
    let post_to = |route: &'static str, sig: String, ts: i64, body: String| {
        let app = &app;
        async move {
            let ts = ts.to_string();
            let h = [
                ("content-type", "application/json"),
                ("webhook-id", "msg_2fd"),
                ("webhook-timestamp", ts.as_str()),
                ("webhook-signature", sig.as_str()),
            ];
            app.webhook(route, &h, body.as_bytes()).await
        }
    };
    let post = |sig, ts, body| post_to("/v1/webhooks/replicate", sig, ts, body);

    let before = (app.table_snapshot().await, app.queue_messages().await);
    let mut tampered = body.clone().into_bytes();
    tampered[10] ^= 1;
    let tampered = String::from_utf8(tampered).unwrap();
    let replicate = "/v1/webhooks/replicate";
    for (what, route, sig, ts, b, code) in [
        ("forged", replicate, forged, now, body.clone(), "invalid_signature"),
        ("stale", replicate, stale, now - 600, body.clone(), "stale_timestamp"),
        ("tampered", replicate, good.clone(), now, tampered, "invalid_signature"),
        (
            "sent to the OpenAI route",
            "/v1/webhooks/openai",
            good.clone(),
            now,
            body.clone(),
            "invalid_signature",
        ),
    ] {
        let (status, answer) = post_to(route, sig, ts, b).await;
        assert_eq!((status, answer["error"].as_str()), (401, Some(code)), "{what}: {answer}");
        assert_eq!(
            (app.table_snapshot().await, app.queue_messages().await),
            before,
            "{what}: something was written"
        );
    }

    // The library's signature: accepted, recorded once, and the run is woken.
    let (status, answer) = post(good.clone(), now, body.clone()).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("accepted")), "{answer}");
    let after = (app.table_snapshot().await, app.queue_messages().await);
    assert_ne!(after.0, before.0, "the arrival was recorded");
    assert!(after.1 > before.1, "the run was woken");
    let (arrived, expected) = myloware::workflow::wait_progress(
        &app.engine,
        &app.engine.store.get_run(&run.run_id).await.unwrap().unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!((arrived, expected), (1, 2));

    // Replayed as it was, and as Replicate retries it (same webhook-id, a fresh signature):
    // acknowledged as a duplicate, nothing written.
    let [retried] = <[String; 1]>::try_from(sign_with_library(
        &python,
        REPLICATE_SECRET,
        &[("msg_2fd", now + 1, body.as_str())],
    ))
    .unwrap();
    for (what, sig, ts) in [("replayed", good, now), ("retried", retried, now + 1)] {
        let (status, answer) = post(sig, ts, body.clone()).await;
        assert_eq!(
            (status, answer["status"].as_str()),
            (200, Some("duplicate")),
            "{what}: {answer}"
        );
        assert_eq!(
            (app.table_snapshot().await, app.queue_messages().await),
            after,
            "{what}: something was written"
        );
    }
}
