//! Shared handler state.

use std::sync::Arc;

use async_trait::async_trait;
use myloware::Engine;
use myloware::webhooks::{RemotionVerifier, StandardVerifier};

use crate::{ApiError, ApiKeys};

/// Where the webhook verifiers come from: fixed (env) or a secret store with a cache, so a
/// rotated secret lands without a redeploy. A failure to get secrets is a 500 (fail closed).
#[async_trait]
pub trait VerifierSource: Send + Sync {
    /// The Sora (Standard Webhooks) verifier.
    async fn sora(&self) -> Result<StandardVerifier, ApiError>;
    /// The Remotion verifier.
    async fn remotion(&self) -> Result<RemotionVerifier, ApiError>;
}

/// Fixed verifiers (secrets loaded once from the environment).
#[derive(Clone, Debug)]
pub struct WebhookSecrets {
    /// Sora (Standard Webhooks).
    pub sora: StandardVerifier,
    /// Remotion.
    pub remotion: RemotionVerifier,
}

#[async_trait]
impl VerifierSource for WebhookSecrets {
    async fn sora(&self) -> Result<StandardVerifier, ApiError> {
        Ok(self.sora.clone())
    }
    async fn remotion(&self) -> Result<RemotionVerifier, ApiError> {
        Ok(self.remotion.clone())
    }
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
}

impl AppState {
    /// The same state with the DLQ operations enabled on `dlq`.
    pub fn with_dlq(mut self, dlq: Arc<dyn myloware::ports::DeadLetters>) -> Self {
        self.dlq = Some(dlq);
        self
    }
}
