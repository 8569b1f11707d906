//! Provider callbacks. Checks run in this order, all before any write: body size (413), content
//! type (415), signature on the exact raw bytes (401), then shape and ids (400). Only then does
//! the engine record the arrival.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use myloware::domain::Provider;
use myloware::engine::{IntakeAck, IntakeError, StandardHeaders};

use crate::request_id::RequestId;
use crate::{ApiError, AppState, MAX_WEBHOOK_BODY};

/// The webhook routes (without state): one per provider that calls back.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/webhooks/openai", post(openai))
        .route("/v1/webhooks/replicate", post(replicate))
        .route("/v1/webhooks/gemini", post(gemini))
        .route("/v1/webhooks/remotion", post(remotion))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BODY))
}

/// Telegram's updates: served by the api function (a decision writes what the webhook
/// function may not), and locally beside the other webhooks.
pub fn telegram_routes() -> Router<AppState> {
    Router::new()
        .route("/v1/webhooks/telegram", post(telegram))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BODY))
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Size and content type, before anything looks at the bytes.
fn admit(headers: &HeaderMap, raw: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    let raw = raw.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("webhook bodies are limited to {MAX_WEBHOOK_BODY} bytes"),
            )
        } else {
            ApiError::new(r.status(), "unreadable_body", r.body_text())
        }
    })?;
    let ct = header(headers, "content-type").unwrap_or_default();
    let mime = ct.split(';').next().unwrap_or_default().trim();
    if !mime.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("expected Content-Type application/json, got {ct:?}"),
        ));
    }
    Ok(raw)
}

/// Count the answer (EMF `Webhooks` by provider and result).
fn counted(
    provider: &'static str,
    r: Result<IntakeAck, IntakeError>,
) -> Result<IntakeAck, IntakeError> {
    let result = match &r {
        Ok(a) => a.status,
        Err(_) => "rejected",
    };
    // A callback for a job no run waits on may be the paid duplicate of a crash window: say
    // which job it was (docs/design.md, money windows).
    if let Ok(IntakeAck { status: "ignored", job_id: Some(job), .. }) = &r {
        tracing::warn!(provider, job_id = %job, "callback for a job no run waits on (ignored)");
    }
    myloware::engine::meter::webhook(provider, result);
    r
}

/// Webhook bodies are logged only when `MYLOWARE_LOG_WEBHOOK_PAYLOADS=true` (they may carry data
/// the provider considers private); the default logs sizes only.
fn log_payload(provider: &str, raw: &[u8]) {
    if std::env::var("MYLOWARE_LOG_WEBHOOK_PAYLOADS").is_ok_and(|v| v == "true") {
        tracing::info!(provider, payload = %String::from_utf8_lossy(raw), "webhook payload");
    } else {
        tracing::debug!(provider, bytes = raw.len(), "webhook received");
    }
}

/// A webhook's answer: `accepted`, `duplicate` (changes nothing) or `ignored`.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct WebhookAck {
    /// `accepted`, `duplicate` or `ignored`.
    pub status: String,
    /// The run it belongs to, when known.
    pub run_id: Option<String>,
    /// The provider's job, when known.
    pub job_id: Option<String>,
}

fn body(ack: IntakeAck) -> Json<WebhookAck> {
    Json(WebhookAck {
        status: ack.status.to_owned(),
        run_id: ack.run_id.map(|r| r.to_string()),
        job_id: ack.job_id.map(|j| j.to_string()),
    })
}

macro_rules! video_route {
    ($name:ident, $provider:expr, $path:literal, $what:literal) => {
        #[doc = concat!("`POST ", $path, "`: ", $what, " (Standard Webhooks signature).")]
        #[utoipa::path(post, path = $path, tag = "webhooks",
            params(("webhook-id" = String, Header), ("webhook-timestamp" = String, Header),
                ("webhook-signature" = String, Header, description = "v1,<base64> candidates, at most 8")),
            request_body(content = Object, content_type = "application/json"),
            responses((status = 200, body = WebhookAck), (status = 400, body = crate::api::ErrorBody),
                (status = 401, body = crate::api::ErrorBody), (status = 413, body = crate::api::ErrorBody),
                (status = 415, body = crate::api::ErrorBody), (status = 500, body = crate::api::ErrorBody)))]
        pub(crate) async fn $name(
            st: State<AppState>,
            headers: HeaderMap,
            rid: RequestId,
            raw: Result<Bytes, BytesRejection>,
        ) -> Result<Json<WebhookAck>, ApiError> {
            video($provider, st, headers, rid, raw).await
        }
    };
}

video_route!(
    openai,
    Provider::OpenAi,
    "/v1/webhooks/openai",
    "an OpenAI-compatible video API's callback"
);
video_route!(
    replicate,
    Provider::Replicate,
    "/v1/webhooks/replicate",
    "Replicate's prediction callback"
);
video_route!(gemini, Provider::Gemini, "/v1/webhooks/gemini", "a Gemini API webhook");

/// A video provider's callback (Standard Webhooks).
async fn video(
    provider: Provider,
    State(st): State<AppState>,
    headers: HeaderMap,
    rid: RequestId,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<WebhookAck>, ApiError> {
    let raw = admit(&headers, raw)?;
    let h = StandardHeaders {
        id: header(&headers, "webhook-id"),
        timestamp: header(&headers, "webhook-timestamp"),
        signature: header(&headers, "webhook-signature"),
    };
    let name = provider.as_str();
    log_payload(name, &raw);
    let verifier = st.webhooks.standard(provider).await?;
    let intake = st.engine.intake_video(provider, &verifier, h, &raw, Some(rid.0)).await;
    Ok(body(counted(name, intake)?))
}

/// `?run_id=` of the per-request callback URL (other parameters are ignored).
fn run_id_param(query: Option<&str>) -> Option<&str> {
    query?.split('&').find_map(|kv| kv.strip_prefix("run_id="))
}

/// `POST /v1/webhooks/remotion?run_id=`: the render service's callback.
#[utoipa::path(post, path = "/v1/webhooks/remotion", tag = "webhooks",
    params(("run_id" = Option<String>, Query), ("x-remotion-signature" = String, Header, description = "sha512=<hex>")),
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, body = WebhookAck), (status = 400, body = crate::api::ErrorBody),
        (status = 401, body = crate::api::ErrorBody), (status = 413, body = crate::api::ErrorBody),
        (status = 415, body = crate::api::ErrorBody), (status = 500, body = crate::api::ErrorBody)))]
pub(crate) async fn remotion(
    State(st): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    rid: RequestId,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<WebhookAck>, ApiError> {
    let raw = admit(&headers, raw)?;
    let sig = ["x-remotion-signature", "webhook-signature"]
        .iter()
        .find_map(|n| header(&headers, n).filter(|v| !v.is_empty()));
    let ts = header(&headers, "x-remotion-timestamp");
    log_payload("remotion", &raw);
    let verifier = st.webhooks.remotion().await?;
    let ack = counted(
        "remotion",
        st.engine
            .intake_remotion(&verifier, sig, ts, run_id_param(query.as_deref()), &raw, Some(rid.0))
            .await,
    )?;
    Ok(body(ack))
}

/// `POST /v1/webhooks/telegram`: a Telegram update (a button press on a gate's message). The
/// `X-Telegram-Bot-Api-Secret-Token` header is checked before the body is read; the answer to a
/// press is an `answerCallbackQuery` in the response (Telegram performs it).
#[utoipa::path(post, path = "/v1/webhooks/telegram", tag = "webhooks",
    params(("x-telegram-bot-api-secret-token" = String, Header, description = "the secret_token given to setWebhook")),
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, body = Object, description = "an answerCallbackQuery for a press, {} otherwise"),
        (status = 400, body = crate::api::ErrorBody), (status = 401, body = crate::api::ErrorBody),
        (status = 413, body = crate::api::ErrorBody), (status = 415, body = crate::api::ErrorBody),
        (status = 500, body = crate::api::ErrorBody)))]
pub(crate) async fn telegram(
    State(st): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Some(inbound) = st.telegram.as_deref() else {
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "telegram_not_configured",
            "no Telegram chat is configured here: updates are refused",
        ));
    };
    let given = header(&headers, "x-telegram-bot-api-secret-token").unwrap_or_default();
    if !inbound.token_ok(given) {
        myloware::engine::meter::webhook("telegram", "rejected");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            "missing or wrong X-Telegram-Bot-Api-Secret-Token",
        ));
    }
    let raw = admit(&headers, raw)?;
    log_payload("telegram", &raw);
    let update: myloware::engine::telegram::Update = serde_json::from_slice(&raw).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed_payload", format!("not an update: {e}"))
    })?;
    let answer = st.engine.telegram_update(&update, &inbound.chat_id).await?;
    myloware::engine::meter::webhook(
        "telegram",
        if answer.is_some() { "accepted" } else { "ignored" },
    );
    Ok(Json(answer.unwrap_or_else(|| serde_json::json!({}))))
}
