//! Runtime configuration from the environment: secrets, API keys, provider mode.

use std::time::Duration;

use myloware::config::{EngineConfig, env_list, env_num};
use myloware::webhooks::{RemotionVerifier, StandardVerifier, WebhookSecret};
use myloware_http::{ApiKeys, WebhookSecrets};
use myloware_providers::clients::Endpoints;

/// A configuration problem, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A webhook secret is unusable.
    #[error(
        "{var}: {why} (set a whsec_… or raw secret; an empty secret would make signatures forgeable)"
    )]
    Secret {
        /// The variable.
        var: &'static str,
        /// Why.
        why: String,
    },
    /// An engine setting is wrong.
    #[error(transparent)]
    Engine(#[from] myloware::config::ConfigError),
    /// A resource location is missing.
    #[error("{0}")]
    Resources(String),
}

/// Sora webhook secrets (comma-separated; any verifies).
pub const ENV_SORA_SECRETS: &str = "MYLOWARE_SORA_WEBHOOK_SECRETS";
/// Remotion webhook secrets (comma-separated; any verifies).
pub const ENV_REMOTION_SECRETS: &str = "MYLOWARE_REMOTION_WEBHOOK_SECRETS";
/// API keys in plain text (comma-separated; `key:admin` for the admin scope).
pub const ENV_API_KEYS: &str = "MYLOWARE_API_KEYS";
/// API keys as SHA-256 hex digests (comma-separated; `<hex>:admin` for the admin scope).
pub const ENV_API_KEY_HASHES: &str = "MYLOWARE_API_KEY_HASHES";
/// Tolerance of webhook timestamps, seconds (300).
pub const ENV_WEBHOOK_TOLERANCE: &str = "MYLOWARE_WEBHOOK_TOLERANCE_SECS";
/// Delay before the fake providers call back, milliseconds (2000).
pub const ENV_FAKE_CALLBACK_DELAY: &str = "MYLOWARE_FAKE_CALLBACK_DELAY_MS";

/// Everything the binaries read from the environment. Its `Debug` hides the API keys.
#[derive(Clone)]
pub struct RuntimeConfig {
    /// Engine knobs.
    pub engine: EngineConfig,
    /// Sora secrets.
    pub sora_secrets: Vec<WebhookSecret>,
    /// Remotion secrets.
    pub remotion_secrets: Vec<WebhookSecret>,
    /// API keys in plain text (`key` or `key:admin`; for development).
    pub api_keys: Vec<String>,
    /// API keys as SHA-256 digests (`<hex>` or `<hex>:admin`).
    pub api_key_hashes: Vec<String>,
    /// Webhook timestamp tolerance.
    pub webhook_tolerance_secs: i64,
    /// Fake provider callback delay.
    pub fake_callback_delay: Duration,
    /// Provider APIs over HTTP; `None` → the in-process fakes.
    pub endpoints: Option<Endpoints>,
}

/// Base URL of every provider API at once (the fake provider server).
pub const ENV_PROVIDER_BASE_URL: &str = "MYLOWARE_PROVIDER_BASE_URL";

fn endpoints_from_env() -> Option<Endpoints> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let all = var(ENV_PROVIDER_BASE_URL);
    let openai = var("MYLOWARE_OPENAI_BASE_URL").or(all.clone())?;
    let key = |k: &str| var(k).unwrap_or_else(|| "fake-key".into());
    Some(Endpoints {
        openai_base: openai,
        openai_key: key("MYLOWARE_OPENAI_API_KEY"),
        remotion_base: var("MYLOWARE_REMOTION_BASE_URL").or(all.clone())?,
        remotion_key: key("MYLOWARE_REMOTION_API_KEY"),
        upload_post_base: var("MYLOWARE_UPLOAD_POST_BASE_URL").or(all)?,
        upload_post_key: key("MYLOWARE_UPLOAD_POST_API_KEY"),
    })
}

fn secrets(var: &'static str) -> Result<Vec<WebhookSecret>, ConfigError> {
    let raw = std::env::var(var).unwrap_or_default();
    if raw.split(',').any(|p| p.trim().is_empty()) && !raw.trim().is_empty() {
        return Err(ConfigError::Secret { var, why: "contains an empty entry".into() });
    }
    env_list(var)
        .iter()
        .map(|s| {
            WebhookSecret::parse(s).map_err(|e| ConfigError::Secret { var, why: e.to_string() })
        })
        .collect()
}

impl RuntimeConfig {
    /// Read the environment. Missing secrets are allowed here (the webhook answers 500 for that
    /// provider: fail closed); malformed or empty ones are refused at start-up.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            engine: EngineConfig::from_env()?,
            sora_secrets: secrets(ENV_SORA_SECRETS)?,
            remotion_secrets: secrets(ENV_REMOTION_SECRETS)?,
            api_keys: env_list(ENV_API_KEYS),
            api_key_hashes: env_list(ENV_API_KEY_HASHES),
            webhook_tolerance_secs: env_num(ENV_WEBHOOK_TOLERANCE, 300)?,
            fake_callback_delay: Duration::from_millis(env_num(ENV_FAKE_CALLBACK_DELAY, 2000)?),
            endpoints: endpoints_from_env(),
        })
    }

    /// The webhook verifiers.
    pub fn webhook_secrets(&self) -> WebhookSecrets {
        WebhookSecrets {
            sora: StandardVerifier::new(self.sora_secrets.clone(), self.webhook_tolerance_secs),
            remotion: RemotionVerifier::new(
                self.remotion_secrets.clone(),
                self.webhook_tolerance_secs,
            ),
        }
    }

    /// The API keys (plain and hashed).
    pub fn api_keys(&self) -> Result<ApiKeys, ConfigError> {
        ApiKeys::new(&self.api_keys)
            .with_hashes(&self.api_key_hashes)
            .map_err(|why| ConfigError::Secret { var: ENV_API_KEY_HASHES, why })
    }
}

impl std::fmt::Debug for RuntimeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeConfig")
            .field("engine", &self.engine)
            .field("sora_secrets", &self.sora_secrets.len())
            .field("remotion_secrets", &self.remotion_secrets.len())
            .field("api_keys", &(self.api_keys.len() + self.api_key_hashes.len()))
            .field("webhook_tolerance_secs", &self.webhook_tolerance_secs)
            .field("fake_callback_delay", &self.fake_callback_delay)
            .field("endpoints", &self.endpoints)
            .finish()
    }
}
