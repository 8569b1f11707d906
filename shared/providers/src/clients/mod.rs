//! Real provider clients (reqwest + rustls). Transient failures (timeouts, 429, 5xx) are
//! `Retryable`; refusals (other 4xx, unusable answers) are `Terminal`.

mod http;
mod openai;
mod remotion;
mod upload_post;

pub use http::{TIMEOUT as HTTP_TIMEOUT, client as plain_client};
pub use openai::{OpenAiLlm, OpenAiModeration, OpenAiVideo};
pub use remotion::RemotionRender;
pub use upload_post::UploadPost;

use std::sync::Arc;

use myloware::engine::Providers;

/// Where the providers are and how to authenticate.
#[derive(Clone)]
pub struct Endpoints {
    /// OpenAI-style API base (chat completions, videos).
    pub openai_base: String,
    /// Its API key.
    pub openai_key: String,
    /// Remotion-style render service base.
    pub remotion_base: String,
    /// Its API key.
    pub remotion_key: String,
    /// Upload-Post-style API base.
    pub upload_post_base: String,
    /// Its API key.
    pub upload_post_key: String,
}

impl std::fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoints")
            .field("openai_base", &self.openai_base)
            .field("remotion_base", &self.remotion_base)
            .field("upload_post_base", &self.upload_post_base)
            .finish_non_exhaustive()
    }
}

impl Endpoints {
    /// Every provider at one base URL (the fake provider server) with one key.
    pub fn all_at(base: &str, key: &str) -> Self {
        Self {
            openai_base: base.to_owned(),
            openai_key: key.to_owned(),
            remotion_base: base.to_owned(),
            remotion_key: key.to_owned(),
            upload_post_base: base.to_owned(),
            upload_post_key: key.to_owned(),
        }
    }

    /// The engine's providers over HTTP (safety through the moderation endpoint).
    pub fn providers(&self) -> Providers {
        let client = http::client();
        Providers {
            llm: Arc::new(OpenAiLlm::new(client.clone(), &self.openai_base, &self.openai_key)),
            safety: Arc::new(OpenAiModeration::new(
                client.clone(),
                &self.openai_base,
                &self.openai_key,
            )),
            video: Arc::new(OpenAiVideo::new(client.clone(), &self.openai_base, &self.openai_key)),
            render: Arc::new(RemotionRender::new(
                client.clone(),
                &self.remotion_base,
                &self.remotion_key,
            )),
            publish: Arc::new(UploadPost::new(
                client,
                &self.upload_post_base,
                &self.upload_post_key,
            )),
        }
    }
}
