//! Build the engine on AWS adapters, and the HTTP state around it.

use std::sync::Arc;

use myloware::Engine;
use myloware::adapters::NoBlobs;
use myloware::domain::Provider;
use myloware::engine::Providers;
use myloware::fakes::{CallbackMode, FakeSet};
use myloware::ports::{
    BlobStore, DeadLetters, LlmProvider, PublishProvider, QueueConsumer, RenderProvider,
    SafetyProvider, VideoProvider,
};
use myloware::time::SystemClock;
use myloware::webhooks::WebhookSecret;
use myloware_aws::{
    AwsClients, DynamoStore, QueuedRender, QueuedRenderCallbacks, Resources, S3Blobs,
    SqsDeadLetters, SqsQueue,
};
use myloware_http::AppState;
use myloware_providers::clients::{
    FfmpegRender, HttpNoticeSender, Kind, Mode, Off, OpenAiChat, OpenAiModeration, UploadPost,
    fake_server_settings, plain_client,
};

use crate::{ConfigError, HttpCallbackSink, RuntimeConfig};

/// Where the providers in `fake` mode live.
#[derive(Debug, Clone)]
pub enum Fakes {
    /// The fake provider server at this base URL (`serve`, the demo): the real clients of the
    /// configured adapters talk to it, and it speaks their protocols.
    Server(String),
    /// Fakes inside this process (the Lambda functions): they sign their callbacks with the
    /// configured secrets and post them to the webhook base URL. Their video fake speaks the
    /// OpenAI-compatible protocol only.
    InProcess,
}

/// The engine's providers, each as its mode says: the real client, its fake, or `off`. Logs
/// the modes once (every process does at start-up).
pub fn providers(cfg: &RuntimeConfig, fakes: Fakes) -> Result<Providers, ConfigError> {
    providers_with(cfg, fakes, None)
}

/// [`providers`], with the render function's queue as the renderer when one is configured
/// (`queued`, built by the caller that has the AWS clients).
fn providers_with(
    cfg: &RuntimeConfig,
    fakes: Fakes,
    queued: Option<Arc<dyn RenderProvider>>,
) -> Result<Providers, ConfigError> {
    let pc = &cfg.providers;
    tracing::info!(providers = %pc.modes, video_adapter = pc.video_adapter.as_str(), stage = %pc.stage, "provider modes");
    let (modes, real, adapter) = (pc.modes, &pc.real, pc.video_adapter);
    let http = plain_client();
    let webhook_base = &cfg.engine.webhook_base_url;
    let any_fake = !modes.kinds_in(Mode::Fake).is_empty();
    // The fakes: clients of the fake server, or the in-process set.
    let server = match (&fakes, any_fake) {
        (Fakes::Server(base), true) => Some(fake_server_settings(base, adapter, webhook_base)),
        _ => None,
    };
    let in_process = match (&fakes, any_fake) {
        (Fakes::InProcess, true) => {
            if modes.get(Kind::Video) == Mode::Fake && adapter != Provider::OpenAi {
                return Err(ConfigError::Invalid {
                    var: crate::provider_config::ENV_VIDEO_ADAPTER,
                    why: "the fake video provider inside a function speaks the OpenAI-compatible \
                          protocol only: set it to openai, or run the fake provider server"
                        .into(),
                });
            }
            let video = match modes.get(Kind::Video) {
                Mode::Fake => cfg.video_signing_secret()?,
                _ => WebhookSecret::parse("unused-video-secret").expect("a raw secret"),
            };
            let remotion = match modes.get(Kind::Render) {
                Mode::Fake => cfg.remotion_signing_secret()?,
                _ => WebhookSecret::parse("unused-render-secret").expect("a raw secret"),
            };
            Some(
                FakeSet::new(
                    video,
                    remotion,
                    Arc::new(HttpCallbackSink::new(webhook_base)),
                    CallbackMode::After(cfg.fake_callback_delay),
                    Arc::new(SystemClock),
                )
                .stateless(),
            )
        }
        _ => None,
    };
    let fake = |kind: Kind| -> Result<(), ConfigError> {
        Err(ConfigError::Invalid {
            var: crate::provider_config::ENV_PROVIDERS,
            why: format!("{} is fake but no fake is available here", kind.as_str()),
        })
    };
    let real_or = |kind: Kind| -> ConfigError {
        ConfigError::Missing {
            var: crate::provider_config::ENV_PROVIDERS,
            why: format!("{} is real but has no settings", kind.as_str()),
        }
    };
    let llm: Arc<dyn LlmProvider> = match modes.get(Kind::Llm) {
        Mode::Real => Arc::new(OpenAiChat::new(
            http.clone(),
            real.llm.clone().ok_or_else(|| real_or(Kind::Llm))?,
        )),
        Mode::Fake => match (&server, &in_process) {
            (Some(s), _) => Arc::new(OpenAiChat::new(http.clone(), s.0.clone())),
            (_, Some(f)) => f.llm.clone(),
            _ => return fake(Kind::Llm).map(|_| unreachable!()),
        },
        Mode::Off => Arc::new(Off::new("llm", Provider::OpenAi)),
    };
    let safety: Arc<dyn SafetyProvider> = match modes.get(Kind::Moderation) {
        Mode::Real => Arc::new(OpenAiModeration::new(
            http.clone(),
            real.moderation.clone().ok_or_else(|| real_or(Kind::Moderation))?,
        )),
        _ => match (&server, &in_process) {
            (Some(s), _) => Arc::new(OpenAiModeration::new(http.clone(), s.1.clone())),
            (_, Some(f)) => f.safety.clone(),
            _ => return fake(Kind::Moderation).map(|_| unreachable!()),
        },
    };
    let video: Arc<dyn VideoProvider> = match modes.get(Kind::Video) {
        Mode::Real => real.video.as_ref().ok_or_else(|| real_or(Kind::Video))?.client(http.clone()),
        Mode::Fake => match (&server, &in_process) {
            (Some(s), _) => s.2.client(http.clone()),
            (_, Some(f)) => f.video.clone(),
            _ => return fake(Kind::Video).map(|_| unreachable!()),
        },
        Mode::Off => Arc::new(Off::new("video", adapter)),
    };
    let render: Arc<dyn RenderProvider> = match (modes.get(Kind::Render), &real.ffmpeg_render) {
        (Mode::Real, _) if real.render_queue.is_some() => queued.ok_or(ConfigError::Invalid {
            var: crate::provider_config::ENV_RENDER_QUEUE,
            why: "the render queue is for the Lambda functions; to render in this process, \
                  unset it and keep MYLOWARE_RENDERER=ffmpeg"
                .into(),
        })?,
        (Mode::Real, Some((ffmpeg, settings))) => {
            if matches!(fakes, Fakes::InProcess) {
                return Err(ConfigError::Invalid {
                    var: crate::provider_config::ENV_RENDERER,
                    why: "a Lambda function is frozen between events, so the built-in renderer \
                          runs there as the render function: set MYLOWARE_RENDER_QUEUE_URL"
                        .into(),
                });
            }
            let sink = Arc::new(HttpCallbackSink::new(webhook_base));
            let secret = cfg.remotion_signing_secret()?;
            Arc::new(FfmpegRender::new(ffmpeg.clone(), settings, secret, sink).map_err(|e| {
                ConfigError::Invalid {
                    var: crate::provider_config::ENV_RENDER_DIR,
                    why: e.to_string(),
                }
            })?)
        }
        (Mode::Real, None) => Arc::new(
            real.render.as_ref().ok_or_else(|| real_or(Kind::Render))?.client(http.clone()),
        ),
        (Mode::Fake, _) => match (&server, &in_process) {
            (Some(s), _) => Arc::new(s.3.client(http.clone())),
            (_, Some(f)) => f.render.clone(),
            _ => return fake(Kind::Render).map(|_| unreachable!()),
        },
        (Mode::Off, _) => Arc::new(Off::new("render", Provider::Remotion)),
    };
    let publish: Arc<dyn PublishProvider> = match modes.get(Kind::Publish) {
        Mode::Real => Arc::new(UploadPost::new(
            http,
            real.publish.clone().ok_or_else(|| real_or(Kind::Publish))?,
        )),
        Mode::Fake => match (&server, &in_process) {
            (Some(s), _) => Arc::new(UploadPost::new(http, s.4.clone())),
            (_, Some(f)) => f.publish.clone(),
            _ => return fake(Kind::Publish).map(|_| unreachable!()),
        },
        Mode::Off => Arc::new(Off::new("publish", Provider::UploadPost)),
    };
    Ok(Providers { llm, safety, video, render, publish })
}

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

/// [`aws_engine_from_env`] for the webhook function, which records callbacks and nothing else:
/// the same store, queue and providers (their URL checks), [`NoBlobs`] for the artifact store
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
    let providers = providers_with(&cfg, Fakes::InProcess, queued)?;
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
