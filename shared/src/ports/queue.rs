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
    /// Receiving, deleting or changing visibility failed.
    #[error("queue operation failed: {0}")]
    Consume(String),
}

impl QueueError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        "queue_unavailable"
    }
}

/// A message handed out by [`QueueConsumer::receive`]; invisible to others until its
/// visibility timeout lapses or it is deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The queue's id for the message (stable across deliveries).
    pub message_id: String,
    /// The handle of this delivery (for delete and visibility changes).
    pub receipt: String,
    /// The raw body (it may be unparseable: poison messages exist).
    pub body: String,
    /// How many times it has been received, this time included.
    pub receive_count: u32,
}

/// The consuming side of the step queue (what Lambda's event source mapping does on AWS).
#[async_trait]
pub trait QueueConsumer: Send + Sync {
    /// Receive up to `max` visible messages, waiting up to `wait` for the first.
    async fn receive(&self, max: u32, wait: Duration) -> Result<Vec<Received>, QueueError>;
    /// Delete a delivered message.
    async fn delete(&self, receipt: &str) -> Result<(), QueueError>;
    /// Make a delivered message visible again after `timeout` (zero: now).
    async fn change_visibility(&self, receipt: &str, timeout: Duration) -> Result<(), QueueError>;
}

/// The dead-letter queue behind the step queue: messages received more than the maximum number
/// of times land there, and an operator moves them back.
#[async_trait]
pub trait DeadLetters: Send + Sync {
    /// Messages in the DLQ (bodies), oldest first, up to `max`.
    async fn peek(&self, max: u32) -> Result<Vec<Received>, QueueError>;
    /// Move every DLQ message back to the step queue; returns how many moved.
    async fn redrive_all(&self) -> Result<u64, QueueError>;
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
