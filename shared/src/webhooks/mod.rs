//! Webhook signature schemes and event parsing: pure functions over the exact raw bytes.
//!
//! Verification always runs on the raw body before any JSON parsing, compares in constant time,
//! and fails closed (no secret configured → error, never a pass).

mod error;
mod events;
#[cfg(test)]
mod props;
mod remotion;
mod standard;

pub use error::WebhookError;
pub use events::{RenderEvent, VideoEvent, parse_remotion_event, parse_sora_event};
pub use remotion::{RemotionVerifier, sign_remotion, sign_remotion_at};
pub use standard::{StandardVerifier, WebhookSecret, sign_standard};
