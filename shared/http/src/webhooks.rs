//! Provider callbacks. The raw body bytes go to the engine's intake, which verifies the signature
//! before anything else: a bad or missing signature is a 401 and nothing is written.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::HeaderMap;
use axum::routing::post;
use myloware::engine::{IntakeAck, StandardHeaders};
use serde::Deserialize;

use crate::request_id::RequestId;
use crate::{ApiError, AppState, MAX_WEBHOOK_BODY};

/// The webhook routes (without state).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/webhooks/sora", post(sora))
        .route("/v1/webhooks/remotion", post(remotion))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BODY))
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn body(ack: IntakeAck) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "status": ack.status,
        "run_id": ack.run_id,
        "job_id": ack.job_id,
    }))
}

async fn sora(
    State(st): State<AppState>,
    headers: HeaderMap,
    axum::Extension(rid): axum::Extension<RequestId>,
    raw: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let h = StandardHeaders {
        id: header(&headers, "webhook-id"),
        timestamp: header(&headers, "webhook-timestamp"),
        signature: header(&headers, "webhook-signature"),
    };
    let ack = st.engine.intake_sora(&st.webhooks.sora, h, &raw, Some(rid.0)).await?;
    Ok(body(ack))
}

#[derive(Deserialize)]
struct RemotionQuery {
    run_id: Option<String>,
}

async fn remotion(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<RemotionQuery>,
    axum::Extension(rid): axum::Extension<RequestId>,
    raw: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let sig = ["x-remotion-signature", "webhook-signature"]
        .iter()
        .find_map(|n| header(&headers, n).filter(|v| !v.is_empty()));
    let ack = st
        .engine
        .intake_remotion(&st.webhooks.remotion, sig, q.run_id.as_deref(), &raw, Some(rid.0))
        .await?;
    Ok(body(ack))
}
