//! Webhook secrets from the environment or from a secret store (Secrets Manager, SSM Parameter
//! Store), cached per container for a TTL so a rotation lands without a redeploy. A secret that
//! cannot be read, or reads empty, fails closed: the webhook answers 500 and logs why.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::http::StatusCode;
use myloware::domain::Provider;
use myloware::webhooks::{RemotionVerifier, StandardVerifier, WebhookSecret};
use myloware_aws::AwsClients;
use myloware_aws::secret_store::SecretRef;
use myloware_http::{ApiError, VerifierSource};
use tokio::sync::Mutex;

/// The value of the secret setting `var`: a literal as it is, a stored one read through
/// `clients` (a `secretsmanager:` / `ssm:` reference without the AWS backend is refused).
pub async fn read_secret(
    r: &SecretRef,
    clients: Option<&AwsClients>,
    var: &'static str,
) -> Result<String, crate::ConfigError> {
    match (r, clients) {
        (SecretRef::Literal(v), _) => Ok(v.clone()),
        (_, Some(c)) => r.fetch(c).await.map_err(|why| crate::ConfigError::Secret { var, why }),
        (_, None) => Err(unresolved(var)),
    }
}

/// A stored secret that was not read (no AWS backend here).
pub fn unresolved(var: &'static str) -> crate::ConfigError {
    let why = "a secretsmanager:/ssm: reference needs the AWS backend".into();
    crate::ConfigError::Secret { var, why }
}

/// Parse a comma-separated list of secrets (any verifies). Empty entries are refused: an empty
/// HMAC key makes signatures forgeable.
pub fn parse_secret_list(raw: &str) -> Result<Vec<WebhookSecret>, String> {
    if raw.trim().is_empty() {
        return Ok(vec![]);
    }
    raw.split(',')
        .map(|p| {
            if p.trim().is_empty() {
                Err("contains an empty entry".to_owned())
            } else {
                WebhookSecret::parse(p).map_err(|e| e.to_string())
            }
        })
        .collect()
}

/// Verifiers whose secrets come from a store, re-read after `ttl`.
pub struct StoredVerifiers {
    clients: AwsClients,
    video: BTreeMap<Provider, SecretRef>,
    remotion: SecretRef,
    tolerance_secs: i64,
    ttl: Duration,
    cache: Mutex<HashMap<&'static str, (Instant, Vec<WebhookSecret>)>>,
}

impl StoredVerifiers {
    /// Verifiers reading each video provider's and the renderer's secrets through `clients`.
    pub fn new(
        clients: AwsClients,
        video: BTreeMap<Provider, SecretRef>,
        remotion: SecretRef,
        tolerance_secs: i64,
        ttl: Duration,
    ) -> Arc<Self> {
        Arc::new(Self { clients, video, remotion, tolerance_secs, ttl, cache: Mutex::default() })
    }

    async fn secrets(
        &self,
        which: &'static str,
        r: &SecretRef,
    ) -> Result<Vec<WebhookSecret>, ApiError> {
        let mut cache = self.cache.lock().await;
        if let Some((at, s)) = cache.get(which)
            && at.elapsed() < self.ttl
        {
            return Ok(s.clone());
        }
        let unavailable = |why: String| {
            tracing::error!(provider = which, error = %why, "webhook secret unavailable; refusing callbacks");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "webhook_secret_unavailable",
                format!("the {which} webhook secret could not be read"),
            )
        };
        let raw = r.fetch(&self.clients).await.map_err(unavailable)?;
        let secrets = parse_secret_list(&raw).map_err(unavailable)?;
        if secrets.is_empty() {
            return Err(unavailable("the stored secret is empty".into()));
        }
        cache.insert(which, (Instant::now(), secrets.clone()));
        Ok(secrets)
    }
}

#[async_trait]
impl VerifierSource for StoredVerifiers {
    async fn standard(&self, provider: Provider) -> Result<StandardVerifier, ApiError> {
        let empty = SecretRef::Literal(String::new());
        let r = self.video.get(&provider).unwrap_or(&empty);
        let secrets = self.secrets(provider.as_str(), r).await?;
        Ok(StandardVerifier::new(secrets, self.tolerance_secs).of(provider))
    }

    async fn remotion(&self) -> Result<RemotionVerifier, ApiError> {
        Ok(RemotionVerifier::new(
            self.secrets("remotion", &self.remotion).await?,
            self.tolerance_secs,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_lists_refuse_empty_entries() {
        assert_eq!(parse_secret_list("").unwrap().len(), 0);
        assert_eq!(parse_secret_list("a,b").unwrap().len(), 2);
        assert!(parse_secret_list("a,,b").is_err());
        assert!(parse_secret_list("a, ").is_err());
        assert!(parse_secret_list("whsec_!!").is_err());
    }
}
