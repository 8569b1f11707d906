//! Forged, stale and unsigned callbacks are refused with 401 before anything is written: the test
//! counts the items in DynamoDB and the messages in SQS before and after.

use myloware::webhooks::{WebhookSecret, sign_remotion, sign_standard};
use myloware_tests::{App, Options, REMOTION_SECRET, SORA_SECRET};

/// A named case: headers to send and the error code expected.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signatures_are_401_and_leave_no_trace() {
    let app = App::spawn(Options { no_driver: true, ..Default::default() }).await;
    let (items, messages) = (app.table_items().await, app.queue_messages().await);
    let body = br#"{"id":"evt_1","object":"event","created_at":1,"type":"video.completed","data":{"id":"video_abc"}}"#;
    let good = WebhookSecret::parse(SORA_SECRET).unwrap();
    let wrong = WebhookSecret::parse("whsec_dGhpcyBpcyB0aGUgd3Jvbmcgc2VjcmV0IQ==").unwrap();
    let t = now();
    let ts = t.to_string();
    let forged = sign_standard(&wrong, "msg_1", t, body);
    let stale_ts = (t - 301).to_string();
    let stale = sign_standard(&good, "msg_1", t - 301, body);
    let cases: Vec<Case> = vec![
        (
            "forged",
            vec![
                ("webhook-id", "msg_1"),
                ("webhook-timestamp", &ts),
                ("webhook-signature", &forged),
            ],
            "invalid_signature",
        ),
        (
            "stale",
            vec![
                ("webhook-id", "msg_1"),
                ("webhook-timestamp", &stale_ts),
                ("webhook-signature", &stale),
            ],
            "stale_timestamp",
        ),
        (
            "missing signature",
            vec![("webhook-id", "msg_1"), ("webhook-timestamp", &ts)],
            "missing_signature",
        ),
        (
            "missing id",
            vec![("webhook-timestamp", &ts), ("webhook-signature", &forged)],
            "missing_signature",
        ),
    ];
    for (name, headers, code) in cases {
        let mut h = headers.clone();
        h.push(("content-type", "application/json"));
        let (status, resp) = app.webhook("/v1/webhooks/sora", &h, body).await;
        assert_eq!((status, resp["error"].as_str()), (401, Some(code)), "case {name}: {resp}");
    }
    let render =
        br#"{"job_id":"render_1","status":"done","output_url":"https://x/o.mp4","error":null}"#;
    let forged = sign_remotion(&WebhookSecret::parse("not-the-secret").unwrap(), render);
    let (status, _) =
        app.webhook("/v1/webhooks/remotion", &[("x-remotion-signature", &forged)], render).await;
    assert_eq!(status, 401, "forged remotion");
    let (status, _) = app.webhook("/v1/webhooks/remotion", &[], render).await;
    assert_eq!(status, 401, "unsigned remotion");
    let tampered = sign_remotion(&WebhookSecret::parse(REMOTION_SECRET).unwrap(), b"{}");
    let (status, _) =
        app.webhook("/v1/webhooks/remotion", &[("x-remotion-signature", &tampered)], render).await;
    assert_eq!(status, 401, "signature of another body");

    assert_eq!(app.table_items().await, items, "no item was written");
    assert_eq!(app.queue_messages().await, messages, "no message was sent");

    // Control: the same request, correctly signed, is accepted (and is for an unknown job).
    let sig = sign_standard(&good, "msg_1", t, body);
    let (status, resp) = app
        .webhook(
            "/v1/webhooks/sora",
            &[("webhook-id", "msg_1"), ("webhook-timestamp", &ts), ("webhook-signature", &sig)],
            body,
        )
        .await;
    assert_eq!((status, resp["status"].as_str()), (200, Some("ignored")), "{resp}");
    assert_eq!(app.queue_messages().await, messages, "an unknown job wakes no run");
    assert_eq!(app.table_items().await, items, "and leaves no item");
}
