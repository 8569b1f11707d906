//! Runtime configuration from the environment: secrets, API keys, provider mode.

use std::time::Duration;

use myloware::config::{EngineConfig, env_list, env_num};
use myloware::webhooks::{RemotionVerifier, StandardVerifier, WebhookSecret};
use std::sync::Arc;

use myloware_aws::AwsClients;
use myloware_aws::secret_store::SecretRef;
use myloware_http::{ApiKeys, VerifierSource, WebhookSecrets};

use crate::secrets::{StoredVerifiers, parse_secret_list};
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
/// How long secrets read from a store are cached, seconds (300).
pub const ENV_SECRETS_TTL: &str = "MYLOWARE_SECRETS_TTL_SECS";
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
    /// Sora secrets in a store (`secretsmanager:<id>` or `ssm:<name>`), instead of literal ones.
    pub sora_secret_ref: Option<SecretRef>,
    /// Remotion secrets in a store.
    pub remotion_secret_ref: Option<SecretRef>,
    /// How long stored secrets are cached.
    pub secrets_ttl: Duration,
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

/// A secret setting: literal values, or a reference into a secret store.
fn secrets(var: &'static str) -> Result<(Vec<WebhookSecret>, Option<SecretRef>), ConfigError> {
    let raw = std::env::var(var).unwrap_or_default();
    match SecretRef::parse(raw.trim()) {
        SecretRef::Literal(v) => {
            let list = parse_secret_list(&v).map_err(|why| ConfigError::Secret { var, why })?;
            Ok((list, None))
        }
        stored => Ok((vec![], Some(stored))),
    }
}

impl RuntimeConfig {
    /// Read the environment. Missing secrets are allowed here (the webhook answers 500 for that
    /// provider: fail closed); malformed or empty ones are refused at start-up.
    pub fn from_env() -> Result<Self, ConfigError> {
        let (sora, remotion) = (secrets(ENV_SORA_SECRETS)?, secrets(ENV_REMOTION_SECRETS)?);
        Ok(Self {
            engine: EngineConfig::from_env()?,
            sora_secrets: sora.0,
            sora_secret_ref: sora.1,
            remotion_secrets: remotion.0,
            remotion_secret_ref: remotion.1,
            secrets_ttl: Duration::from_secs(env_num(ENV_SECRETS_TTL, 300)?),
            api_keys: env_list(ENV_API_KEYS),
            api_key_hashes: env_list(ENV_API_KEY_HASHES),
            webhook_tolerance_secs: env_num(ENV_WEBHOOK_TOLERANCE, 300)?,
            fake_callback_delay: Duration::from_millis(env_num(ENV_FAKE_CALLBACK_DELAY, 2000)?),
            endpoints: endpoints_from_env(),
        })
    }

    /// Where the webhook verifiers come from: the literal secrets, or a secret store read
    /// through `clients` (required then).
    pub fn verifier_source(
        &self,
        clients: Option<&AwsClients>,
    ) -> Result<Arc<dyn VerifierSource>, ConfigError> {
        if self.sora_secret_ref.is_none() && self.remotion_secret_ref.is_none() {
            return Ok(Arc::new(self.webhook_secrets()));
        }
        let clients = clients.ok_or(ConfigError::Secret {
            var: ENV_SORA_SECRETS,
            why: "secretsmanager:/ssm: references need the AWS backend".into(),
        })?;
        let pick = |r: &Option<SecretRef>, var: &'static str, have: &[WebhookSecret]| match r {
            Some(r) => Ok(r.clone()),
            None if have.is_empty() => Ok(SecretRef::Literal(String::new())),
            None => Err(ConfigError::Secret {
                var,
                why: "mixing a literal secret with a stored one is not supported; store both"
                    .into(),
            }),
        };
        Ok(StoredVerifiers::new(
            clients.clone(),
            pick(&self.sora_secret_ref, ENV_SORA_SECRETS, &self.sora_secrets)?,
            pick(&self.remotion_secret_ref, ENV_REMOTION_SECRETS, &self.remotion_secrets)?,
            self.webhook_tolerance_secs,
            self.secrets_ttl,
        ))
    }

    /// The webhook verifiers for literal secrets.
    pub fn webhook_secrets(&self) -> WebhookSecrets {
        WebhookSecrets {
            sora: StandardVerifier::new(self.sora_secrets.clone(), self.webhook_tolerance_secs),
            remotion: RemotionVerifier::new(
                self.remotion_secrets.clone(),
                self.webhook_tolerance_secs,
            ),
        }
    }

    /// `MYLOWARE_API_KEY_HASHES=secretsmanager:<id>` (or `ssm:<name>`): read the comma-separated
    /// digests from the store once, at start-up (a new key reaches containers as they start).
    pub async fn resolve_stored_api_key_hashes(
        &mut self,
        clients: &AwsClients,
    ) -> Result<(), ConfigError> {
        let [one] = self.api_key_hashes.as_slice() else { return Ok(()) };
        let stored = SecretRef::parse(one);
        if matches!(stored, SecretRef::Literal(_)) {
            return Ok(());
        }
        let value = stored
            .fetch(clients)
            .await
            .map_err(|why| ConfigError::Secret { var: ENV_API_KEY_HASHES, why })?;
        self.api_key_hashes = value
            .split([',', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(())
    }

    /// With the in-process fake providers and webhook secrets kept in a store, the fakes sign
    /// with the stored secrets (read once here), so the webhook function accepts what they send.
    pub async fn resolve_fake_signing_secrets(
        &mut self,
        clients: &AwsClients,
    ) -> Result<(), ConfigError> {
        if self.endpoints.is_some() {
            return Ok(());
        }
        let pairs = [
            (&self.sora_secret_ref, &mut self.sora_secrets, ENV_SORA_SECRETS),
            (&self.remotion_secret_ref, &mut self.remotion_secrets, ENV_REMOTION_SECRETS),
        ];
        for (stored, literal, var) in pairs {
            if let (Some(r), true) = (stored, literal.is_empty()) {
                let value =
                    r.fetch(clients).await.map_err(|why| ConfigError::Secret { var, why })?;
                *literal =
                    parse_secret_list(&value).map_err(|why| ConfigError::Secret { var, why })?;
            }
        }
        Ok(())
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
