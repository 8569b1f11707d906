//! The engine on the embedded backend (SQLite + files in a data directory), shared by `demo` and
//! `serve --backend embedded`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use myloware::Engine;
use myloware::config::env_num;
use myloware::domain::Provider;
use myloware::engine::Providers;
use myloware::time::SystemClock;
use myloware::webhooks::WebhookSecret;
use myloware_providers::clients::HttpNoticeSender;
use myloware_providers::server::{FakeConfig, FakeSecrets, FakeServer};
use myloware_runtime::RuntimeConfig;
use myloware_sqlite::{Embedded, QueueSettings};

/// Default data directory.
pub const DEFAULT_DATA_DIR: &str = ".myloware";

/// Open the backend in `dir` and build the engine; the lease is kept below the visibility
/// timeout so a crashed holder's message comes back after its lease lapsed.
pub fn engine(
    dir: &Path,
    cfg: &mut RuntimeConfig,
    providers: Providers,
) -> anyhow::Result<(Embedded, Engine)> {
    let visibility = Duration::from_secs(env_num("MYLOWARE_VISIBILITY_SECS", 20)?);
    let settings = QueueSettings {
        visibility_timeout: visibility,
        max_receive_count: env_num("MYLOWARE_MAX_RECEIVES", 8)?,
    };
    cfg.engine.lease_ttl = cfg.engine.lease_ttl.min(visibility * 3 / 4);
    let clock = Arc::new(SystemClock);
    let backend = Embedded::open(dir, clock.clone(), settings)
        .with_context(|| format!("opening the data directory {}", dir.display()))?;
    let mut engine = backend.engine(providers, clock, cfg.engine.clone());
    engine.notifications = cfg.notify.build(Arc::new(HttpNoticeSender::default()))?;
    Ok((backend, engine))
}

/// The fake provider server in this process, for the providers `cfg` says are `fake`: it signs
/// with the configured webhook secrets (a random one for a protocol nobody verifies here) and
/// calls back to the webhook base URL. With `dir`, its jobs and pending callbacks are kept in
/// the data directory (`fake-providers.json`), as a real provider keeps them whatever happens
/// to us: a process killed while its run waited for clips finds its jobs again on restart.
pub async fn fake_server(
    cfg: &RuntimeConfig,
    dir: Option<&Path>,
    addr: std::net::SocketAddr,
    config: FakeConfig,
) -> anyhow::Result<FakeServer> {
    let secret = |s: &myloware_runtime::config::SecretSetting| {
        s.literal.first().cloned().unwrap_or_else(|| {
            WebhookSecret::parse(&format!("unverified-{}", uuid::Uuid::new_v4().simple()))
                .expect("a raw secret")
        })
    };
    let secrets = FakeSecrets {
        openai: secret(&cfg.video_secrets[&Provider::OpenAi]),
        replicate: secret(&cfg.video_secrets[&Provider::Replicate]),
        remotion: secret(&cfg.remotion_secrets),
    };
    // With the built-in renderer configured, the fake clips are real videos too.
    let clips = config
        .clips
        .clone()
        .or_else(|| cfg.providers.real.ffmpeg_render.as_ref().map(|(ffmpeg, _)| ffmpeg.clone()));
    let config = FakeConfig {
        openai_webhook_url: Some(format!("{}/v1/webhooks/openai", cfg.engine.webhook_base_url)),
        clips,
        ..config
    };
    let server = match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            let file = dir.join("fake-providers.json");
            FakeServer::spawn_with_state(addr, secrets, config, file).await
        }
        None => FakeServer::spawn(addr, secrets, config).await,
    };
    server.context("starting the fake provider server")
}

/// Sweep for runs that stopped moving every `every`, as the scheduled sweeper Lambda does on AWS.
pub fn spawn_sweeper(engine: &Engine, every: Duration) {
    let engine = engine.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = engine.sweep(every / 2).await {
                tracing::warn!(error = %e, "sweep failed");
            }
        }
    });
}

/// Consume the step queue in the background until the process ends.
pub fn spawn_worker(engine: &Engine, backend: &Embedded, name: &str) {
    spawn_worker_until(engine, backend, name, std::future::pending());
}

/// The step worker until `stop`: the batch in hand is finished first (its steps checkpoint).
pub fn spawn_worker_until(
    engine: &Engine,
    backend: &Embedded,
    name: &str,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    let (engine, queue, name) = (engine.clone(), backend.queue.clone(), name.to_owned());
    let dlq = queue.clone();
    tokio::spawn(myloware::engine::run_worker(engine, queue, dlq, name, stop))
}
