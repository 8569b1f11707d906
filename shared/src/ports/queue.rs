//! The step queue port (SQS semantics: at-least-once, unordered, delays up to 15 minutes).

use std::time::Duration;

use async_trait::async_trait;

use crate::domain::StepMessage;
use crate::time::Timestamp;

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

/// A message in the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The DLQ's id for the message.
    pub message_id: String,
    /// The raw body.
    pub body: String,
    /// How many times it was received (in the DLQ's own count).
    pub receive_count: u32,
    /// When it was first sent (to the step queue).
    pub sent_at: Option<Timestamp>,
}

/// A message taken out of sight in the DLQ, to be deleted once it is dealt with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldLetter {
    /// The message.
    pub letter: DeadLetter,
    /// Handle for [`DeadLetters::delete`].
    pub receipt: String,
}

/// A DLQ → step queue move (`StartMessageMoveTask` on SQS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveTask {
    /// The task's handle.
    pub handle: String,
    /// `RUNNING`, `COMPLETED`, `CANCELLED` or `FAILED`.
    pub status: String,
    /// Messages moved so far.
    pub moved: u64,
    /// Messages to move, when known.
    pub total: Option<u64>,
    /// Why it failed.
    pub failure: Option<String>,
}

impl MoveTask {
    /// True once the task stopped.
    pub fn finished(&self) -> bool {
        self.status != "RUNNING"
    }

    /// The task started as `handle` among `tasks` (newest first). SQS reports the handle of
    /// running tasks only, and runs one move task per queue at a time, so a finished task
    /// without a handle that is the newest one is that task.
    pub fn find<'a>(tasks: &'a [MoveTask], handle: &str) -> Option<&'a MoveTask> {
        tasks
            .iter()
            .find(|t| t.handle == handle)
            .or_else(|| tasks.first().filter(|t| t.handle.is_empty()))
    }
}

/// The dead-letter queue behind the step queue: messages whose retries ran out land there, and
/// an operator moves them back (one by one or all at once) or resolves them.
#[async_trait]
pub trait DeadLetters: Send + Sync {
    /// Put a message body into the DLQ (the runner gave up on it; the caller deletes the original).
    async fn bury(&self, body: &str) -> Result<(), QueueError>;
    /// Messages in the DLQ, oldest first, up to `max`; they stay there.
    async fn list(&self, max: u32) -> Result<Vec<DeadLetter>, QueueError>;
    /// Find one message and hide it from other readers for a minute, or `None`.
    async fn hold(&self, message_id: &str) -> Result<Option<HeldLetter>, QueueError>;
    /// Delete a held message.
    async fn delete(&self, receipt: &str) -> Result<(), QueueError>;
    /// Start moving every DLQ message back to the step queue.
    async fn start_redrive(&self) -> Result<MoveTask, QueueError>;
    /// The most recent move tasks, newest first.
    async fn redrive_tasks(&self) -> Result<Vec<MoveTask>, QueueError>;

    /// Move every DLQ message back and wait for the move to finish; returns how many moved.
    async fn redrive_all(&self) -> Result<u64, QueueError> {
        let started = self.start_redrive().await?;
        for _ in 0..600 {
            let tasks = self.redrive_tasks().await?;
            match MoveTask::find(&tasks, &started.handle).cloned() {
                Some(t) if t.status == "COMPLETED" => return Ok(t.moved),
                Some(t) if t.finished() => {
                    return Err(QueueError::Consume(format!(
                        "message move task {}: {}",
                        t.status,
                        t.failure.unwrap_or_default()
                    )));
                }
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        Err(QueueError::Consume("message move task did not finish in 2 minutes".into()))
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

    /// Messages waiting (visible, in flight and delayed; approximate where the backend is):
    /// a read that also says the queue answers (deep health). `None` when it cannot say.
    async fn depth(&self) -> Result<Option<u64>, QueueError> {
        Ok(None)
    }
}
