//! Build the engine on AWS adapters, and the HTTP state around it.

use std::sync::Arc;

use myloware::Engine;
use myloware::engine::Providers;
use myloware::fakes::{CallbackMode, FakeSet};
use myloware::ports::{DeadLetters, QueueConsumer};
use myloware::time::SystemClock;
use myloware::webhooks::WebhookSecret;
use myloware_aws::{AwsClients, DynamoStore, Resources, S3Blobs, SqsDeadLetters, SqsQueue};
use myloware_http::AppState;

use crate::{ConfigError, HttpCallbackSink, RuntimeConfig};

/// The providers: HTTP clients when provider base URLs are configured, otherwise the
/// deterministic in-process fakes (returned too, for their counters).
pub fn providers(cfg: &RuntimeConfig) -> Result<(Providers, Option<FakeSet>), ConfigError> {
    match &cfg.endpoints {
        Some(e) => Ok((e.providers(), None)),
        None => fake_providers(cfg).map(|(f, p)| (p, Some(f))),
    }
}

/// The deterministic in-process fake providers, calling back over HTTP to the configured
/// webhook base URL.
pub fn fake_providers(cfg: &RuntimeConfig) -> Result<(FakeSet, Providers), ConfigError> {
    let first = |v: &[WebhookSecret], var: &'static str| {
        v.first().cloned().ok_or(ConfigError::Secret {
            var,
            why: "the fake provider needs a secret to sign with".into(),
        })
    };
    let fakes = FakeSet::new(
        first(&cfg.sora_secrets, crate::config::ENV_SORA_SECRETS)?,
        first(&cfg.remotion_secrets, crate::config::ENV_REMOTION_SECRETS)?,
        Arc::new(HttpCallbackSink::new(&cfg.engine.webhook_base_url)),
        CallbackMode::After(cfg.fake_callback_delay),
        Arc::new(SystemClock),
    );
    let providers = fakes.providers();
    Ok((fakes, providers))
}

/// The engine on DynamoDB, SQS and S3 (resource locations from `MYLOWARE_*` env vars).
pub fn aws_engine(
    clients: &AwsClients,
    resources: &Resources,
    cfg: &RuntimeConfig,
    providers: Providers,
) -> Engine {
    Engine {
        store: Arc::new(DynamoStore::new(clients.dynamodb.clone(), &resources.names.table)),
        queue: Arc::new(SqsQueue::new(clients.sqs.clone(), &resources.queue_url)),
        blobs: Arc::new(S3Blobs::new(clients.s3.clone(), &resources.names.bucket)),
        clock: Arc::new(SystemClock),
        providers,
        config: cfg.engine.clone(),
    }
}

/// The consuming side of the step queue and its DLQ (step and sweeper functions, local drivers,
/// the DLQ admin API).
pub fn step_consumers(
    clients: &AwsClients,
    resources: &Resources,
) -> (Arc<dyn QueueConsumer>, Arc<dyn DeadLetters>) {
    (
        Arc::new(SqsQueue::new(clients.sqs.clone(), &resources.queue_url)),
        Arc::new(
            SqsDeadLetters::new(clients.sqs.clone(), &resources.dlq_url)
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
    Ok(AppState {
        engine,
        api_keys: cfg.api_keys()?,
        webhooks: cfg.verifier_source(clients)?,
        dlq: None,
    })
}

/// Everything a Lambda function needs, from the environment: config and the engine on AWS with
/// the fake providers.
pub async fn aws_engine_from_env() -> Result<(RuntimeConfig, Engine, AwsClients), ConfigError> {
    let mut cfg = RuntimeConfig::from_env()?;
    let resources = Resources::from_env().map_err(ConfigError::Resources)?;
    let clients = AwsClients::from_env().await;
    cfg.resolve_stored_api_key_hashes(&clients).await?;
    cfg.resolve_fake_signing_secrets(&clients).await?;
    let (providers, _fakes) = providers(&cfg)?;
    let engine = aws_engine(&clients, &resources, &cfg, providers);
    Ok((cfg, engine, clients))
}
