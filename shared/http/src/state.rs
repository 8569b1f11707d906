//! Shared handler state.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use myloware::Engine;
use myloware::domain::Provider;
use myloware::webhooks::{RemotionVerifier, StandardVerifier, WebhookSecret};

use crate::{ApiError, ApiKeys};

/// Where the webhook verifiers come from: fixed (env) or a secret store with a cache, so a
/// rotated secret lands without a redeploy. A failure to get secrets is a 500 (fail closed).
#[async_trait]
pub trait VerifierSource: Send + Sync {
    /// The Standard Webhooks verifier of a video provider (OpenAI-compatible, Replicate,
    /// Gemini); one without secrets refuses every delivery.
    async fn standard(&self, provider: Provider) -> Result<StandardVerifier, ApiError>;
    /// The Remotion verifier.
    async fn remotion(&self) -> Result<RemotionVerifier, ApiError>;
}

/// Fixed verifiers (secrets loaded once from the environment).
#[derive(Clone, Debug)]
pub struct WebhookSecrets {
    /// Per video provider (Standard Webhooks); a provider missing here has no secret.
    pub standard: BTreeMap<Provider, StandardVerifier>,
    /// Remotion.
    pub remotion: RemotionVerifier,
}

impl WebhookSecrets {
    /// Every video provider's callbacks verified with `secret`, and the renderer's with
    /// `remotion` (tests and the fakes).
    pub fn single(secret: WebhookSecret, remotion: WebhookSecret, tolerance_secs: i64) -> Self {
        let standard = Provider::VIDEO
            .into_iter()
            .map(|p| (p, StandardVerifier::new(vec![secret.clone()], tolerance_secs).of(p)))
            .collect();
        Self { standard, remotion: RemotionVerifier::new(vec![remotion], tolerance_secs) }
    }
}

#[async_trait]
impl VerifierSource for WebhookSecrets {
    async fn standard(&self, provider: Provider) -> Result<StandardVerifier, ApiError> {
        Ok(self
            .standard
            .get(&provider)
            .cloned()
            .unwrap_or_else(|| StandardVerifier::new(vec![], 0).of(provider)))
    }
    async fn remotion(&self) -> Result<RemotionVerifier, ApiError> {
        Ok(self.remotion.clone())
    }
}

/// How this process is set up, as `GET /health?deep=1` reports it (admin only): which
/// providers are real, fake or off, the video adapter and the stage. No secrets.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Setup {
    /// Mode of each kind of provider (`llm` → `real`, …).
    pub providers: BTreeMap<String, String>,
    /// The video adapter (`openai`, `replicate`, `gemini`).
    pub video_adapter: String,
    /// The deployment's stage.
    pub stage: String,
    /// Each real provider's base URL, by kind (`video` → `https://api.replicate.com`).
    pub endpoints: BTreeMap<String, String>,
}

/// Everything a handler needs.
#[derive(Clone)]
pub struct AppState {
    /// The engine.
    pub engine: Engine,
    /// Accepted API keys.
    pub api_keys: ApiKeys,
    /// Webhook verifiers.
    pub webhooks: Arc<dyn VerifierSource>,
    /// The step queue's DLQ, for the admin DLQ operations (absent: they answer 501).
    pub dlq: Option<Arc<dyn myloware::ports::DeadLetters>>,
    /// How the process is set up (deep health).
    pub setup: Arc<Setup>,
    /// Telegram button presses: what they are checked against (absent: refused).
    pub telegram: Option<Arc<TelegramInbound>>,
}

/// What a Telegram update must carry: the `secret_token` given to `setWebhook` (Telegram sends
/// it in `X-Telegram-Bot-Api-Secret-Token`), and the one chat whose presses decide.
pub struct TelegramInbound {
    secret_token: String,
    /// The chat.
    pub chat_id: String,
}

impl TelegramInbound {
    /// Presses from `chat_id`, carrying `secret_token`.
    pub fn new(secret_token: &str, chat_id: &str) -> Self {
        Self { secret_token: secret_token.to_owned(), chat_id: chat_id.to_owned() }
    }

    /// True when `given` is the secret token (constant time).
    pub fn token_ok(&self, given: &str) -> bool {
        use subtle::ConstantTimeEq;
        bool::from(self.secret_token.as_bytes().ct_eq(given.as_bytes()))
    }
}

impl AppState {
    /// The state for `engine`, its keys and webhook verifiers (no DLQ operations, an empty
    /// setup report).
    pub fn new(engine: Engine, api_keys: ApiKeys, webhooks: Arc<dyn VerifierSource>) -> Self {
        Self { engine, api_keys, webhooks, dlq: None, setup: Arc::default(), telegram: None }
    }

    /// The same state taking Telegram button presses checked against `inbound`.
    pub fn with_telegram(mut self, inbound: TelegramInbound) -> Self {
        self.telegram = Some(Arc::new(inbound));
        self
    }

    /// The same state reporting `setup` on deep health checks.
    pub fn with_setup(mut self, setup: Setup) -> Self {
        self.setup = Arc::new(setup);
        self
    }

    /// The same state with the DLQ operations enabled on `dlq`.
    pub fn with_dlq(mut self, dlq: Arc<dyn myloware::ports::DeadLetters>) -> Self {
        self.dlq = Some(dlq);
        self
    }
}
