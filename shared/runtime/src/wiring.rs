//! Build the engine on AWS adapters, and the HTTP state around it.

use std::sync::Arc;

use myloware::Engine;
use myloware::adapters::NoBlobs;
use myloware::engine::Providers;
use myloware::ports::{BlobStore, DeadLetters, QueueConsumer, RenderProvider};
use myloware::time::SystemClock;
use myloware_aws::{
    AwsClients, DynamoStore, QueuedRender, QueuedRenderCallbacks, Resources, S3Blobs,
    SqsDeadLetters, SqsQueue,
};
use myloware_http::AppState;
use myloware_providers::clients::HttpNoticeSender;

pub use crate::provider_wiring::{Fakes, providers};
use crate::provider_wiring::{api_providers, providers_with, webhook_providers};
use crate::{ConfigError, RuntimeConfig};

/// The engine on DynamoDB, SQS and S3 (resource locations from `MYLOWARE_*` env vars).
pub fn aws_engine(
    clients: &AwsClients,
    resources: &Resources,
    cfg: &RuntimeConfig,
    providers: Providers,
) -> Result<Engine, ConfigError> {
    let blobs = Arc::new(S3Blobs::new(clients.s3().clone(), &resources.names.bucket));
    engine_with(clients, resources, cfg, providers, blobs)
}

fn engine_with(
    clients: &AwsClients,
    resources: &Resources,
    cfg: &RuntimeConfig,
    providers: Providers,
    blobs: Arc<dyn BlobStore>,
) -> Result<Engine, ConfigError> {
    Ok(Engine {
        store: Arc::new(DynamoStore::new(clients.dynamodb().clone(), &resources.names.table)),
        queue: Arc::new(SqsQueue::new(clients.sqs().clone(), &resources.queue_url)),
        blobs,
        clock: Arc::new(SystemClock),
        providers,
        config: cfg.engine.clone(),
        step_commit: None,
        notifications: cfg.notify.build(Arc::new(HttpNoticeSender::default()))?,
    })
}

/// The consuming side of the step queue and its DLQ (step and sweeper functions, local drivers,
/// the DLQ admin API).
pub fn step_consumers(
    clients: &AwsClients,
    resources: &Resources,
) -> (Arc<dyn QueueConsumer>, Arc<dyn DeadLetters>) {
    (
        Arc::new(SqsQueue::new(clients.sqs().clone(), &resources.queue_url)),
        Arc::new(
            SqsDeadLetters::new(clients.sqs().clone(), &resources.dlq_url)
                .with_source(&resources.queue_url),
        ),
    )
}

/// The HTTP handler state for an engine. `clients` reads secrets kept in a secret store.
pub fn app_state(
    engine: Engine,
    cfg: &RuntimeConfig,
    clients: Option<&AwsClients>,
) -> Result<AppState, ConfigError> {
    let state = AppState::new(engine, cfg.api_keys()?, cfg.verifier_source(clients)?)
        .with_setup(cfg.providers.setup());
    Ok(match cfg.notify.telegram.as_ref().and_then(|t| t.inbound()) {
        Some(inbound) => state.with_telegram(inbound),
        None => state,
    })
}

/// `router` with the review console beside it (`/console`), its sessions signed as configured
/// (`console_config.rs`).
pub async fn with_console(
    router: axum::Router,
    state: AppState,
    clients: Option<&AwsClients>,
) -> Result<axum::Router, ConfigError> {
    let sessions = crate::console_config::console_sessions(clients).await?;
    Ok(router.merge(myloware_console::router(state, sessions)))
}

/// Everything a Lambda function that runs steps or serves the API needs, from the environment:
/// config and the engine on AWS with its providers and artifact store.
pub async fn aws_engine_from_env() -> Result<(RuntimeConfig, Engine, AwsClients), ConfigError> {
    let (cfg, resources, clients) = aws_setup_from_env().await?;
    let queued = cfg.providers.real.render_queue.as_ref().map(|q| -> Arc<dyn RenderProvider> {
        let blobs = S3Blobs::new(clients.s3().clone(), &resources.names.bucket);
        Arc::new(QueuedRender::new(clients.sqs().clone(), q, blobs))
    });
    let providers = providers_with(&cfg, Fakes::InProcess, queued)?;
    let engine = aws_engine(&clients, &resources, &cfg, providers)?;
    Ok((cfg, engine, clients))
}

/// [`aws_engine_from_env`] for the api function: the same store, queue and artifact store, and
/// of the providers only the safety check it calls ([`crate::provider_wiring`]'s
/// `api_providers`); the provider clients the step function calls are not in its binary.
pub async fn aws_api_engine_from_env() -> Result<(RuntimeConfig, Engine, AwsClients), ConfigError> {
    let (cfg, resources, clients) = aws_setup_from_env().await?;
    let providers = api_providers(&cfg)?;
    let engine = aws_engine(&clients, &resources, &cfg, providers)?;
    Ok((cfg, engine, clients))
}

/// [`aws_engine_from_env`] for the webhook function, which records callbacks and nothing else:
/// the same store and queue, the providers whose URL checks it uses (the others
/// `Off::elsewhere`), [`NoBlobs`] for the artifact store
/// and the built-in renderer as [`QueuedRenderCallbacks`], so S3's client is neither built nor
/// linked there (about a megabyte of the binary). The sweeper fires timers, which poll the
/// renderer's outputs in the bucket, so it keeps [`aws_engine_from_env`].
pub async fn aws_webhook_engine_from_env()
-> Result<(RuntimeConfig, Engine, AwsClients), ConfigError> {
    let (cfg, resources, clients) = aws_setup_from_env().await?;
    let queued = cfg
        .providers
        .real
        .render_queue
        .as_ref()
        .map(|_| -> Arc<dyn RenderProvider> { Arc::new(QueuedRenderCallbacks) });
    let providers = webhook_providers(&cfg, queued)?;
    let engine = engine_with(&clients, &resources, &cfg, providers, Arc::new(NoBlobs("webhook")))?;
    Ok((cfg, engine, clients))
}

/// Config, resource locations and clients from a Lambda function's environment, with every
/// stored secret the config names read.
async fn aws_setup_from_env() -> Result<(RuntimeConfig, Resources, AwsClients), ConfigError> {
    let mut cfg = RuntimeConfig::from_env()?;
    let resources = Resources::from_env().map_err(ConfigError::Resources)?;
    let clients = AwsClients::from_lambda_env();
    cfg.resolve_stored_api_key_hashes(&clients).await?;
    cfg.resolve_fake_signing_secrets(&clients).await?;
    cfg.resolve_replicate_secret().await?;
    cfg.notify.resolve_secret(&clients).await?;
    Ok((cfg, resources, clients))
}
