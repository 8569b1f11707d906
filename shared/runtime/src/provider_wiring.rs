//! The engine's providers, each as its mode says: the real client, its fake, or `off`; one
//! builder per kind, so a function that calls only some kinds links only their clients.

use std::sync::Arc;

use myloware::domain::Provider;
use myloware::engine::Providers;
use myloware::fakes::{CallbackMode, FakeSet};
use myloware::ports::{
    LlmProvider, PublishProvider, RenderProvider, SafetyProvider, VideoProvider,
};
use myloware::time::SystemClock;
use myloware::webhooks::WebhookSecret;
use myloware_providers::clients::{
    ApiSettings, FfmpegRender, Kind, Mode, Off, OpenAiChat, OpenAiModeration, PublishSettings,
    RenderSettings, UploadPost, VideoSettings, fake_server_settings, plain_client,
};

use crate::provider_config::{ENV_PROVIDERS, ENV_RENDER_DIR, ENV_RENDER_QUEUE, ENV_RENDERER};
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

/// What the builders share: the settings, one HTTP client, and where fakes come from.
struct Ctx<'a> {
    cfg: &'a RuntimeConfig,
    http: reqwest::Client,
    in_lambda: bool,
    /// Clients' settings for the fake provider server.
    server: Option<(ApiSettings, ApiSettings, VideoSettings, RenderSettings, PublishSettings)>,
    /// The fakes inside this process.
    in_process: Option<FakeSet>,
}

impl<'a> Ctx<'a> {
    fn new(cfg: &'a RuntimeConfig, fakes: Fakes) -> Result<Self, ConfigError> {
        let pc = &cfg.providers;
        tracing::info!(providers = %pc.modes, video_adapter = pc.video_adapter.as_str(), stage = %pc.stage, "provider modes");
        let (modes, adapter) = (pc.modes, pc.video_adapter);
        let webhook_base = &cfg.engine.webhook_base_url;
        let any_fake = !modes.kinds_in(Mode::Fake).is_empty();
        let in_lambda = matches!(fakes, Fakes::InProcess);
        let server = match (&fakes, any_fake) {
            (Fakes::Server(base), true) => Some(fake_server_settings(base, adapter, webhook_base)),
            _ => None,
        };
        let in_process = match (&fakes, any_fake) {
            (Fakes::InProcess, true) => Some(in_process_fakes(cfg)?),
            _ => None,
        };
        Ok(Self { cfg, http: plain_client(), in_lambda, server, in_process })
    }

    fn mode(&self, kind: Kind) -> Mode {
        self.cfg.providers.modes.get(kind)
    }

    /// A kind in `real` mode without its settings.
    fn unset(kind: Kind) -> ConfigError {
        ConfigError::Missing {
            var: ENV_PROVIDERS,
            why: format!("{} is real but has no settings", kind.as_str()),
        }
    }

    /// A kind in `fake` mode where no fake is available.
    fn no_fake<T>(kind: Kind) -> Result<T, ConfigError> {
        Err(ConfigError::Invalid {
            var: ENV_PROVIDERS,
            why: format!("{} is fake but no fake is available here", kind.as_str()),
        })
    }
}

/// The fakes inside a Lambda function, signing with the configured secrets.
fn in_process_fakes(cfg: &RuntimeConfig) -> Result<FakeSet, ConfigError> {
    let modes = cfg.providers.modes;
    if modes.get(Kind::Video) == Mode::Fake && cfg.providers.video_adapter != Provider::OpenAi {
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
    let sink = Arc::new(HttpCallbackSink::new(&cfg.engine.webhook_base_url));
    let callbacks = CallbackMode::After(cfg.fake_callback_delay);
    Ok(FakeSet::new(video, remotion, sink, callbacks, Arc::new(SystemClock)).stateless())
}

/// The engine's providers, each as its mode says: the real client, its fake, or `off`. Logs
/// the modes once (every process does at start-up).
pub fn providers(cfg: &RuntimeConfig, fakes: Fakes) -> Result<Providers, ConfigError> {
    providers_with(cfg, fakes, None)
}

/// [`providers`], with the render function's queue as the renderer when one is configured
/// (`queued`, built by the caller that has the AWS clients).
pub(crate) fn providers_with(
    cfg: &RuntimeConfig,
    fakes: Fakes,
    queued: Option<Arc<dyn RenderProvider>>,
) -> Result<Providers, ConfigError> {
    let c = Ctx::new(cfg, fakes)?;
    Ok(Providers {
        llm: llm(&c)?,
        safety: safety(&c)?,
        video: video(&c)?,
        render: render(&c, queued)?,
        publish: publish(&c)?,
    })
}

/// The providers of the api function: the runs API and the console call only the safety check
/// (an edited idea); the other kinds are called by the step function, so here they are
/// [`Off::elsewhere`] (the video one still names the configured API, which a start checks) and
/// their clients are not in the api's binary.
pub(crate) fn api_providers(cfg: &RuntimeConfig) -> Result<Providers, ConfigError> {
    let c = Ctx::new(cfg, Fakes::InProcess)?;
    let adapter = cfg.providers.video_adapter;
    Ok(Providers {
        llm: Arc::new(Off::elsewhere("llm", Provider::OpenAi, "api")),
        safety: safety(&c)?,
        video: Arc::new(Off::elsewhere("video", adapter, "api")),
        render: Arc::new(Off::elsewhere("render", Provider::Remotion, "api")),
        publish: Arc::new(Off::elsewhere("publish", Provider::UploadPost, "api")),
    })
}

/// The providers of the webhook function: it checks callbacks' media URLs with the video and
/// render providers (`render_callbacks` standing for the built-in renderer when its queue is
/// configured) and calls no other kind, so those are [`Off::elsewhere`].
pub(crate) fn webhook_providers(
    cfg: &RuntimeConfig,
    render_callbacks: Option<Arc<dyn RenderProvider>>,
) -> Result<Providers, ConfigError> {
    let c = Ctx::new(cfg, Fakes::InProcess)?;
    Ok(Providers {
        llm: Arc::new(Off::elsewhere("llm", Provider::OpenAi, "webhook")),
        safety: safety(&c)?,
        video: video(&c)?,
        render: render(&c, render_callbacks)?,
        publish: Arc::new(Off::elsewhere("publish", Provider::UploadPost, "webhook")),
    })
}

fn llm(c: &Ctx) -> Result<Arc<dyn LlmProvider>, ConfigError> {
    let real = &c.cfg.providers.real;
    Ok(match c.mode(Kind::Llm) {
        Mode::Real => {
            let settings = real.llm.clone().ok_or_else(|| Ctx::unset(Kind::Llm))?;
            Arc::new(OpenAiChat::new(c.http.clone(), settings))
        }
        Mode::Fake => match (&c.server, &c.in_process) {
            (Some(s), _) => Arc::new(OpenAiChat::new(c.http.clone(), s.0.clone())),
            (_, Some(f)) => f.llm.clone(),
            _ => return Ctx::no_fake(Kind::Llm),
        },
        Mode::Off => Arc::new(Off::new("llm", Provider::OpenAi)),
    })
}

fn safety(c: &Ctx) -> Result<Arc<dyn SafetyProvider>, ConfigError> {
    let real = &c.cfg.providers.real;
    Ok(match c.mode(Kind::Moderation) {
        Mode::Real => {
            let settings = real.moderation.clone().ok_or_else(|| Ctx::unset(Kind::Moderation))?;
            Arc::new(OpenAiModeration::new(c.http.clone(), settings))
        }
        _ => match (&c.server, &c.in_process) {
            (Some(s), _) => Arc::new(OpenAiModeration::new(c.http.clone(), s.1.clone())),
            (_, Some(f)) => f.safety.clone(),
            _ => return Ctx::no_fake(Kind::Moderation),
        },
    })
}

fn video(c: &Ctx) -> Result<Arc<dyn VideoProvider>, ConfigError> {
    let real = &c.cfg.providers.real;
    Ok(match c.mode(Kind::Video) {
        Mode::Real => {
            real.video.as_ref().ok_or_else(|| Ctx::unset(Kind::Video))?.client(c.http.clone())
        }
        Mode::Fake => match (&c.server, &c.in_process) {
            (Some(s), _) => s.2.client(c.http.clone()),
            (_, Some(f)) => f.video.clone(),
            _ => return Ctx::no_fake(Kind::Video),
        },
        Mode::Off => Arc::new(Off::new("video", c.cfg.providers.video_adapter)),
    })
}

fn render(
    c: &Ctx,
    queued: Option<Arc<dyn RenderProvider>>,
) -> Result<Arc<dyn RenderProvider>, ConfigError> {
    let real = &c.cfg.providers.real;
    Ok(match (c.mode(Kind::Render), &real.ffmpeg_render) {
        (Mode::Real, _) if real.render_queue.is_some() => queued.ok_or(ConfigError::Invalid {
            var: ENV_RENDER_QUEUE,
            why: "the render queue is for the Lambda functions; to render in this process, \
                  unset it and keep MYLOWARE_RENDERER=ffmpeg"
                .into(),
        })?,
        (Mode::Real, Some((ffmpeg, settings))) => {
            if c.in_lambda {
                return Err(ConfigError::Invalid {
                    var: ENV_RENDERER,
                    why: "a Lambda function is frozen between events, so the built-in renderer \
                          runs there as the render function: set MYLOWARE_RENDER_QUEUE_URL"
                        .into(),
                });
            }
            let sink = Arc::new(HttpCallbackSink::new(&c.cfg.engine.webhook_base_url));
            let secret = c.cfg.remotion_signing_secret()?;
            Arc::new(
                FfmpegRender::new(ffmpeg.clone(), settings, secret, sink).map_err(|e| {
                    ConfigError::Invalid { var: ENV_RENDER_DIR, why: e.to_string() }
                })?,
            )
        }
        (Mode::Real, None) => Arc::new(
            real.render.as_ref().ok_or_else(|| Ctx::unset(Kind::Render))?.client(c.http.clone()),
        ),
        (Mode::Fake, _) => match (&c.server, &c.in_process) {
            (Some(s), _) => Arc::new(s.3.client(c.http.clone())),
            (_, Some(f)) => f.render.clone(),
            _ => return Ctx::no_fake(Kind::Render),
        },
        (Mode::Off, _) => Arc::new(Off::new("render", Provider::Remotion)),
    })
}

fn publish(c: &Ctx) -> Result<Arc<dyn PublishProvider>, ConfigError> {
    let real = &c.cfg.providers.real;
    Ok(match c.mode(Kind::Publish) {
        Mode::Real => {
            let settings = real.publish.clone().ok_or_else(|| Ctx::unset(Kind::Publish))?;
            Arc::new(UploadPost::new(c.http.clone(), settings))
        }
        Mode::Fake => match (&c.server, &c.in_process) {
            (Some(s), _) => Arc::new(UploadPost::new(c.http.clone(), s.4.clone())),
            (_, Some(f)) => f.publish.clone(),
            _ => return Ctx::no_fake(Kind::Publish),
        },
        Mode::Off => Arc::new(Off::new("publish", Provider::UploadPost)),
    })
}
