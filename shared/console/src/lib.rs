//! The review console: server-rendered pages under `/console`, served by `serve` and by the api
//! function beside the runs API. A person signs in with an API key (exchanged for a session
//! cookie: `session.rs`), sees runs waiting for them first, looks at a run's ideas, clips and
//! final cut, and approves or rejects it (`decide.rs`); operators see stalled and failed runs and
//! the DLQ and act on them (`ops.rs`). The owner rules are the API's: another principal's run is
//! 404. Every form carries a CSRF token; every value from outside is escaped by the templates
//! (askama escapes HTML by default), and a Content-Security-Policy allows no inline script.

mod auth;
mod decide;
mod ops;
mod respond;
mod runs;
pub mod session;
mod views;

use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use myloware_http::AppState;

pub use session::Sessions;

/// How long a session lasts unless configured (`MYLOWARE_CONSOLE_SESSION_SECS`).
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

/// What the console's handlers share.
#[derive(Clone)]
pub(crate) struct Console {
    app: AppState,
    sessions: Sessions,
}

/// The console's routes, under `/console`, to merge beside the API's.
pub fn router(app: AppState, sessions: Sessions) -> Router {
    Router::new()
        .route("/console", get(runs::home))
        .route("/console/", get(runs::home))
        .route("/console/login", get(auth::form).post(auth::sign_in))
        .route("/console/logout", post(auth::sign_out))
        .route("/console/runs", get(runs::list))
        .route("/console/runs/{id}", get(runs::page_of))
        .route("/console/runs/{id}/version", get(runs::version))
        .route("/console/runs/{id}/events", get(runs::events))
        .route("/console/runs/{id}/media/final", get(runs::final_video))
        .route("/console/runs/{id}/media/clip/{index}", get(runs::clip))
        .route("/console/runs/{id}/approve", post(decide::approve))
        .route("/console/runs/{id}/reject", post(decide::reject))
        .route("/console/runs/{id}/resume", post(ops::resume))
        .route("/console/ops", get(ops::page_of))
        .route("/console/dlq/{message_id}/replay", post(ops::replay))
        .route("/console/dlq/{message_id}/resolve", post(ops::resolve))
        .route("/console/static/console.css", get(respond::css))
        .route("/console/static/console.js", get(respond::js))
        .layer(axum::middleware::from_fn(respond::headers))
        .with_state(Console { app, sessions })
}
