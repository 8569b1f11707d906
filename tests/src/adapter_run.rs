//! A whole run through one video adapter on a backend: the real client of that adapter talks
//! to the fake provider server's face of the same protocol, callbacks come in over HTTP to the
//! webhook routes and are verified with each provider's own secret, workers consume the
//! backend's queue. Used on SQLite and on LocalStack.

use std::sync::Arc;
use std::time::{Duration, Instant};

use myloware::Engine;
use myloware::adapters::NoBlobs;
use myloware::config::{EngineConfig, PollPolicy};
use myloware::domain::{Decision, Gate, ProjectName, Provider, RunRecord, RunStatus};
use myloware::engine::StartRequest;
use myloware::ports::RenderProvider;
use myloware::time::SystemClock;
use myloware::webhooks::WebhookSecret;
use myloware_http::{ApiKeys, AppState};
use myloware_providers::clients::fake_server_providers;
use myloware_providers::server::{FakeConfig, FakeSecrets, FakeServer, Stats};
use myloware_runtime::RuntimeConfig;
use tokio::sync::watch;

use crate::backend::Backend;
use crate::{OPENAI_SECRET, REMOTION_SECRET, REPLICATE_SECRET};

/// What a run through an adapter left behind.
pub struct AdapterRun {
    /// The run at its end.
    pub run: RunRecord,
    /// What the fake providers were asked.
    pub stats: Stats,
    /// The engine it ran on (to read artifacts).
    pub engine: Engine,
}

fn secret(s: &str) -> WebhookSecret {
    WebhookSecret::parse(s).expect("a test secret")
}

/// Run one `clips`-clip run through `adapter` on `b`, approving both gates, until it ends
/// (60 s at most). `tune` changes the fake providers' behaviour.
pub async fn whole_run(
    b: &Backend,
    adapter: Provider,
    clips: u32,
    tune: impl FnOnce(&mut FakeConfig),
) -> AdapterRun {
    whole_run_with(b, adapter, clips, tune, |_| None).await
}

/// A renderer other than the fake server's: as the steps use it, and as the webhook sees it
/// (the webhook function's is the URL check alone: `QueuedRenderCallbacks`).
pub struct Renders {
    /// What the steps submit to and read from.
    pub steps: Arc<dyn RenderProvider>,
    /// What the webhook checks render callbacks' URLs with.
    pub callbacks: Arc<dyn RenderProvider>,
}

/// [`whole_run`] with another renderer than the fake server's: `render` gets the webhook base
/// URL (where its callbacks go) and may return one. The webhook's engine has no artifact store
/// (`NoBlobs`), as the webhook function has none.
pub async fn whole_run_with(
    b: &Backend,
    adapter: Provider,
    clips: u32,
    tune: impl FnOnce(&mut FakeConfig),
    render: impl FnOnce(&str) -> Option<Renders>,
) -> AdapterRun {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let mut fake_config = FakeConfig {
        openai_webhook_url: Some(format!("{base}/v1/webhooks/openai")),
        callback_delay_ms: 200,
        ..Default::default()
    };
    tune(&mut fake_config);
    let fake = FakeServer::spawn(
        "127.0.0.1:0".parse().expect("addr"),
        FakeSecrets {
            openai: secret(OPENAI_SECRET),
            replicate: secret(REPLICATE_SECRET),
            remotion: secret(REMOTION_SECRET),
        },
        fake_config,
    )
    .await
    .expect("fake providers");

    let mut cfg = RuntimeConfig::all_fake(EngineConfig {
        lease_ttl: b.visibility * 3 / 4,
        webhook_base_url: base.clone(),
        ..EngineConfig::default()
    });
    // Callback adapters must finish by their callbacks (the first poll is ten minutes away);
    // the polled one (Gemini) asks every second.
    let quick =
        PollPolicy { after: Duration::from_secs(1), interval: Duration::from_secs(1), max: 60 };
    cfg.engine.waits.polled = quick;
    cfg.engine.waits.publish_poll = quick;
    cfg.set_secret(Provider::OpenAi, secret(OPENAI_SECRET));
    cfg.set_secret(Provider::Replicate, secret(REPLICATE_SECRET));
    cfg.set_secret(Provider::Remotion, secret(REMOTION_SECRET));
    let mut providers = fake_server_providers(&fake.base_url(), adapter, &base);
    let mut webhook_providers = providers.clone();
    if let Some(r) = render(&base) {
        providers.render = r.steps;
        webhook_providers.render = r.callbacks;
    }
    let engine = Engine {
        store: b.store.clone(),
        queue: b.queue.clone(),
        blobs: b.blobs.clone(),
        clock: Arc::new(SystemClock),
        providers,
        config: cfg.engine.clone(),
        step_commit: b.step_commit.clone(),
        notifications: None,
    };
    let webhook_engine = Engine {
        blobs: Arc::new(NoBlobs("webhook")),
        providers: webhook_providers,
        ..engine.clone()
    };
    let router = myloware_http::webhook_router(AppState::new(
        webhook_engine,
        ApiKeys::default(),
        Arc::new(cfg.webhook_secrets()),
    ));
    let (stop, _) = watch::channel(false);
    crate::serve_until(listener, router, &stop);
    for w in 0..2 {
        let mut stopped = stop.subscribe();
        tokio::spawn(myloware::engine::run_worker(
            engine.clone(),
            b.consumer.clone(),
            b.dlq.clone(),
            format!("{}-w{w}", adapter.as_str()),
            async move {
                let _ = stopped.changed().await;
            },
        ));
    }

    let req = StartRequest {
        project: ProjectName::parse("aismr").expect("project"),
        brief: format!("a run through the {} adapter", adapter.as_str()),
        clips: Some(clips),
        idempotency_key: None,
        request_id: None,
        caller: None,
        owner: None,
    };
    let id = engine.start_run(req).await.expect("start").run.run_id;
    let until = Instant::now() + Duration::from_secs(60);
    let run = loop {
        let run = engine.get(&id).await.expect("read the run");
        let gate = match run.status {
            RunStatus::AwaitingIdeationApproval => Some(Gate::Ideation),
            RunStatus::AwaitingPublishApproval => Some(Gate::Publish),
            s if s.is_terminal() => break run,
            _ => None,
        };
        if let Some(gate) = gate {
            let _ = engine.decide(&id, gate, Decision::Approve, None, "test", None).await;
        }
        assert!(Instant::now() < until, "the {adapter} run did not end: {run:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let _ = stop.send(true);
    AdapterRun { run, stats: fake.stats(), engine }
}
