//! Shared handler state.

use myloware::Engine;
use myloware::webhooks::{RemotionVerifier, StandardVerifier};

use crate::ApiKeys;

/// The webhook verifiers (secrets are loaded once per container).
#[derive(Clone, Debug)]
pub struct WebhookSecrets {
    /// Sora (Standard Webhooks).
    pub sora: StandardVerifier,
    /// Remotion.
    pub remotion: RemotionVerifier,
}

/// Everything a handler needs.
#[derive(Clone)]
pub struct AppState {
    /// The engine.
    pub engine: Engine,
    /// Accepted API keys.
    pub api_keys: ApiKeys,
    /// Webhook verifiers.
    pub webhooks: WebhookSecrets,
}
