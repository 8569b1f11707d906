//! The step queue port (SQS semantics: at-least-once, unordered, delays up to 15 minutes).

use std::time::Duration;

use async_trait::async_trait;

use crate::domain::StepMessage;

/// Queue failures.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The message could not be sent.
    #[error("send failed: {0}")]
    Send(String),
}

impl QueueError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        "queue_unavailable"
    }
}

/// Where step messages go.
#[async_trait]
pub trait StepQueue: Send + Sync {
    /// Send one message, visible after `delay` (at most 15 minutes).
    async fn send(&self, msg: &StepMessage, delay: Duration) -> Result<(), QueueError>;

    /// Send several messages (adapters batch them: SQS takes ten per call).
    async fn send_batch(&self, msgs: &[StepMessage], delay: Duration) -> Result<(), QueueError> {
        for m in msgs {
            self.send(m, delay).await?;
        }
        Ok(())
    }
}
