//! Which providers run, read from the environment, failing closed: every kind is `real`, `fake`
//! or `off` (`MYLOWARE_PROVIDERS`), a `real` one without its URL, key or webhook secret stops the
//! process with one line naming the variable, and `fake` in a stage named production refuses to
//! start unless explicitly allowed. Nothing is chosen because something is unset.

use myloware::domain::Provider;
use myloware_media::Ffmpeg;
use myloware_providers::clients::{
    ApiSettings, FfmpegRenderSettings, GeminiSettings, Kind, Mode, Modes, OpenAiVideoSettings,
    PublishSettings, REPLICATE_MODEL_TABLE, RenderSettings, ReplicateSettings, VideoSettings,
    input_template,
};

use crate::ConfigError;

/// The modes (`MYLOWARE_PROVIDERS`).
pub const ENV_PROVIDERS: &str = "MYLOWARE_PROVIDERS";
/// The video adapter: `openai`, `replicate` or `gemini` (`MYLOWARE_VIDEO_ADAPTER`).
pub const ENV_VIDEO_ADAPTER: &str = "MYLOWARE_VIDEO_ADAPTER";
/// The deployment's stage (`MYLOWARE_STAGE`, `dev` by default).
pub const ENV_STAGE: &str = "MYLOWARE_STAGE";
/// Allows fakes in a production stage (`MYLOWARE_ALLOW_FAKE_PROVIDERS=true`).
pub const ENV_ALLOW_FAKES: &str = "MYLOWARE_ALLOW_FAKE_PROVIDERS";
/// Which real renderer: `service` (the render service's HTTP API) or `ffmpeg` (built in).
pub const ENV_RENDERER: &str = "MYLOWARE_RENDERER";
/// Where the built-in renderer keeps its jobs.
pub const ENV_RENDER_DIR: &str = "MYLOWARE_RENDER_DIR";
/// The render queue the render function consumes (the built-in renderer on AWS).
pub const ENV_RENDER_QUEUE: &str = "MYLOWARE_RENDER_QUEUE_URL";
/// One base URL for every provider API (the fake provider server as its own process).
pub const ENV_PROVIDER_BASE_URL: &str = "MYLOWARE_PROVIDER_BASE_URL";

/// The settings of the providers in `real` mode (absent for the others).
#[derive(Debug, Clone, Default)]
pub struct ProviderSettings {
    /// Chat completions for ideation.
    pub llm: Option<ApiSettings>,
    /// Moderation.
    pub moderation: Option<ApiSettings>,
    /// The video adapter.
    pub video: Option<VideoSettings>,
    /// The render service (`MYLOWARE_RENDERER=service`).
    pub render: Option<RenderSettings>,
    /// The built-in renderer in this process (`MYLOWARE_RENDERER=ffmpeg`).
    pub ffmpeg_render: Option<(Ffmpeg, FfmpegRenderSettings)>,
    /// The built-in renderer as the render function, through this queue
    /// (`MYLOWARE_RENDERER=ffmpeg` with `MYLOWARE_RENDER_QUEUE_URL`).
    pub render_queue: Option<String>,
    /// Upload-Post.
    pub publish: Option<PublishSettings>,
}

/// What runs where, and why it may.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// The mode of each kind.
    pub modes: Modes,
    /// Which video API (real or fake) the runs use.
    pub video_adapter: Provider,
    /// The stage, as configured.
    pub stage: String,
    /// Settings of the real ones.
    pub real: ProviderSettings,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A required variable of a `real` provider.
fn required(name: &'static str, kind: Kind) -> Result<String, ConfigError> {
    var(name).ok_or(ConfigError::Missing {
        var: name,
        why: format!("the {} provider is real (MYLOWARE_PROVIDERS)", kind.as_str()),
    })
}

/// A base URL: its own variable, else `MYLOWARE_PROVIDER_BASE_URL`, else the provider's public
/// API where there is one.
fn base(name: &'static str, kind: Kind, public: Option<&str>) -> Result<String, ConfigError> {
    var(name).or_else(|| var(ENV_PROVIDER_BASE_URL)).or(public.map(str::to_owned)).ok_or(
        ConfigError::Missing {
            var: name,
            why: format!("the {} provider is real and has no public default", kind.as_str()),
        },
    )
}

/// Origins the video adapter's media may also come from, trusted as written.
const VIDEO_ORIGINS: &str = "MYLOWARE_VIDEO_MEDIA_ORIGINS";

/// A comma-separated list of origins (`https://host[:port]`), each checked.
fn origins(name: &'static str) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = var(name) else { return Ok(vec![]) };
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| match myloware_providers::clients::Origin::parse(o) {
            Some(_) if o.starts_with("https://") || o.starts_with("http://") => Ok(o.to_owned()),
            _ => Err(ConfigError::Invalid {
                var: name,
                why: format!("{o:?} is not an origin (https://host[:port])"),
            }),
        })
        .collect()
}

/// Whether `MYLOWARE_RENDERER` says the built-in renderer.
fn builtin_renderer() -> Result<bool, ConfigError> {
    match var(ENV_RENDERER).as_deref() {
        None | Some("service") => Ok(false),
        Some("ffmpeg") => Ok(true),
        Some(other) => Err(ConfigError::Invalid {
            var: ENV_RENDERER,
            why: format!("{other:?}: say service (the render service's API) or ffmpeg (built in)"),
        }),
    }
}

/// The built-in renderer is real: asked for with render not real, it is refused.
fn real_renderer(modes: Modes) -> Result<(), ConfigError> {
    match modes.get(Kind::Render) {
        Mode::Real => Ok(()),
        other => Err(ConfigError::Invalid {
            var: ENV_RENDERER,
            why: format!(
                "ffmpeg is a real renderer but render is {} (MYLOWARE_PROVIDERS): say render=real",
                other.as_str()
            ),
        }),
    }
}

/// The built-in renderer when asked for: render must be real (it is a real renderer, never a
/// stand-in for a fake) and ffmpeg must be found, or the process does not start.
fn ffmpeg_renderer(modes: Modes) -> Result<Option<(Ffmpeg, FfmpegRenderSettings)>, ConfigError> {
    if !builtin_renderer()? {
        return Ok(None);
    }
    real_renderer(modes)?;
    let ffmpeg = Ffmpeg::locate().map_err(|e| ConfigError::Invalid {
        var: myloware_media::ENV_FFMPEG,
        why: format!("{ENV_RENDERER}=ffmpeg: {e}"),
    })?;
    let dir = var(ENV_RENDER_DIR)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("myloware-renders"));
    Ok(Some((ffmpeg, FfmpegRenderSettings { dir, concurrency: 1 })))
}

fn or(name: &str, default: &str) -> String {
    var(name).unwrap_or_else(|| default.to_owned())
}

impl ProviderConfig {
    /// Read and check the provider configuration; `webhook_base` is the public base URL the
    /// providers call back to.
    pub fn from_env(webhook_base: &str) -> Result<Self, ConfigError> {
        let raw = var(ENV_PROVIDERS).ok_or(ConfigError::Missing {
            var: ENV_PROVIDERS,
            why: "say real, fake or off for each provider, e.g. all=fake to try it locally, or \
                  llm=real,moderation=real,video=real,render=real,publish=real"
                .into(),
        })?;
        let modes =
            Modes::parse(&raw).map_err(|why| ConfigError::Invalid { var: ENV_PROVIDERS, why })?;
        let video_adapter = match var(ENV_VIDEO_ADAPTER) {
            None => Provider::OpenAi,
            Some(a) => a.parse::<Provider>().ok().filter(|p| Provider::VIDEO.contains(p)).ok_or(
                ConfigError::Invalid {
                    var: ENV_VIDEO_ADAPTER,
                    why: format!("{a:?}: say openai, replicate or gemini"),
                },
            )?,
        };
        let stage = or(ENV_STAGE, "dev");
        let production = matches!(stage.to_lowercase().as_str(), "prod" | "production");
        let fakes = modes.kinds_in(Mode::Fake);
        if production && !fakes.is_empty() && var(ENV_ALLOW_FAKES).as_deref() != Some("true") {
            let names: Vec<&str> = fakes.iter().map(|k| k.as_str()).collect();
            return Err(ConfigError::Invalid {
                var: ENV_PROVIDERS,
                why: format!(
                    "stage {stage:?} is production and {} would be fake; set {ENV_ALLOW_FAKES}=true \
                     if that is really meant",
                    names.join(", ")
                ),
            });
        }
        let real = |k| modes.get(k) == Mode::Real;
        let settings = ProviderSettings {
            llm: real(Kind::Llm).then(|| chat(Kind::Llm, "gpt-4o-mini")).transpose()?,
            moderation: real(Kind::Moderation)
                .then(|| chat(Kind::Moderation, "omni-moderation-latest"))
                .transpose()?,
            video: real(Kind::Video).then(|| video(video_adapter, webhook_base)).transpose()?,
            ffmpeg_render: match var(ENV_RENDER_QUEUE) {
                None => ffmpeg_renderer(modes)?,
                Some(_) => None,
            },
            render_queue: match var(ENV_RENDER_QUEUE) {
                Some(q) if builtin_renderer()? => {
                    real_renderer(modes)?;
                    Some(q)
                }
                _ => None,
            },
            render: (real(Kind::Render) && !builtin_renderer()?)
                .then(|| -> Result<_, ConfigError> {
                    Ok(RenderSettings {
                        base: base("MYLOWARE_RENDER_BASE_URL", Kind::Render, None)?,
                        key: required("MYLOWARE_RENDER_API_KEY", Kind::Render)?,
                        media_origins: origins("MYLOWARE_RENDER_MEDIA_ORIGINS")?,
                    })
                })
                .transpose()?,
            publish: real(Kind::Publish)
                .then(|| -> Result<_, ConfigError> {
                    Ok(PublishSettings {
                        base: base(
                            "MYLOWARE_UPLOAD_POST_BASE_URL",
                            Kind::Publish,
                            Some("https://api.upload-post.com"),
                        )?,
                        key: required("MYLOWARE_UPLOAD_POST_API_KEY", Kind::Publish)?,
                        user: required("MYLOWARE_UPLOAD_POST_USER", Kind::Publish)?,
                        platforms: or("MYLOWARE_UPLOAD_POST_PLATFORMS", "tiktok")
                            .split(',')
                            .map(|p| p.trim().to_owned())
                            .filter(|p| !p.is_empty())
                            .collect(),
                    })
                })
                .transpose()?,
        };
        Ok(Self { modes, video_adapter, stage, real: settings })
    }

    /// One line for the start-up log and `myloware config check`.
    pub fn summary(&self) -> String {
        format!(
            "providers {} (video adapter {}), stage {}",
            self.modes,
            self.video_adapter.as_str(),
            self.stage
        )
    }

    /// One line per kind of provider: its mode and, for a real one, where it is and which
    /// model (never a key). For `myloware config check`.
    pub fn describe(&self) -> Vec<String> {
        let r = &self.real;
        Kind::ALL
            .iter()
            .map(|k| {
                let what = match (self.modes.get(*k), k) {
                    (Mode::Off, _) => "off: a run that needs it fails (provider_off)".to_owned(),
                    (Mode::Fake, Kind::Video) => {
                        format!("fake, speaking the {} protocol", self.video_adapter.as_str())
                    }
                    (Mode::Fake, _) => "fake".to_owned(),
                    (Mode::Real, Kind::Llm) => format!("real, {:?}", r.llm),
                    (Mode::Real, Kind::Moderation) => format!("real, {:?}", r.moderation),
                    (Mode::Real, Kind::Video) => format!("real, {:?}", r.video),
                    (Mode::Real, Kind::Render) => match (&r.ffmpeg_render, &r.render_queue) {
                        (Some((ff, s)), _) => format!(
                            "real, built in: {} (jobs in {})",
                            ff.path().display(),
                            s.dir.display()
                        ),
                        (_, Some(q)) => format!("real, built in: the render function via {q}"),
                        _ => format!("real, {:?}", r.render),
                    },
                    (Mode::Real, Kind::Publish) => format!("real, {:?}", r.publish),
                };
                format!("{:<10} {what}", k.as_str())
            })
            .collect()
    }

    /// What deep health checks report.
    pub fn setup(&self) -> myloware_http::Setup {
        myloware_http::Setup {
            providers: Kind::ALL
                .iter()
                .map(|k| (k.as_str().to_owned(), self.modes.get(*k).as_str().to_owned()))
                .collect(),
            video_adapter: self.video_adapter.as_str().to_owned(),
            stage: self.stage.clone(),
            endpoints: self.endpoints(),
        }
    }

    /// The base URL of each real provider (deep health checks they can be reached).
    fn endpoints(&self) -> std::collections::BTreeMap<String, String> {
        let r = &self.real;
        [
            ("llm", r.llm.as_ref().map(|s| s.base.clone())),
            ("moderation", r.moderation.as_ref().map(|s| s.base.clone())),
            ("video", r.video.as_ref().map(|s| s.base().to_owned())),
            ("render", r.render.as_ref().map(|s| s.base.clone())),
            ("publish", r.publish.as_ref().map(|s| s.base.clone())),
        ]
        .into_iter()
        .filter_map(|(k, b)| b.map(|b| (k.to_owned(), b)))
        .collect()
    }

    /// The webhook secrets a provider kind needs, by the variable that holds them: a `real`
    /// provider that calls back needs its own to verify; a `fake` one signs with them.
    pub fn needed_secrets(&self) -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::new();
        if self.modes.get(Kind::Video) != Mode::Off {
            let calls_back = match (&self.real.video, self.video_adapter) {
                (Some(VideoSettings::Gemini(g)), _) => g.webhooks,
                (None, Provider::Gemini) => false,
                _ => true,
            };
            // A real Replicate account's secret can be read from Replicate instead.
            let fetchable = self.video_adapter == Provider::Replicate && self.real.video.is_some();
            if calls_back && !fetchable {
                out.push((video_secret_var(self.video_adapter), "the video provider's callbacks"));
            }
        }
        if self.modes.get(Kind::Render) != Mode::Off {
            out.push((crate::config::ENV_REMOTION_SECRETS, "the render service's callbacks"));
        }
        out
    }
}

/// The variable holding a video provider's webhook secrets.
pub fn video_secret_var(p: Provider) -> &'static str {
    match p {
        Provider::Replicate => "MYLOWARE_REPLICATE_WEBHOOK_SECRETS",
        Provider::Gemini => "MYLOWARE_GEMINI_WEBHOOK_SECRETS",
        _ => crate::config::ENV_OPENAI_SECRETS,
    }
}

/// An OpenAI-compatible API: the LLM's (`MYLOWARE_LLM_*`) or moderation's
/// (`MYLOWARE_MODERATION_*`), configured separately.
pub fn chat(kind: Kind, model: &str) -> Result<ApiSettings, ConfigError> {
    let (b, k, m) = match kind {
        Kind::Moderation => (
            "MYLOWARE_MODERATION_BASE_URL",
            "MYLOWARE_MODERATION_API_KEY",
            "MYLOWARE_MODERATION_MODEL",
        ),
        _ => ("MYLOWARE_LLM_BASE_URL", "MYLOWARE_LLM_API_KEY", "MYLOWARE_LLM_MODEL"),
    };
    Ok(ApiSettings {
        base: base(b, kind, Some("https://api.openai.com"))?,
        key: required(k, kind)?,
        model: or(m, model),
    })
}

fn video(adapter: Provider, webhook_base: &str) -> Result<VideoSettings, ConfigError> {
    let k = Kind::Video;
    Ok(match adapter {
        Provider::Replicate => {
            let model = required("MYLOWARE_REPLICATE_MODEL", k)?;
            let input = match var("MYLOWARE_REPLICATE_INPUT") {
                Some(raw) => serde_json::from_str(&raw).map_err(|e| ConfigError::Invalid {
                    var: "MYLOWARE_REPLICATE_INPUT",
                    why: format!("not a JSON object: {e}"),
                })?,
                None => input_template(REPLICATE_MODEL_TABLE, &model)
                    .map_err(|why| ConfigError::Invalid { var: "MYLOWARE_REPLICATE_MODEL", why })?
                    .ok_or(ConfigError::Invalid {
                        var: "MYLOWARE_REPLICATE_MODEL",
                        why: format!(
                            "{model:?} is not in config/replicate-models.toml: add it there, or \
                             give its input as JSON in MYLOWARE_REPLICATE_INPUT"
                        ),
                    })?,
            };
            VideoSettings::Replicate(ReplicateSettings {
                base: base("MYLOWARE_REPLICATE_BASE_URL", k, Some("https://api.replicate.com"))?,
                token: required("MYLOWARE_REPLICATE_API_TOKEN", k)?,
                model,
                version: var("MYLOWARE_REPLICATE_VERSION"),
                input,
                webhook_url: format!("{webhook_base}/v1/webhooks/replicate"),
                media_origins: origins(VIDEO_ORIGINS)?,
            })
        }
        Provider::Gemini => VideoSettings::Gemini(GeminiSettings {
            base: base(
                "MYLOWARE_GEMINI_BASE_URL",
                k,
                Some("https://generativelanguage.googleapis.com"),
            )?,
            key: required("MYLOWARE_GEMINI_API_KEY", k)?,
            model: or("MYLOWARE_GEMINI_MODEL", "veo-3.1-fast-generate-preview"),
            aspect_ratio: or("MYLOWARE_GEMINI_ASPECT_RATIO", "9:16"),
            resolution: or("MYLOWARE_GEMINI_RESOLUTION", "720p"),
            webhooks: var("MYLOWARE_GEMINI_WEBHOOKS").as_deref() == Some("true"),
            media_origins: origins(VIDEO_ORIGINS)?,
        }),
        _ => VideoSettings::OpenAi(OpenAiVideoSettings {
            // OpenAI's own Videos API is shut down: a gateway's URL and model are required.
            base: base("MYLOWARE_OPENAI_VIDEO_BASE_URL", k, None)?,
            key: required("MYLOWARE_OPENAI_VIDEO_API_KEY", k)?,
            model: required("MYLOWARE_OPENAI_VIDEO_MODEL", k)?,
            size: or("MYLOWARE_OPENAI_VIDEO_SIZE", "720x1280"),
            seconds_as_number: var("MYLOWARE_OPENAI_VIDEO_SECONDS_AS").as_deref() == Some("number"),
            media_origins: origins(VIDEO_ORIGINS)?,
        }),
    })
}
