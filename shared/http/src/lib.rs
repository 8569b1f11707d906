//! MyloWare's HTTP surfaces as axum routers: the runs API and the webhook endpoints. The same
//! routers run inside Lambda (via `myloware_runtime::lambda`) and on a local TCP listener.

pub mod api;
mod auth;
mod error;
mod extract;
mod health;
mod request_id;
pub mod serve;
mod state;
pub mod webhooks;

use axum::Router;
use axum::routing::get;

pub use auth::{ApiKeys, Caller, Scope, hash_entry};
pub use error::ApiError;
pub use state::{AppState, Setup, TelegramInbound, VerifierSource, WebhookSecrets};

/// Largest webhook body we read (larger → 413).
pub const MAX_WEBHOOK_BODY: usize = 256 * 1024;

/// The runs API behind its key check (the first layer: nothing else of a request is read
/// before it).
fn authenticated_api(state: &AppState) -> Router<AppState> {
    api::routes().layer(axum::middleware::from_fn_with_state(state.clone(), auth::layer))
}

/// The `api` function's router: runs API, Telegram's updates (gate decisions) + health.
pub fn api_router(state: AppState) -> Router {
    authenticated_api(&state)
        .merge(webhooks::telegram_routes())
        .route("/health", get(health::health))
        .route("/openapi.json", get(health::openapi_json))
        .layer(axum::middleware::from_fn(request_id::layer))
        .with_state(state)
}

/// The `webhook` function's router: provider callbacks + health.
pub fn webhook_router(state: AppState) -> Router {
    webhooks::routes()
        .route("/health", get(health::health))
        .route("/openapi.json", get(health::openapi_json))
        .layer(axum::middleware::from_fn(request_id::layer))
        .with_state(state)
}

/// Both surfaces on one listener (local serve mode).
pub fn local_router(state: AppState) -> Router {
    authenticated_api(&state)
        .merge(webhooks::routes())
        .merge(webhooks::telegram_routes())
        .route("/health", get(health::health))
        .route("/openapi.json", get(health::openapi_json))
        .layer(axum::middleware::from_fn(request_id::layer))
        .with_state(state)
}
