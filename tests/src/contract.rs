//! The API contract against a hostile caller, over real HTTP, on either backend, with
//! everything the backend stores fingerprinted before and after: requests without a valid key
//! (bad bodies, content types, queries, methods) are 401; another principal's run is 404; an
//! idempotency key reused with another request is 422; a crafted list cursor is 400 without a
//! backend's own words in the body; a webhook signature header of 200 candidates on a 250 KB
//! body is 401 and costs no more than one candidate (the figure is printed). None writes.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use myloware::engine::Engine;
use myloware::fakes::FakeSet;
use myloware::time::SystemClock;
use myloware::webhooks::WebhookSecret;
use myloware_http::{ApiKeys, AppState, WebhookSecrets};
use serde_json::{Value, json};

use crate::backend::Backend;

/// What a backend holds, rendered so that any write changes it.
pub async fn fingerprint(b: &Backend) -> String {
    if let Some(dir) = &b.dir {
        let path = dir.join("myloware.db");
        let c = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open the database read-only");
        let mut tables: Vec<String> = c
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        tables.retain(|t| !t.starts_with("sqlite_"));
        let mut out = String::new();
        for t in tables {
            let mut stmt = c.prepare(&format!("SELECT * FROM \"{t}\" ORDER BY rowid")).unwrap();
            let n = stmt.column_count();
            let rows = stmt
                .query_map([], |r| {
                    Ok((0..n)
                        .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                        .collect::<Vec<_>>()
                        .join("|"))
                })
                .unwrap();
            for row in rows {
                out.push_str(&format!("{t}: {}\n", row.unwrap()));
            }
        }
        return out;
    }
    let (clients, _) = b.aws.as_ref().expect("a LocalStack backend");
    let table = b.dynamo.as_ref().expect("dynamo").table().to_owned();
    let items = crate::table_items(clients, &table).await;
    format!("{}\nqueue depth {:?}", items.join("\n"), b.queue.depth().await.expect("depth"))
}

/// The API and webhook routes on `b`, over HTTP: the base URL and the server's stop switch.
pub async fn serve(b: &Backend) -> (String, tokio::sync::watch::Sender<bool>) {
    let secret = WebhookSecret::parse(crate::OPENAI_SECRET).unwrap();
    let fakes = FakeSet::silent(secret.clone());
    let engine = Engine {
        store: b.store.clone(),
        queue: b.queue.clone(),
        blobs: b.blobs.clone(),
        clock: Arc::new(SystemClock),
        providers: fakes.providers(),
        config: Default::default(),
        step_commit: b.step_commit.clone(),
        notifications: None,
    };
    let state = AppState::new(
        engine,
        ApiKeys::new(["ann-key@ann", "bob-key@bob", "ops-key:admin"]),
        Arc::new(WebhookSecrets::single(secret.clone(), secret, 300)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, _) = tokio::sync::watch::channel(false);
    crate::serve_until(listener, myloware_http::local_router(state), &stop);
    (base, stop)
}

async fn send(r: reqwest::RequestBuilder) -> (u16, Value) {
    let r = r.send().await.expect("send");
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Run the whole contract against the server at `base`, its backend fingerprinted by `print`.
pub async fn hostile_contract<F, Fut>(base: &str, print: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = String>,
{
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{base}{p}");
    let key = |r: reqwest::RequestBuilder, k: &str| r.header("x-api-key", k);

    // A run of ann's, before anything is measured.
    let (status, ann) = send(
        key(http.post(url("/v1/runs")), "ann-key")
            .header("idempotency-key", "ann-1")
            .json(&json!({ "brief": "a calm sea" })),
    )
    .await;
    assert_eq!(status, 201, "{ann}");
    let id = ann["run_id"].as_str().unwrap().to_owned();
    let before = print().await;

    // 1. No valid key: 401, whatever else the request is.
    let unknown = "3f0e8a53-5b0e-4c47-9d7e-2f1f7c0f7a11";
    for k in [None, Some("wrong"), Some("")] {
        let reqs = [
            http.post(url("/v1/runs"))
                .header("content-type", "application/json")
                .body("{\"brief\":"),
            http.post(url("/v1/runs")).header("content-type", "text/plain").body("brief"),
            http.post(url("/v1/runs")).json(&json!({ "brief": "b", "extra": 1 })),
            http.get(url("/v1/runs?limit=abc&status=nope&cursor=%25%25")),
            http.put(url("/v1/runs")).json(&json!({})),
            http.delete(url(&format!("/v1/runs/{id}"))),
            http.post(url(&format!("/v1/runs/{unknown}/approve")))
                .header("content-type", "application/xml")
                .body("<x/>"),
            http.get(url("/v1/admin/dlq?limit=-1")),
        ];
        for r in reqs {
            let r = match k {
                Some(k) => r.header("x-api-key", k),
                None => r,
            };
            let (status, body) = send(r).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (401, Some("unauthorized")),
                "key {k:?}: {body}"
            );
        }
    }

    // 2. Another principal's run: 404, exactly as a run that does not exist.
    for (method, suffix, body) in [
        ("GET", "", Value::Null),
        ("GET", "/history", Value::Null),
        ("POST", "/approve", json!({ "gate": "ideation" })),
        ("POST", "/cancel", json!({})),
        ("POST", "/feedback", json!({ "rating": 1 })),
    ] {
        let at = |run: &str| {
            let r = http.request(method.parse().unwrap(), url(&format!("/v1/runs/{run}{suffix}")));
            let r = key(r, "bob-key");
            if body.is_null() { r } else { r.json(&body) }
        };
        let (status, err) = send(at(&id)).await;
        let (ghost, ghost_err) = send(at(unknown)).await;
        assert_eq!(
            (status, err["error"].as_str()),
            (404, Some("run_not_found")),
            "{method} {suffix}: {err}"
        );
        assert_eq!((status, &err["error"]), (ghost, &ghost_err["error"]));
    }
    let (_, listed) = send(key(http.get(url("/v1/runs")), "bob-key")).await;
    assert_eq!(listed["runs"], json!([]), "bob lists none of ann's runs");

    // 3. Ann's idempotency key with another request: 422.
    let (status, err) = send(
        key(http.post(url("/v1/runs")), "ann-key")
            .header("idempotency-key", "ann-1")
            .json(&json!({ "brief": "a stormy sea" })),
    )
    .await;
    assert_eq!((status, err["error"].as_str()), (422, Some("idempotency_key_reused")), "{err}");

    // 4. Crafted cursors: 400, in our words only.
    for cursor in ["%25%25", "eyJwayI6IlgifQ", "eyJwayI6IlJVTiN4Iiwic2siOiJNRVRBIn0", "99999:zz"] {
        let (status, body) =
            send(key(http.get(url(&format!("/v1/runs?cursor={cursor}"))), "ops-key")).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_cursor")),
            "{cursor}: {body}"
        );
        let text = body.to_string().to_lowercase();
        for word in ["dynamodb", "validationexception", "sqlite", "aws"] {
            assert!(!text.contains(word), "{cursor}: a backend's words in {body}");
        }
    }

    // 5. A 200-candidate signature header on a 250 KB body: 401, no dearer than one candidate.
    let payload = serde_json::to_vec(&json!({
        "type": "video.completed", "data": { "id": "video_x", "pad": "x".repeat(250_000) },
    }))
    .unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let fake = format!("v1,{}=", "A".repeat(43));
    let webhook = |sig: String| {
        http.post(url("/v1/webhooks/openai"))
            .header("content-type", "application/json")
            .header("webhook-id", "msg_hostile")
            .header("webhook-timestamp", now.to_string())
            .header("webhook-signature", sig)
            .body(payload.clone())
    };
    let (mut one, mut many) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..10 {
        for (sig, total) in [(fake.clone(), &mut one), ([fake.as_str(); 200].join(" "), &mut many)]
        {
            let started = Instant::now();
            let (status, body) = send(webhook(sig)).await;
            *total += started.elapsed();
            assert_eq!(
                (status, body["error"].as_str()),
                (401, Some("invalid_signature")),
                "{body}"
            );
        }
    }
    println!(
        "webhook over HTTP, 250 KB body, 10 each: 1 candidate {one:?}, 200 candidates {many:?} ({:.2}x)",
        many.as_secs_f64() / one.as_secs_f64()
    );

    assert_eq!(print().await, before, "none of it wrote anything");
}
