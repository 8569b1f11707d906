//! Cost guards are kept in DynamoDB, so two API instances share them: a per-key rate limit and
//! the 24-hour run cap both answer 429 with Retry-After across instances.

use myloware_tests::{API_KEY, App, Options};
use serde_json::{Value, json};

async fn start(http: &reqwest::Client, base: &str, brief: &str) -> (u16, Option<u64>, Value) {
    let r = http
        .post(format!("{base}/v1/runs"))
        .header("x-api-key", API_KEY)
        .json(&json!({ "brief": brief }))
        .send()
        .await
        .unwrap();
    let retry = r.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse().ok());
    (r.status().as_u16(), retry, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_is_shared_by_two_instances() {
    let app = App::spawn(Options {
        no_driver: true,
        tune: Some(|c| c.rate_limit_per_min = 3),
        ..Default::default()
    })
    .await;
    let peer = app.spawn_peer().await;
    let http = reqwest::Client::new();
    let bases = [app.base_url.clone(), peer];
    // The limit counts per clock minute: start early in one, so the four starts share it (a
    // minute that rolled over mid-test would admit the fourth).
    let into_minute =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
            % 60_000;
    if into_minute > 45_000 {
        tokio::time::sleep(std::time::Duration::from_millis(60_000 - into_minute as u64 + 100))
            .await;
    }
    let mut codes = Vec::new();
    for i in 0..4 {
        codes.push(start(&http, &bases[i % 2], &format!("run {i}")).await);
    }
    let statuses: Vec<u16> = codes.iter().map(|c| c.0).collect();
    assert_eq!(statuses, [201, 201, 201, 429], "three admitted across both instances");
    let (_, retry, body) = &codes[3];
    assert_eq!(body["error"], "rate_limited");
    assert!(retry.is_some_and(|r| (1..=60).contains(&r)), "{retry:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_24_hour_cap_is_shared_by_two_instances() {
    let app = App::spawn(Options {
        no_driver: true,
        tune: Some(|c| c.max_runs_24h = 3),
        ..Default::default()
    })
    .await;
    let peer = app.spawn_peer().await;
    let http = reqwest::Client::new();
    assert_eq!(start(&http, &app.base_url, "one").await.0, 201);
    assert_eq!(start(&http, &peer, "two").await.0, 201);
    assert_eq!(start(&http, &app.base_url, "three").await.0, 201);
    let (s, retry, body) = start(&http, &peer, "four").await;
    assert_eq!((s, body["error"].as_str()), (429, Some("budget_exceeded")), "{body}");
    assert!(
        retry.is_some_and(|r| r > 60),
        "Retry-After until the oldest hour leaves the window: {retry:?}"
    );
    assert_eq!(body["retry_after_seconds"].as_u64(), retry);
}
