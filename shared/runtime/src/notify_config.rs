//! Notification settings from the environment: where events about runs go, what they are
//! signed with, how often a failing endpoint is tried, and the console's public address.

use std::sync::Arc;
use std::time::Duration;

use myloware::config::{env_list, env_num};
use myloware::engine::{Endpoint, MAX_NOTICE_DELAY, Notifications};
use myloware::ports::NoticeSender;
use myloware_aws::AwsClients;

use crate::config::{ConfigError, SecretSetting};
use crate::secrets::parse_secret_list;

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
        Ok(Self {
            endpoints,
            secret,
            max_attempts,
            retry_base: Duration::from_millis(env_num(ENV_NOTIFY_RETRY_BASE_MS, 5000)?),
            console_url,
        })
    }

    /// A secret kept in a store is read once, at start-up (like the API key digests), and only
    /// when there are endpoints to sign for.
    pub async fn resolve_secret(&mut self, clients: &AwsClients) -> Result<(), ConfigError> {
        let var = ENV_NOTIFY_SECRET;
        let unread = self.secret.literal.is_empty() && !self.endpoints.is_empty();
        if let (Some(r), true) = (&self.secret.stored, unread) {
            let raw = r.fetch(clients).await.map_err(|why| ConfigError::Secret { var, why })?;
            self.secret.literal =
                parse_secret_list(&raw).map_err(|why| ConfigError::Secret { var, why })?;
        }
        Ok(())
    }

    /// The engine's notifications, sent through `sender` (`None` without endpoints).
    pub fn build(
        &self,
        sender: Arc<dyn NoticeSender>,
    ) -> Result<Option<Arc<Notifications>>, ConfigError> {
        if self.endpoints.is_empty() {
            return Ok(None);
        }
        let secret = self.secret.literal.first().cloned().ok_or(ConfigError::Secret {
            var: ENV_NOTIFY_SECRET,
            why: "a secretsmanager:/ssm: reference needs the AWS backend".into(),
        })?;
        let retry = myloware::engine::RetryPolicy {
            max_attempts: self.max_attempts,
            base: self.retry_base,
            cap: MAX_NOTICE_DELAY,
        };
        let console_url = self.console_url.clone();
        Ok(Some(Arc::new(Notifications {
            endpoints: self.endpoints.clone(),
            secret,
            sender,
            retry,
            console_url,
        })))
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
}
