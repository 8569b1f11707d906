//! Notification settings from the environment: where events about runs go, what they are
//! signed with, how often a failing endpoint is tried, and the console's public address.

use std::sync::Arc;
use std::time::Duration;

use myloware::config::{env_list, env_num};
use myloware::engine::{Endpoint, MAX_NOTICE_DELAY, Notifications};
use myloware::ports::NoticeSender;
use myloware_aws::AwsClients;
use myloware_aws::secret_store::SecretRef;

use crate::config::{ConfigError, SecretSetting};
use crate::secrets::{parse_secret_list, read_secret, unresolved};

/// Endpoints, comma-separated: `name=https://…` or a bare URL (named by its host).
pub const ENV_NOTIFY_URLS: &str = "MYLOWARE_NOTIFY_URLS";
/// Our signing secret (`whsec_…`, or `secretsmanager:<id>` / `ssm:<name>`); required with
/// endpoints: nothing goes out unsigned.
pub const ENV_NOTIFY_SECRET: &str = "MYLOWARE_NOTIFY_SECRET";
/// Attempts per event and endpoint (8).
pub const ENV_NOTIFY_MAX_ATTEMPTS: &str = "MYLOWARE_NOTIFY_MAX_ATTEMPTS";
/// First retry delay ceiling, milliseconds; it doubles per attempt up to 15 minutes (5000).
pub const ENV_NOTIFY_RETRY_BASE_MS: &str = "MYLOWARE_NOTIFY_RETRY_BASE_MS";
/// Public base URL of the review console (links in events and in the demo).
pub const ENV_CONSOLE_URL: &str = "MYLOWARE_CONSOLE_URL";
/// A Telegram bot's token (from @BotFather; or `secretsmanager:<id>` / `ssm:<name>`): the chat
/// below is messaged too, with decision buttons at a gate.
pub const ENV_TELEGRAM_BOT_TOKEN: &str = "MYLOWARE_TELEGRAM_BOT_TOKEN";
/// The chat the bot messages and the only one whose button presses decide (a number or
/// `@channel`).
pub const ENV_TELEGRAM_CHAT_ID: &str = "MYLOWARE_TELEGRAM_CHAT_ID";
/// The `secret_token` given to `setWebhook`: Telegram sends it with every update, and presses
/// without it are refused (required with a bot token).
pub const ENV_TELEGRAM_SECRET_TOKEN: &str = "MYLOWARE_TELEGRAM_SECRET_TOKEN";
/// The Bot API's base URL (`https://api.telegram.org`; a fake's, in tests).
pub const ENV_TELEGRAM_API_URL: &str = "MYLOWARE_TELEGRAM_API_URL";

/// Telegram settings.
#[derive(Clone)]
pub struct TelegramConfig {
    /// The bot token, or where it is kept (read at start-up).
    pub token: SecretRef,
    /// The chat.
    pub chat_id: String,
    /// The webhook's `secret_token`, or where it is kept (read at start-up).
    pub secret_token: SecretRef,
    /// The Bot API's base URL.
    pub api_url: String,
}

impl TelegramConfig {
    fn from_env() -> Result<Option<Self>, ConfigError> {
        let raw = std::env::var(ENV_TELEGRAM_BOT_TOKEN).unwrap_or_default();
        if raw.trim().is_empty() {
            return Ok(None);
        }
        let need = |var: &'static str, why: &str| -> Result<String, ConfigError> {
            let v = std::env::var(var).unwrap_or_default().trim().to_owned();
            if v.is_empty() {
                return Err(ConfigError::Missing { var, why: why.into() });
            }
            Ok(v)
        };
        let chat_id = need(ENV_TELEGRAM_CHAT_ID, "the bot messages that chat")?;
        let secret_token = SecretRef::parse(&need(
            ENV_TELEGRAM_SECRET_TOKEN,
            "button presses are refused without it (give it to setWebhook as secret_token)",
        )?);
        if let SecretRef::Literal(v) = &secret_token {
            check_secret_token(v)?;
        }
        let api_url = std::env::var(ENV_TELEGRAM_API_URL)
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "https://api.telegram.org".into());
        Ok(Some(Self { token: SecretRef::parse(raw.trim()), chat_id, secret_token, api_url }))
    }

    /// What the webhook checks a button press against (`None` until a stored token was read).
    pub fn inbound(&self) -> Option<myloware_http::TelegramInbound> {
        let SecretRef::Literal(token) = &self.secret_token else { return None };
        Some(myloware_http::TelegramInbound::new(token, &self.chat_id))
    }
}

/// Telegram's rule for a webhook `secret_token`, and 16 characters at least so it cannot be
/// guessed.
fn check_secret_token(v: &str) -> Result<(), ConfigError> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-');
    if v.len() < 16 || v.len() > 256 || !v.chars().all(ok) {
        let why =
            "16 to 256 of A-Z, a-z, 0-9, _ and - (Telegram's rule; 16 so it cannot be guessed)";
        return Err(ConfigError::Invalid { var: ENV_TELEGRAM_SECRET_TOKEN, why: why.into() });
    }
    Ok(())
}

/// Notification settings.
#[derive(Clone, Default)]
pub struct NotifyConfig {
    /// The endpoints.
    pub endpoints: Vec<Endpoint>,
    /// The signing secret (first literal one signs).
    pub secret: SecretSetting,
    /// Attempts per event and endpoint.
    pub max_attempts: u32,
    /// First retry delay ceiling.
    pub retry_base: Duration,
    /// The console's public base URL.
    pub console_url: Option<String>,
    /// A Telegram chat to message, when configured.
    pub telegram: Option<TelegramConfig>,
}

impl NotifyConfig {
    /// Read and check the settings: endpoints need a secret, attempts at least one.
    pub fn from_env() -> Result<Self, ConfigError> {
        let var = ENV_NOTIFY_URLS;
        let endpoints = env_list(var)
            .iter()
            .map(|e| {
                let (name, url) = match e.split_once('=') {
                    Some((n, u)) if !n.contains(':') => (Some(n.trim()), u.trim()),
                    _ => (None, e.as_str()),
                };
                Endpoint::parse(name, url).map_err(|why| ConfigError::Invalid { var, why })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut names: Vec<&str> = endpoints.iter().map(Endpoint::name).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            let why = format!("two endpoints are named {:?}; name them (name=url)", w[0]);
            return Err(ConfigError::Invalid { var, why });
        }
        let secret = SecretSetting::from_env(ENV_NOTIFY_SECRET)?;
        if !endpoints.is_empty() && secret.is_empty() {
            return Err(ConfigError::Missing {
                var: ENV_NOTIFY_SECRET,
                why: format!("{var} is set, and notifications are always signed"),
            });
        }
        let max_attempts = env_num(ENV_NOTIFY_MAX_ATTEMPTS, 8)?;
        if max_attempts == 0 {
            let why = "at least 1".to_owned();
            return Err(ConfigError::Invalid { var: ENV_NOTIFY_MAX_ATTEMPTS, why });
        }
        let console_url = std::env::var(ENV_CONSOLE_URL).ok().filter(|s| !s.trim().is_empty());
        let telegram = TelegramConfig::from_env()?;
        if let Some(t) = &telegram {
            // Check what can be checked before start-up ends (a stored token is read later).
            let token = match &t.token {
                SecretRef::Literal(v) => v.as_str(),
                _ => "1:checked-when-read",
            };
            Endpoint::telegram(&t.api_url, token, &t.chat_id)
                .map_err(|why| ConfigError::Invalid { var: ENV_TELEGRAM_BOT_TOKEN, why })?;
        }
        Ok(Self {
            endpoints,
            secret,
            max_attempts,
            retry_base: Duration::from_millis(env_num(ENV_NOTIFY_RETRY_BASE_MS, 5000)?),
            console_url,
            telegram,
        })
    }

    /// Secrets kept in a store (the signing secret, the bot token) are read once, at start-up
    /// (like the API key digests), and only when they are used.
    pub async fn resolve_secret(&mut self, clients: &AwsClients) -> Result<(), ConfigError> {
        let var = ENV_NOTIFY_SECRET;
        let unread = self.secret.literal.is_empty() && !self.endpoints.is_empty();
        if let (Some(r), true) = (&self.secret.stored, unread) {
            let raw = read_secret(r, Some(clients), var).await?;
            self.secret.literal =
                parse_secret_list(&raw).map_err(|why| ConfigError::Secret { var, why })?;
        }
        if let Some(t) = self.telegram.as_mut() {
            for (r, var) in [
                (&mut t.token, ENV_TELEGRAM_BOT_TOKEN),
                (&mut t.secret_token, ENV_TELEGRAM_SECRET_TOKEN),
            ] {
                *r =
                    SecretRef::Literal(read_secret(r, Some(clients), var).await?.trim().to_owned());
            }
            if let SecretRef::Literal(v) = &t.secret_token {
                check_secret_token(v)?;
            }
        }
        Ok(())
    }

    /// The engine's notifications, sent through `sender` (`None` without endpoints).
    pub fn build(
        &self,
        sender: Arc<dyn NoticeSender>,
    ) -> Result<Option<Arc<Notifications>>, ConfigError> {
        let mut endpoints = self.endpoints.clone();
        if let Some(t) = &self.telegram {
            let var = ENV_TELEGRAM_BOT_TOKEN;
            let SecretRef::Literal(token) = &t.token else { return Err(unresolved(var)) };
            let endpoint = Endpoint::telegram(&t.api_url, token, &t.chat_id)
                .map_err(|why| ConfigError::Invalid { var, why })?;
            endpoints.push(endpoint);
        }
        if endpoints.is_empty() {
            return Ok(None);
        }
        let secret = self.secret.literal.first().cloned();
        if secret.is_none() && !self.endpoints.is_empty() {
            return Err(unresolved(ENV_NOTIFY_SECRET));
        }
        let retry = myloware::engine::RetryPolicy {
            max_attempts: self.max_attempts,
            base: self.retry_base,
            cap: MAX_NOTICE_DELAY,
        };
        let console_url = self.console_url.clone();
        Ok(Some(Arc::new(Notifications { endpoints, secret, sender, retry, console_url })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_https_or_loopback_and_carry_no_credentials() {
        assert_eq!(
            Endpoint::parse(None, "https://hooks.example.com/x").unwrap().name(),
            "hooks.example.com"
        );
        assert_eq!(Endpoint::parse(Some("ops"), "http://127.0.0.1:9/h").unwrap().name(), "ops");
        assert!(Endpoint::parse(None, "http://localhost:8080/").is_ok());
        assert!(Endpoint::parse(None, "http://[::1]:8080/").is_ok());
        for bad in [
            "http://hooks.example.com/x",
            "http://10.0.0.1/x",
            "ftp://example.com/",
            "https://user:pw@example.com/",
            "not a url",
        ] {
            assert!(Endpoint::parse(None, bad).is_err(), "{bad}");
        }
        assert!(Endpoint::parse(Some("has space"), "https://e.com/").is_err());
    }

    #[test]
    fn a_telegram_endpoint_needs_a_bot_token_a_chat_and_a_safe_api() {
        let ok = Endpoint::telegram("https://api.telegram.org", "123:AbC-d_e", "-100200").unwrap();
        assert_eq!(ok.name(), "telegram");
        assert!(!format!("{ok:?}").contains("AbC-d_e"), "the token stays out of logs: {ok:?}");
        assert!(Endpoint::telegram("http://127.0.0.1:9", "1:x", "@ops").is_ok(), "a local fake");
        for (api, token, chat) in [
            ("http://api.telegram.org", "1:x", "1"),
            ("https://api.telegram.org", "no-colon", "1"),
            ("https://api.telegram.org", "x1:abc", "1"),
            ("https://api.telegram.org", "1:a/b", "1"),
            ("https://api.telegram.org", "1:x", "not a chat"),
        ] {
            assert!(Endpoint::telegram(api, token, chat).is_err(), "{api} {token} {chat}");
        }
        assert!(check_secret_token("short").is_err());
        assert!(check_secret_token("has space in it, long enough").is_err());
        assert!(check_secret_token("A-valid_secret-token-0123").is_ok());
    }
}
