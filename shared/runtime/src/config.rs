//! Runtime configuration from the environment: the engine's knobs, the providers (explicit
//! modes, failing closed: `provider_config.rs`), webhook secrets per provider, API keys.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use myloware::config::{EngineConfig, env_list, env_num};
use myloware::domain::Provider;
use myloware::webhooks::{RemotionVerifier, StandardVerifier, WebhookSecret};
use myloware_aws::AwsClients;
use myloware_aws::secret_store::SecretRef;
use myloware_http::{ApiKeys, VerifierSource, WebhookSecrets};
use myloware_providers::clients::{Kind, Mode, VideoSettings, default_webhook_secret};

use crate::notify_config::NotifyConfig;
use crate::provider_config::{ProviderConfig, video_secret_var};
use crate::secrets::{StoredVerifiers, parse_secret_list};

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
    /// A required setting is not set.
    #[error("{var} is not set: {why}")]
    Missing {
        /// The variable.
        var: &'static str,
        /// Who needs it.
        why: String,
    },
    /// A setting is set to something unusable.
    #[error("{var}: {why}")]
    Invalid {
        /// The variable.
        var: &'static str,
        /// What is wrong.
        why: String,
    },
    /// An engine setting is wrong.
    #[error(transparent)]
    Engine(#[from] myloware::config::ConfigError),
    /// A resource location is missing.
    #[error("{0}")]
    Resources(String),
}

/// Remotion webhook secrets (comma-separated; any verifies).
pub const ENV_REMOTION_SECRETS: &str = "MYLOWARE_REMOTION_WEBHOOK_SECRETS";
/// OpenAI-compatible video webhook secrets (comma-separated; any verifies).
pub const ENV_OPENAI_SECRETS: &str = "MYLOWARE_OPENAI_WEBHOOK_SECRETS";
/// API keys in plain text (comma-separated; `key:operator`, `key:admin` for scopes).
pub const ENV_API_KEYS: &str = "MYLOWARE_API_KEYS";
/// API keys as SHA-256 hex digests (comma-separated; `<hex>:operator`, `<hex>:admin`).
pub const ENV_API_KEY_HASHES: &str = "MYLOWARE_API_KEY_HASHES";
/// How long secrets read from a store are cached, seconds (300).
pub const ENV_SECRETS_TTL: &str = "MYLOWARE_SECRETS_TTL_SECS";
/// Tolerance of webhook timestamps, seconds (300).
pub const ENV_WEBHOOK_TOLERANCE: &str = "MYLOWARE_WEBHOOK_TOLERANCE_SECS";
/// Delay before the fake providers call back, milliseconds (2000).
pub const ENV_FAKE_CALLBACK_DELAY: &str = "MYLOWARE_FAKE_CALLBACK_DELAY_MS";

/// The secrets of one webhook: literal values, or a reference into a secret store.
#[derive(Clone, Default)]
pub struct SecretSetting {
    /// Literal secrets (rotation: any verifies).
    pub literal: Vec<WebhookSecret>,
    /// Where they are kept instead (`secretsmanager:<id>` or `ssm:<name>`).
    pub stored: Option<SecretRef>,
}

impl SecretSetting {
    pub(crate) fn from_env(var: &'static str) -> Result<Self, ConfigError> {
        let raw = std::env::var(var).unwrap_or_default();
        match SecretRef::parse(raw.trim()) {
            SecretRef::Literal(v) => {
                let literal =
                    parse_secret_list(&v).map_err(|why| ConfigError::Secret { var, why })?;
                Ok(Self { literal, stored: None })
            }
            stored => Ok(Self { literal: vec![], stored: Some(stored) }),
        }
    }

    /// True when neither literal nor stored secrets are set.
    pub fn is_empty(&self) -> bool {
        self.literal.is_empty() && self.stored.is_none()
    }
}

/// What the render function signs its callbacks with: the first of
/// `MYLOWARE_REMOTION_WEBHOOK_SECRETS`, read from its store when it names one.
pub async fn render_signing_secret(clients: &AwsClients) -> Result<WebhookSecret, ConfigError> {
    let var = ENV_REMOTION_SECRETS;
    let setting = SecretSetting::from_env(var)?;
    let list = match &setting.stored {
        Some(r) => {
            let raw = r.fetch(clients).await.map_err(|why| ConfigError::Secret { var, why })?;
            parse_secret_list(&raw).map_err(|why| ConfigError::Secret { var, why })?
        }
        None => setting.literal,
    };
    list.into_iter().next().ok_or(ConfigError::Missing {
        var,
        why: "the render function signs its callbacks with it".into(),
    })
}

/// Everything the binaries read from the environment. Its `Debug` hides keys and secrets.
#[derive(Clone)]
pub struct RuntimeConfig {
    /// Engine knobs.
    pub engine: EngineConfig,
    /// Which providers run, and the real ones' settings.
    pub providers: ProviderConfig,
    /// Webhook secrets of the video providers.
    pub video_secrets: BTreeMap<Provider, SecretSetting>,
    /// Webhook secrets of the render service.
    pub remotion_secrets: SecretSetting,
    /// How long stored secrets are cached.
    pub secrets_ttl: Duration,
    /// API keys in plain text (for development).
    pub api_keys: Vec<String>,
    /// API keys as SHA-256 digests.
    pub api_key_hashes: Vec<String>,
    /// Webhook timestamp tolerance.
    pub webhook_tolerance_secs: i64,
    /// Fake provider callback delay.
    pub fake_callback_delay: Duration,
    /// Where notifications about runs go.
    pub notify: NotifyConfig,
}

impl RuntimeConfig {
    /// Read the environment and check it: a provider in `real` mode without what it needs, or a
    /// webhook secret a provider needs, stops here with the variable's name. Malformed or empty
    /// secrets are refused too.
    pub fn from_env() -> Result<Self, ConfigError> {
        let engine = EngineConfig::from_env()?;
        let providers = ProviderConfig::from_env(&engine.webhook_base_url)?;
        let mut video_secrets = BTreeMap::new();
        for p in Provider::VIDEO {
            video_secrets.insert(p, SecretSetting::from_env(video_secret_var(p))?);
        }
        let cfg = Self {
            engine,
            providers,
            video_secrets,
            remotion_secrets: SecretSetting::from_env(ENV_REMOTION_SECRETS)?,
            secrets_ttl: Duration::from_secs(env_num(ENV_SECRETS_TTL, 300)?),
            api_keys: env_list(ENV_API_KEYS),
            api_key_hashes: env_list(ENV_API_KEY_HASHES),
            webhook_tolerance_secs: env_num(ENV_WEBHOOK_TOLERANCE, 300)?,
            fake_callback_delay: Duration::from_millis(env_num(ENV_FAKE_CALLBACK_DELAY, 2000)?),
            notify: NotifyConfig::from_env()?,
        };
        cfg.check_secrets()?;
        Ok(cfg)
    }

    /// A configuration with every provider `fake` (the demo, tests): no keys, no secrets yet.
    pub fn all_fake(engine: EngineConfig) -> Self {
        use myloware_providers::clients::Modes;
        Self {
            engine,
            providers: ProviderConfig {
                modes: Modes::all(Mode::Fake),
                video_adapter: Provider::OpenAi,
                stage: "dev".into(),
                real: Default::default(),
            },
            video_secrets: Provider::VIDEO
                .into_iter()
                .map(|p| (p, SecretSetting::default()))
                .collect(),
            remotion_secrets: SecretSetting::default(),
            secrets_ttl: Duration::from_secs(300),
            api_keys: vec![],
            api_key_hashes: vec![],
            webhook_tolerance_secs: 300,
            fake_callback_delay: Duration::from_millis(2000),
            notify: NotifyConfig::default(),
        }
    }

    /// Use these literal secrets for `provider`'s callbacks (`Remotion` for the renderer's).
    pub fn set_secret(&mut self, provider: Provider, secret: WebhookSecret) {
        let setting = match provider {
            Provider::Remotion => &mut self.remotion_secrets,
            p => self.video_secrets.entry(p).or_default(),
        };
        *setting = SecretSetting { literal: vec![secret], stored: None };
    }

    /// Every webhook secret the configured providers need is set (literally or by reference).
    pub fn check_secrets(&self) -> Result<(), ConfigError> {
        for (var, who) in self.providers.needed_secrets() {
            let setting = if var == ENV_REMOTION_SECRETS {
                &self.remotion_secrets
            } else {
                &self.video_secrets[&self.providers.video_adapter]
            };
            if setting.is_empty() {
                return Err(ConfigError::Missing { var, why: format!("{who} are signed with it") });
            }
        }
        Ok(())
    }

    /// The first literal secret of the configured video provider, for a fake to sign with.
    pub fn video_signing_secret(&self) -> Result<WebhookSecret, ConfigError> {
        let p = self.providers.video_adapter;
        self.video_secrets[&p].literal.first().cloned().ok_or(ConfigError::Missing {
            var: video_secret_var(p),
            why: "the fake video provider signs its callbacks with it".into(),
        })
    }

    /// The first literal render secret, for a fake to sign with.
    pub fn remotion_signing_secret(&self) -> Result<WebhookSecret, ConfigError> {
        self.remotion_secrets.literal.first().cloned().ok_or(ConfigError::Missing {
            var: ENV_REMOTION_SECRETS,
            why: "the fake or built-in renderer signs its callbacks with it".into(),
        })
    }

    /// Where the webhook verifiers come from: the literal secrets, or a secret store read
    /// through `clients` (required then).
    pub fn verifier_source(
        &self,
        clients: Option<&AwsClients>,
    ) -> Result<Arc<dyn VerifierSource>, ConfigError> {
        let all = self.video_secrets.values().chain(std::iter::once(&self.remotion_secrets));
        if all.clone().all(|s| s.stored.is_none()) {
            return Ok(Arc::new(self.webhook_secrets()));
        }
        let clients = clients.ok_or(ConfigError::Secret {
            var: ENV_OPENAI_SECRETS,
            why: "secretsmanager:/ssm: references need the AWS backend".into(),
        })?;
        // A stored secret stays the source of truth (its literal copy, read at start-up for a
        // fake to sign with, would miss a rotation); a literal one is used as it is.
        let as_ref = |s: &SecretSetting| match &s.stored {
            Some(r) => r.clone(),
            None if s.literal.is_empty() => SecretRef::Literal(String::new()),
            None => SecretRef::Literal(
                s.literal.iter().map(|w| w.to_whsec()).collect::<Vec<_>>().join(","),
            ),
        };
        Ok(StoredVerifiers::new(
            clients.clone(),
            self.video_secrets.iter().map(|(p, s)| (*p, as_ref(s))).collect(),
            as_ref(&self.remotion_secrets),
            self.webhook_tolerance_secs,
            self.secrets_ttl,
        ))
    }

    /// The webhook verifiers for literal secrets.
    pub fn webhook_secrets(&self) -> WebhookSecrets {
        let tol = self.webhook_tolerance_secs;
        WebhookSecrets {
            standard: self
                .video_secrets
                .iter()
                .map(|(p, s)| (*p, StandardVerifier::new(s.literal.clone(), tol).of(*p)))
                .collect(),
            remotion: RemotionVerifier::new(self.remotion_secrets.literal.clone(), tol),
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

    /// With fake providers in this process and webhook secrets kept in a store, the fakes sign
    /// with the stored secrets (read once here), so the webhook function accepts what they send.
    pub async fn resolve_fake_signing_secrets(
        &mut self,
        clients: &AwsClients,
    ) -> Result<(), ConfigError> {
        let fake = |k| self.providers.modes.get(k) == Mode::Fake;
        let (video, render) = (fake(Kind::Video), fake(Kind::Render));
        let adapter = self.providers.video_adapter;
        for (setting, var, wanted) in [
            (
                self.video_secrets.get_mut(&adapter).expect("every video provider"),
                video_secret_var(adapter),
                video,
            ),
            (&mut self.remotion_secrets, ENV_REMOTION_SECRETS, render),
        ] {
            if let (Some(r), true, true) = (&setting.stored, setting.literal.is_empty(), wanted) {
                let value =
                    r.fetch(clients).await.map_err(|why| ConfigError::Secret { var, why })?;
                setting.literal =
                    parse_secret_list(&value).map_err(|why| ConfigError::Secret { var, why })?;
            }
        }
        Ok(())
    }

    /// A real Replicate account whose webhook secret is not configured: read it from Replicate
    /// (`GET /v1/webhooks/default/secret`) once, at start-up; failing that, refuse to start.
    pub async fn resolve_replicate_secret(&mut self) -> Result<(), ConfigError> {
        let Some(VideoSettings::Replicate(r)) = &self.providers.real.video else { return Ok(()) };
        let setting =
            self.video_secrets.get_mut(&Provider::Replicate).expect("every video provider");
        if !setting.is_empty() {
            return Ok(());
        }
        let var = video_secret_var(Provider::Replicate);
        let http = myloware_providers::clients::plain_client();
        let key = default_webhook_secret(&http, &r.base, &r.token).await.map_err(|e| {
            ConfigError::Missing { var, why: format!("and reading it from Replicate failed: {e}") }
        })?;
        setting.literal =
            parse_secret_list(&key).map_err(|why| ConfigError::Secret { var, why })?;
        Ok(())
    }

    /// The API keys (plain and hashed).
    pub fn api_keys(&self) -> Result<ApiKeys, ConfigError> {
        ApiKeys::parse_plain(&self.api_keys)
            .map_err(|why| ConfigError::Secret { var: ENV_API_KEYS, why })?
            .with_hashes(&self.api_key_hashes)
            .map_err(|why| ConfigError::Secret { var: ENV_API_KEY_HASHES, why })
    }
}

impl std::fmt::Debug for RuntimeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let counts: BTreeMap<&str, usize> =
            self.video_secrets.iter().map(|(p, s)| (p.as_str(), s.literal.len())).collect();
        f.debug_struct("RuntimeConfig")
            .field("engine", &self.engine)
            .field("providers", &self.providers)
            .field("video_secrets", &counts)
            .field("remotion_secrets", &self.remotion_secrets.literal.len())
            .field("api_keys", &(self.api_keys.len() + self.api_key_hashes.len()))
            .field("webhook_tolerance_secs", &self.webhook_tolerance_secs)
            .field("fake_callback_delay", &self.fake_callback_delay)
            .field("notify_endpoints", &self.notify.endpoints.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A function whose fake signs with a stored secret reads it at start-up; the verifiers
    /// still read the store (so a rotation lands), and the two together are not a conflict.
    #[tokio::test]
    async fn a_stored_secret_read_for_a_fake_to_sign_with_still_verifies_from_the_store() {
        let mut cfg = RuntimeConfig::all_fake(EngineConfig::default());
        let stored = SecretRef::parse("secretsmanager:myloware/webhooks/openai");
        let setting = cfg.video_secrets.get_mut(&Provider::OpenAi).unwrap();
        setting.stored = Some(stored);
        setting.literal = parse_secret_list("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        cfg.set_secret(Provider::Remotion, WebhookSecret::parse("render").unwrap());
        assert!(cfg.verifier_source(None).is_err(), "a store needs the AWS backend");
        let clients = AwsClients::from_env().await;
        assert!(cfg.verifier_source(Some(&clients)).is_ok());
        assert_eq!(
            cfg.video_signing_secret().unwrap().to_whsec(),
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        );
    }
}
