//! The hostile-input matrix: forged, stale, replayed, malformed, oversized, misdirected and
//! unauthorised requests against the webhook and API routes on LocalStack. Each case asserts the
//! status code and the error (or status) code, and that DynamoDB and SQS saw no change at all.

use myloware::domain::{JobId, Provider, RunId, RunStatus, Step};
use myloware::time::{Clock, SystemClock};
use myloware::webhooks::{WebhookSecret, sign_remotion, sign_remotion_at, sign_standard};
use myloware_tests::{API_KEY, App, OPENAI_SECRET, Options, REMOTION_SECRET};
use serde_json::{Value, json};

const OLD_SORA_SECRET: &str = "whsec_b2xkLXNlY3JldC1yZW1vdmVkLWFmdGVyLXJvdGF0aW9u";

fn now() -> i64 {
    SystemClock.now().secs()
}

/// One request and what must come back.
struct Case {
    name: &'static str,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    api_key: Option<&'static str>,
    status: u16,
    /// `error` code for failures, `status` field for 2xx answers.
    code: &'static str,
}

fn sora_event(job: &str, kind: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"id": format!("evt_{job}"), "object": "event", "created_at": 1, "type": kind, "data": {"id": job}})).unwrap()
}

fn sora_headers(secret: &str, id: &str, ts: i64, body: &[u8]) -> Vec<(String, String)> {
    let s = WebhookSecret::parse(secret).unwrap();
    vec![
        ("content-type".into(), "application/json".into()),
        ("webhook-id".into(), id.into()),
        ("webhook-timestamp".into(), ts.to_string()),
        ("webhook-signature".into(), sign_standard(&s, id, ts, body)),
    ]
}

fn with(mut h: Vec<(String, String)>, name: &str, value: Option<&str>) -> Vec<(String, String)> {
    h.retain(|(k, _)| k != name);
    if let Some(v) = value {
        h.push((name.into(), v.into()));
    }
    h
}

fn remotion_headers(secret: &str, body: &[u8]) -> Vec<(String, String)> {
    vec![
        ("content-type".into(), "application/json".into()),
        (
            "x-remotion-signature".into(),
            sign_remotion(&WebhookSecret::parse(secret).unwrap(), body),
        ),
    ]
}

fn sora(
    name: &'static str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
) -> Case {
    Case { name, path: "/v1/webhooks/openai".into(), headers, body, api_key: None, status, code }
}

fn remotion(
    name: &'static str,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
) -> Case {
    Case { name, path, headers, body, api_key: None, status, code }
}

fn api(
    name: &'static str,
    path: String,
    key: Option<&'static str>,
    body: Value,
    status: u16,
    code: &'static str,
) -> Case {
    let headers = vec![("content-type".into(), "application/json".into())];
    Case {
        name,
        path,
        headers,
        body: serde_json::to_vec(&body).unwrap(),
        api_key: key,
        status,
        code,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_inputs_are_refused_and_leave_no_trace() {
    let app = App::spawn(Options { no_driver: true, ..Default::default() }).await;
    let waiting = app
        .craft(
            Step::WaitForVideos,
            RunStatus::AwaitingVideoGeneration,
            &["video_live1", "video_live2"],
            Provider::OpenAi,
        )
        .await;
    let failed = app
        .craft(
            Step::WaitForVideos,
            RunStatus::AwaitingVideoGeneration,
            &["video_dead1"],
            Provider::OpenAi,
        )
        .await;
    // The failed run's wait was closed when it failed (as the runner does); a replaced
    // manifest's jobs are closed the same way.
    app.engine
        .store
        .close_correlations(Provider::OpenAi, &[JobId::parse("video_dead1").unwrap()])
        .await
        .unwrap();
    let replaced = app
        .craft(
            Step::WaitForVideos,
            RunStatus::AwaitingVideoGeneration,
            &["video_old1"],
            Provider::OpenAi,
        )
        .await;
    app.engine
        .store
        .close_correlations(Provider::OpenAi, &[JobId::parse("video_old1").unwrap()])
        .await
        .unwrap();
    let rendering = app
        .craft(Step::WaitForRender, RunStatus::AwaitingRender, &["render_live"], Provider::Remotion)
        .await;
    let gated = app
        .craft(Step::IdeationApproval, RunStatus::AwaitingIdeationApproval, &[], Provider::OpenAi)
        .await;
    let _ = (&failed, &replaced);

    // A real callback, processed before the matrix, so that its replay is a duplicate.
    let done = sora_event("video_live1", "video.completed");
    let done_headers = sora_headers(OPENAI_SECRET, "msg_live1", now(), &done);
    let (status, first) = app.webhook_owned("/v1/webhooks/openai", &done_headers, &done).await;
    assert_eq!((status, first["status"].as_str()), (200, Some("accepted")), "{first}");

    let t = now();
    let ev = sora_event("video_live2", "video.completed");
    let good = sora_headers(OPENAI_SECRET, "msg_live2", t, &ev);
    let sig_of = |h: &Vec<(String, String)>| {
        h.iter().find(|(k, _)| k == "webhook-signature").unwrap().1.clone()
    };
    let good_sig = sig_of(&good);
    let mut tampered = ev.clone();
    tampered[20] ^= 1;
    let signed = |body: Vec<u8>| (sora_headers(OPENAI_SECRET, "msg_x", t, &body), body);
    let render_path = |run: &RunId| format!("/v1/webhooks/remotion?run_id={run}");
    let render_done = |job: &str, run: &RunId| {
        serde_json::to_vec(&json!({"job_id": job, "run_id": run, "status": "done", "output_url": format!("https://render.example/output/{job}.mp4"), "error": null})).unwrap()
    };
    let rdone = render_done("render_live", &rendering.run_id);
    let other_run = RunId::new();
    let rs = REMOTION_SECRET;

    let mut cases = vec![
        sora(
            "forged with a wrong secret",
            sora_headers("whsec_d3Jvbmctc2VjcmV0LWZvci1mb3JnZXJ5", "msg_live2", t, &ev),
            ev.clone(),
            401,
            "invalid_signature",
        ),
        sora(
            "old secret after its removal",
            sora_headers(OLD_SORA_SECRET, "msg_live2", t, &ev),
            ev.clone(),
            401,
            "invalid_signature",
        ),
        sora(
            "one byte of the body changed",
            good.clone(),
            tampered.clone(),
            401,
            "invalid_signature",
        ),
        sora(
            "id changed after signing",
            with(good.clone(), "webhook-id", Some("msg_other")),
            ev.clone(),
            401,
            "invalid_signature",
        ),
        sora(
            "timestamp changed after signing",
            with(good.clone(), "webhook-timestamp", Some(&(t - 1).to_string())),
            ev.clone(),
            401,
            "invalid_signature",
        ),
        sora(
            "replayed outside the window",
            sora_headers(OPENAI_SECRET, "msg_live2", t - 1_000, &ev),
            ev.clone(),
            401,
            "stale_timestamp",
        ),
        sora(
            "timestamp from the future",
            sora_headers(OPENAI_SECRET, "msg_live2", t + 1_000, &ev),
            ev.clone(),
            401,
            "stale_timestamp",
        ),
        sora(
            "timestamp not a number",
            with(good.clone(), "webhook-timestamp", Some("yesterday")),
            ev.clone(),
            401,
            "invalid_timestamp",
        ),
        sora(
            "empty v1 signature",
            with(good.clone(), "webhook-signature", Some("v1,")),
            ev.clone(),
            401,
            "invalid_signature",
        ),
        sora(
            "truncated base64",
            with(good.clone(), "webhook-signature", Some(&good_sig[..good_sig.len() - 6])),
            ev.clone(),
            401,
            "invalid_signature",
        ),
        sora(
            "not base64",
            with(good.clone(), "webhook-signature", Some("v1,@@@@")),
            ev.clone(),
            401,
            "invalid_signature",
        ),
        sora(
            "unknown scheme",
            with(good.clone(), "webhook-signature", Some(&good_sig.replace("v1,", "v2,"))),
            ev.clone(),
            401,
            "invalid_signature",
        ),
        sora(
            "several signatures, none valid",
            with(good.clone(), "webhook-signature", Some("v1,AAAA v1,BBBB")),
            ev.clone(),
            401,
            "invalid_signature",
        ),
        sora(
            "missing webhook-id",
            with(good.clone(), "webhook-id", None),
            ev.clone(),
            401,
            "missing_signature",
        ),
        sora(
            "missing webhook-timestamp",
            with(good.clone(), "webhook-timestamp", None),
            ev.clone(),
            401,
            "missing_signature",
        ),
        sora(
            "missing webhook-signature",
            with(good.clone(), "webhook-signature", None),
            ev.clone(),
            401,
            "missing_signature",
        ),
        sora(
            "empty webhook-signature",
            with(good.clone(), "webhook-signature", Some("")),
            ev.clone(),
            401,
            "missing_signature",
        ),
        sora("oversized body", good.clone(), vec![b' '; 300 * 1024], 413, "payload_too_large"),
        sora(
            "wrong content type",
            with(good.clone(), "content-type", Some("text/plain")),
            ev.clone(),
            415,
            "unsupported_media_type",
        ),
        sora(
            "no content type",
            with(good.clone(), "content-type", None),
            ev.clone(),
            415,
            "unsupported_media_type",
        ),
        {
            let (h, b) = signed(b"{\"id\":".to_vec());
            sora("malformed JSON, validly signed", h, b, 400, "malformed_payload")
        },
        {
            let (h, b) = signed(br#"{"id":"evt_1","object":"list","type":"video.completed","data":{"id":"video_live2"}}"#.to_vec());
            sora("not an event envelope", h, b, 400, "malformed_payload")
        },
        {
            let (h, b) = signed(
                br#"{"id":"evt_1","object":"event","type":"video.completed","data":{}}"#.to_vec(),
            );
            sora("missing data.id", h, b, 400, "invalid_id")
        },
        {
            let (h, b) = signed(br#"{"id":"evt_1","object":"event","type":"video.completed","data":{"id":"evt_1"}}"#.to_vec());
            sora("data.id is an event id", h, b, 400, "invalid_id")
        },
        {
            let (h, b) = signed(br#"{"id":"evt_1","object":"event","type":"video.completed","data":{"id":"video_../../x"}}"#.to_vec());
            sora("data.id of the wrong form", h, b, 400, "invalid_id")
        },
        {
            let (h, b) = signed(
                br#"{"object":"event","type":"video.completed","data":{"id":"video_live2"}}"#
                    .to_vec(),
            );
            sora("missing event id", h, b, 400, "invalid_id")
        },
        {
            let (h, b) = signed(sora_event("video_live2", "video.in_progress"));
            sora("unknown event type", h, b, 200, "ignored")
        },
        {
            let (h, b) = signed(sora_event("video_nobody_knows", "video.completed"));
            sora("unknown job", h, b, 200, "ignored")
        },
        {
            let (h, b) = signed(sora_event("video_old1", "video.completed"));
            sora("job of an older, replaced manifest", h, b, 200, "ignored")
        },
        {
            let (h, b) = signed(sora_event("video_dead1", "video.failed"));
            sora("callback after the run failed", h, b, 200, "ignored")
        },
        sora(
            "replayed within the window (duplicate)",
            done_headers.clone(),
            done.clone(),
            200,
            "duplicate",
        ),
        sora(
            "same event, fresh signature (provider retry)",
            sora_headers(OPENAI_SECRET, "msg_live1", t, &done),
            done.clone(),
            200,
            "duplicate",
        ),
        remotion(
            "forged render callback",
            render_path(&rendering.run_id),
            remotion_headers("not-the-secret", &rdone),
            rdone.clone(),
            401,
            "invalid_signature",
        ),
        remotion(
            "unsigned render callback",
            render_path(&rendering.run_id),
            vec![("content-type".into(), "application/json".into())],
            rdone.clone(),
            401,
            "missing_signature",
        ),
        remotion(
            "signature of another body",
            render_path(&rendering.run_id),
            remotion_headers(rs, b"{}"),
            rdone.clone(),
            401,
            "invalid_signature",
        ),
        remotion(
            "signature not hex",
            render_path(&rendering.run_id),
            with(remotion_headers(rs, &rdone), "x-remotion-signature", Some("sha512=zz")),
            rdone.clone(),
            401,
            "invalid_signature",
        ),
        remotion(
            "stale render timestamp",
            render_path(&rendering.run_id),
            with(
                with(
                    remotion_headers(rs, &rdone),
                    "x-remotion-signature",
                    Some(&sign_remotion_at(&WebhookSecret::parse(rs).unwrap(), t - 400, &rdone)),
                ),
                "x-remotion-timestamp",
                Some(&(t - 400).to_string()),
            ),
            rdone.clone(),
            401,
            "stale_timestamp",
        ),
        remotion(
            "render timestamp added after signing",
            render_path(&rendering.run_id),
            with(remotion_headers(rs, &rdone), "x-remotion-timestamp", Some(&t.to_string())),
            rdone.clone(),
            401,
            "invalid_signature",
        ),
        remotion(
            "render wrong content type",
            render_path(&rendering.run_id),
            with(
                remotion_headers(rs, &rdone),
                "content-type",
                Some("application/x-www-form-urlencoded"),
            ),
            rdone.clone(),
            415,
            "unsupported_media_type",
        ),
        remotion(
            "render malformed JSON",
            render_path(&rendering.run_id),
            remotion_headers(rs, b"[1,"),
            b"[1,".to_vec(),
            400,
            "malformed_payload",
        ),
        remotion(
            "render missing job_id",
            render_path(&rendering.run_id),
            remotion_headers(rs, br#"{"status":"done","output_url":"u"}"#),
            br#"{"status":"done","output_url":"u"}"#.to_vec(),
            400,
            "invalid_id",
        ),
        remotion(
            "render run_id not a UUID",
            "/v1/webhooks/remotion?run_id=42".into(),
            remotion_headers(rs, &rdone),
            rdone.clone(),
            400,
            "invalid_id",
        ),
        remotion(
            "render job of another run",
            render_path(&other_run),
            remotion_headers(rs, &render_done("render_live", &other_run)),
            render_done("render_live", &other_run),
            400,
            "wrong_run",
        ),
        remotion(
            "render query and body disagree",
            render_path(&other_run),
            remotion_headers(rs, &rdone),
            rdone.clone(),
            400,
            "wrong_run",
        ),
        remotion(
            "render done without output_url",
            render_path(&rendering.run_id),
            remotion_headers(rs, br#"{"job_id":"render_live","status":"done"}"#),
            br#"{"job_id":"render_live","status":"done"}"#.to_vec(),
            400,
            "malformed_payload",
        ),
        remotion(
            "unknown render job",
            render_path(&rendering.run_id),
            remotion_headers(rs, &render_done("render_nobody", &rendering.run_id)),
            render_done("render_nobody", &rendering.run_id),
            200,
            "ignored",
        ),
        api(
            "start without a key",
            "/v1/runs".into(),
            None,
            json!({"brief": "b"}),
            401,
            "unauthorized",
        ),
        api(
            "start with a wrong key",
            "/v1/runs".into(),
            Some("not-a-key"),
            json!({"brief": "b"}),
            401,
            "unauthorized",
        ),
        api(
            "approve without a key",
            format!("/v1/runs/{}/approve", gated.run_id),
            None,
            json!({"gate": "ideation"}),
            401,
            "unauthorized",
        ),
        api(
            "approve the wrong gate",
            format!("/v1/runs/{}/approve", gated.run_id),
            Some(API_KEY),
            json!({"gate": "publish"}),
            409,
            "not_waiting_at_gate",
        ),
        api(
            "decide a run that waits for videos",
            format!("/v1/runs/{}/reject", waiting.run_id),
            Some(API_KEY),
            json!({"gate": "ideation"}),
            409,
            "not_waiting_at_gate",
        ),
        api(
            "decide an unknown run",
            format!("/v1/runs/{}/approve", RunId::new()),
            Some(API_KEY),
            json!({"gate": "ideation"}),
            404,
            "run_not_found",
        ),
        api(
            "decide an invalid run id",
            "/v1/runs/nope/approve".into(),
            Some(API_KEY),
            json!({"gate": "ideation"}),
            400,
            "invalid_run_id",
        ),
        api(
            "decide an unknown gate",
            format!("/v1/runs/{}/approve", gated.run_id),
            Some(API_KEY),
            json!({"gate": "final"}),
            422,
            "invalid_body",
        ),
        api(
            "start with a brief too long",
            "/v1/runs".into(),
            Some(API_KEY),
            json!({"brief": "x".repeat(10_001)}),
            400,
            "invalid_brief",
        ),
        api(
            "admin route without the admin scope",
            format!("/v1/admin/runs/{}/audit", gated.run_id),
            Some(API_KEY),
            json!(null),
            403,
            "forbidden",
        ),
    ];
    assert!(cases.len() >= 40, "{} cases", cases.len());

    let http = reqwest::Client::new();
    let mut failures = Vec::new();
    for c in cases.drain(..) {
        let (items, messages) = (app.table_snapshot().await, app.queue_messages().await);
        let method = if c.path.starts_with("/v1/admin") {
            reqwest::Method::GET
        } else {
            reqwest::Method::POST
        };
        let mut req =
            http.request(method, format!("{}{}", app.base_url, c.path)).body(c.body.clone());
        for (k, v) in &c.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        if let Some(k) = c.api_key {
            req = req.header("x-api-key", k);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        let code = if status < 300 { body["status"].as_str() } else { body["error"].as_str() };
        if (status, code) != (c.status, Some(c.code)) {
            failures
                .push(format!("{}: got {status} {body}, wanted {} {}", c.name, c.status, c.code));
        }
        if app.table_snapshot().await != items {
            failures.push(format!("{}: DynamoDB changed", c.name));
        }
        if app.queue_messages().await != messages {
            failures.push(format!("{}: a message was sent", c.name));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
