//! The review console's settings: the secret its session cookies and CSRF tokens are signed
//! with, and how long a session lasts.

use std::time::Duration;

use myloware::config::env_num;
use myloware_aws::AwsClients;
use myloware_aws::secret_store::SecretRef;
use myloware_console::{DEFAULT_SESSION_TTL, Sessions};

use crate::config::ConfigError;
use crate::secrets::read_secret;

/// The signing secret (16 bytes or more; or `secretsmanager:<id>` / `ssm:<name>`). Unset, a
/// process makes its own: fine for one process (`serve`, the demo), whose sessions end with
/// it; every api function container must share one, so the template sets it.
pub const ENV_CONSOLE_SECRET: &str = "MYLOWARE_CONSOLE_SECRET";
/// Session lifetime, seconds (28800: eight hours).
pub const ENV_CONSOLE_SESSION_SECS: &str = "MYLOWARE_CONSOLE_SESSION_SECS";

/// The console's sessions from the environment; a stored secret is read through `clients`.
pub async fn console_sessions(clients: Option<&AwsClients>) -> Result<Sessions, ConfigError> {
    let ttl = match env_num(ENV_CONSOLE_SESSION_SECS, DEFAULT_SESSION_TTL.as_secs())? {
        0 => {
            let why = "a session must last at least a second".to_owned();
            return Err(ConfigError::Invalid { var: ENV_CONSOLE_SESSION_SECS, why });
        }
        s => Duration::from_secs(s),
    };
    let var = ENV_CONSOLE_SECRET;
    let raw = std::env::var(var).unwrap_or_default();
    if raw.trim().is_empty() {
        tracing::info!("{var} is not set: console sessions end when this process stops");
        return Ok(Sessions::ephemeral(ttl));
    }
    let secret = read_secret(&SecretRef::parse(raw.trim()), clients, var).await?;
    let secret = secret.trim().as_bytes().to_vec();
    if secret.len() < 16 {
        let why = "at least 16 bytes (sessions signed with less can be guessed)".to_owned();
        return Err(ConfigError::Secret { var, why });
    }
    Ok(Sessions::new(secret, ttl))
}
