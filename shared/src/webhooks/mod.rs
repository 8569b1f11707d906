//! Webhook signature schemes and event parsing: pure functions over the exact raw bytes.
//!
//! Verification always runs on the raw body before any JSON parsing, compares in constant time,
//! and fails closed (no secret configured → error, never a pass).

mod error;
mod events;
mod gemini;
#[cfg(test)]
mod props;
mod remotion;
mod replicate;
mod standard;

pub use error::WebhookError;
pub use events::{RenderEvent, VideoEvent, parse_openai_video_event, parse_remotion_event};
pub use gemini::{job_id_of_operation, operation_of_job, parse_gemini_event};
pub use remotion::{RemotionVerifier, render_callback, sign_remotion, sign_remotion_at};
pub use replicate::{Prediction, parse_replicate_prediction};
pub use standard::{StandardVerifier, WebhookSecret, sign_standard};
