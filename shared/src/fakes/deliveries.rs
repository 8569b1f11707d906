//! The callbacks providers send, built and signed exactly as they sign them. Shared by the
//! in-process fakes and the fake provider server.

use super::short_hash;
use crate::ports::Delivery;
use crate::webhooks::{WebhookSecret, sign_standard};

/// An OpenAI-style `video.completed` / `video.failed` event (OpenAI's envelope), signed with
/// Standard Webhooks at `ts`. The `webhook-id` is stable per job, as in a provider's retries.
pub fn openai_video_delivery(
    secret: &WebhookSecret,
    job: &str,
    failure: Option<&str>,
    ts: i64,
) -> Delivery {
    let (event_type, data) = match failure {
        Some(reason) => (
            "video.failed",
            serde_json::json!({ "id": job, "error": { "code": "generation_failed", "message": reason } }),
        ),
        None => ("video.completed", serde_json::json!({ "id": job })),
    };
    let body = serde_json::to_vec(&serde_json::json!({
        "id": format!("evt_{}", short_hash(&format!("{job}:{event_type}"))),
        "object": "event",
        "created_at": ts,
        "type": event_type,
        "data": data,
    }))
    .expect("json");
    standard_delivery(
        secret,
        "/v1/webhooks/openai".into(),
        format!("msg_{}", short_hash(job)),
        ts,
        body,
    )
}

/// `body` to `path`, signed with Standard Webhooks as message `id` at `ts`.
fn standard_delivery(
    secret: &WebhookSecret,
    path: String,
    id: String,
    ts: i64,
    body: Vec<u8>,
) -> Delivery {
    let sig = sign_standard(secret, &id, ts, &body);
    Delivery {
        path,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("webhook-id".into(), id),
            ("webhook-timestamp".into(), ts.to_string()),
            ("webhook-signature".into(), sig),
        ],
        body,
    }
}

/// A Replicate prediction webhook: the full prediction object, signed with Standard Webhooks at
/// `ts`; the `webhook-id` is stable per prediction (identical on Replicate's retries).
pub fn replicate_delivery(
    secret: &WebhookSecret,
    path: String,
    prediction: &serde_json::Value,
    ts: i64,
) -> Delivery {
    let body = serde_json::to_vec(prediction).expect("json");
    let id = format!("msg_{}", short_hash(prediction["id"].as_str().unwrap_or_default()));
    standard_delivery(secret, path, id, ts, body)
}

pub use crate::webhooks::render_callback as remotion_delivery;
