//! Twenty demo-sized runs at once on the embedded backend, with the fake provider server
//! duplicating and reordering every callback: all complete, each with exactly N video jobs.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use myloware::domain::Provider;
use myloware::time::SystemClock;
use myloware::webhooks::WebhookSecret;
use myloware_providers::clients::fake_server_providers;
use myloware_providers::server::{FakeConfig, FakeSecrets, FakeServer};
use myloware_runtime::{RuntimeConfig, app_state};
use myloware_sqlite::{Embedded, QueueSettings};
use myloware_tests::http::ApiClient;

const OPENAI: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const REMOTION: &str = "concurrent-remotion";
const RUNS: usize = 20;
const CLIPS: u32 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_runs_with_duplicated_reordered_callbacks_all_complete() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let secrets = FakeSecrets {
        openai: WebhookSecret::parse(OPENAI).unwrap(),
        replicate: WebhookSecret::parse(OPENAI).unwrap(),
        remotion: WebhookSecret::parse(REMOTION).unwrap(),
    };
    let fake = FakeServer::spawn(
        "127.0.0.1:0".parse().unwrap(),
        secrets,
        FakeConfig {
            openai_webhook_url: Some(format!("{base}/v1/webhooks/openai")),
            callback_delay_ms: 100,
            reorder_jitter_ms: 400,
            duplicate: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut cfg = RuntimeConfig::all_fake(myloware::config::EngineConfig::from_env().unwrap());
    cfg.set_secret(Provider::OpenAi, WebhookSecret::parse(OPENAI).unwrap());
    cfg.set_secret(Provider::Remotion, WebhookSecret::parse(REMOTION).unwrap());
    cfg.api_keys = vec!["k".into()];
    cfg.engine.webhook_base_url = base.clone();
    let dir =
        std::env::temp_dir().join(format!("myloware-concurrent-{}", uuid::Uuid::new_v4().simple()));
    let settings =
        QueueSettings { visibility_timeout: Duration::from_secs(5), max_receive_count: 5 };
    cfg.engine.lease_ttl = Duration::from_secs(3);
    let backend = Embedded::open(&dir, Arc::new(SystemClock), settings).unwrap();
    let providers = fake_server_providers(&fake.base_url(), Provider::OpenAi, &base);
    let engine = backend.engine(providers, Arc::new(SystemClock), cfg.engine.clone());
    // Two consumers, as two Lambda pollers would be.
    for name in ["w1", "w2"] {
        let e = engine.clone();
        tokio::spawn(myloware::engine::run_worker(
            e,
            backend.queue.clone(),
            backend.queue.clone(),
            name.into(),
            std::future::pending(),
        ));
    }
    let router = myloware_http::local_router(app_state(engine.clone(), &cfg, None).expect("state"));
    tokio::spawn(async move { axum::serve(listener, router).await });

    let api = ApiClient::new(&base, "k");
    let mut runs = tokio::task::JoinSet::new();
    for i in 0..RUNS {
        let api = api.clone();
        runs.spawn(async move {
            let id = api.start(&format!("concurrent run {i}"), CLIPS).await;
            api.drive_to_end(&id).await
        });
    }
    let mut jobs = BTreeSet::new();
    while let Some(done) = runs.join_next().await {
        let view = done.unwrap();
        assert_eq!(view["status"], "completed", "{view}");
        let clips = view["artifacts"]["clips"].as_array().unwrap();
        assert_eq!(clips.len(), CLIPS as usize);
        jobs.extend(clips.iter().map(|c| c["job_id"].as_str().unwrap().to_owned()));
    }
    let stats = fake.stats();
    // Every run used CLIPS distinct jobs, no job is shared, and the provider started no others:
    // exactly CLIPS paid video jobs per run.
    assert_eq!(jobs.len(), RUNS * CLIPS as usize);
    assert_eq!(stats.video_jobs as usize, RUNS * CLIPS as usize, "{stats:?}");
    assert_eq!(stats.render_jobs as usize, RUNS);
    assert_eq!(stats.publish_jobs as usize, RUNS);
    assert!(
        stats.callbacks_delivered as usize >= 2 * RUNS * (CLIPS as usize + 1),
        "every callback twice: {stats:?}"
    );
}
