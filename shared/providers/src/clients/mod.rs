//! Real provider clients (reqwest + rustls), one adapter per provider API. Transient failures
//! (timeouts, 429, 5xx) are `Retryable`; refusals (other 4xx, unusable answers) are `Terminal`.
//!
//! Which one runs is explicit: each kind of provider is `real`, `fake` or `off` ([`Modes`]),
//! and nothing here ever picks a fake because a setting is missing — the configuration refuses
//! to start instead (`myloware-runtime`).

mod chat;
mod ffmpeg_render;
mod gemini;
mod http;
mod judge;
mod media;
mod modes;
mod notify;
mod off;
mod openai_videos;
mod remotion;
mod replicate;
mod upload_post;

pub use chat::{ApiSettings, OpenAiChat, OpenAiModeration, request_schema};
pub use ffmpeg_render::{FfmpegRender, FfmpegRenderSettings, cut_job, send_callback};
pub use gemini::{Gemini, GeminiSettings, operation_status};
pub use http::{TIMEOUT as HTTP_TIMEOUT, client as plain_client};
pub use judge::OpenAiJudge;
pub use media::{Credential, MAX_MEDIA_BYTES, MediaFetcher, MediaPolicy, Origin, is_public};
pub use modes::{Kind, Mode, Modes};
pub use notify::{HttpNoticeSender, NOTICE_TIMEOUT};
pub use off::Off;
pub use openai_videos::{OpenAiVideoSettings, OpenAiVideos};
pub use remotion::RemotionRender;
pub use replicate::{
    MODEL_TABLE as REPLICATE_MODEL_TABLE, Replicate, ReplicateSettings, default_webhook_secret,
    input_template, render_input,
};
pub use upload_post::{PublishSettings, UploadPost, upload_status};

use std::sync::Arc;

use myloware::domain::Provider;
use myloware::ports::VideoProvider;

/// The video adapter to use, with its settings.
#[derive(Debug, Clone)]
pub enum VideoSettings {
    /// An OpenAI-compatible Videos API (a gateway).
    OpenAi(OpenAiVideoSettings),
    /// Replicate predictions.
    Replicate(ReplicateSettings),
    /// Veo through the Gemini API.
    Gemini(GeminiSettings),
}

impl VideoSettings {
    /// The provider the adapter speaks to.
    pub fn provider(&self) -> Provider {
        match self {
            VideoSettings::OpenAi(_) => Provider::OpenAi,
            VideoSettings::Replicate(_) => Provider::Replicate,
            VideoSettings::Gemini(_) => Provider::Gemini,
        }
    }

    /// The API's base URL.
    pub fn base(&self) -> &str {
        match self {
            VideoSettings::OpenAi(s) => &s.base,
            VideoSettings::Replicate(s) => &s.base,
            VideoSettings::Gemini(s) => &s.base,
        }
    }

    /// The adapter.
    pub fn client(&self, http: reqwest::Client) -> Arc<dyn VideoProvider> {
        match self.clone() {
            VideoSettings::OpenAi(s) => Arc::new(OpenAiVideos::new(http, s)),
            VideoSettings::Replicate(s) => Arc::new(Replicate::new(http, s)),
            VideoSettings::Gemini(s) => Arc::new(Gemini::new(http, s)),
        }
    }
}

/// The render service.
#[derive(Clone)]
pub struct RenderSettings {
    /// Base URL.
    pub base: String,
    /// API key.
    pub key: String,
    /// Origins its outputs may also come from (`MYLOWARE_RENDER_MEDIA_ORIGINS`).
    pub media_origins: Vec<String>,
}

impl std::fmt::Debug for RenderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderSettings").field("base", &self.base).finish_non_exhaustive()
    }
}

impl RenderSettings {
    /// The client.
    pub fn client(&self, http: reqwest::Client) -> RemotionRender {
        RemotionRender::new(http, self)
    }
}

/// Settings for the clients of a fake provider server at `base` (it speaks every adapter's
/// protocol): what `serve` and the demo use in fake mode, with `video` choosing the video
/// adapter and `webhook_base` where its callbacks go.
pub fn fake_server_settings(
    base: &str,
    video: Provider,
    webhook_base: &str,
) -> (ApiSettings, ApiSettings, VideoSettings, RenderSettings, PublishSettings) {
    let api = |model: &str| ApiSettings {
        base: base.to_owned(),
        key: "fake-key".into(),
        model: model.into(),
    };
    // The fake serves files from another host name than its API, as the providers do.
    let files = vec![base.replacen("127.0.0.1", "localhost", 1)];
    let video = match video {
        Provider::Replicate => VideoSettings::Replicate(ReplicateSettings {
            base: base.to_owned(),
            token: "fake-token".into(),
            model: "google/veo-3.1-fast".into(),
            version: None,
            input: input_template(REPLICATE_MODEL_TABLE, "google/veo-3.1-fast")
                .expect("the shipped table parses")
                .expect("the table has veo-3.1-fast"),
            webhook_url: format!("{webhook_base}/v1/webhooks/replicate"),
            media_origins: files.clone(),
        }),
        Provider::Gemini => VideoSettings::Gemini(GeminiSettings {
            base: base.to_owned(),
            key: "fake-key".into(),
            model: "veo-3.1-fast-generate-preview".into(),
            aspect_ratio: "9:16".into(),
            resolution: "720p".into(),
            webhooks: false,
            media_origins: files.clone(),
        }),
        _ => VideoSettings::OpenAi(OpenAiVideoSettings {
            base: base.to_owned(),
            key: "fake-key".into(),
            model: "sora-2".into(),
            size: "720x1280".into(),
            seconds_as_number: false,
            media_origins: files.clone(),
        }),
    };
    let render =
        RenderSettings { base: base.to_owned(), key: "fake-key".into(), media_origins: files };
    let publish = PublishSettings {
        base: base.to_owned(),
        key: "fake-key".into(),
        user: "myloware".into(),
        platforms: vec!["tiktok".into()],
    };
    (api("gpt-4o-mini"), api("omni-moderation-latest"), video, render, publish)
}

/// Every provider as a client of the fake provider server at `base` (tests, the demo).
pub fn fake_server_providers(
    base: &str,
    video: Provider,
    webhook_base: &str,
) -> myloware::engine::Providers {
    let http = plain_client();
    let (llm, moderation, video, render, publish) = fake_server_settings(base, video, webhook_base);
    myloware::engine::Providers {
        llm: Arc::new(OpenAiChat::new(http.clone(), llm)),
        safety: Arc::new(OpenAiModeration::new(http.clone(), moderation)),
        video: video.client(http.clone()),
        render: Arc::new(render.client(http.clone())),
        publish: Arc::new(UploadPost::new(http, publish)),
    }
}
