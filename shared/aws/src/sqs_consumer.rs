//! The consuming side of SQS (receive, delete, change visibility) and DLQ redrive through
//! `StartMessageMoveTask`: the same ports the embedded queue implements, so one conformance
//! suite covers both.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use myloware::ports::{
    DeadLetter, DeadLetters, HeldLetter, MoveTask, QueueConsumer, QueueError, Received,
};
use myloware::time::Timestamp;

use crate::SqsQueue;

fn err(e: impl std::error::Error + 'static) -> QueueError {
    QueueError::Consume(aws_sdk_sqs::error::DisplayErrorContext(e).to_string())
}

/// One `ReceiveMessage` call, with the system attributes we read (`visibility`: this receive's
/// own visibility timeout, if not the queue's).
async fn receive_raw(
    client: &Client,
    url: &str,
    max: u32,
    wait: Duration,
    visibility: Option<i32>,
) -> Result<Vec<aws_sdk_sqs::types::Message>, QueueError> {
    let out = client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(max.clamp(1, 10) as i32)
        .wait_time_seconds(wait.as_secs().min(20) as i32)
        .set_visibility_timeout(visibility)
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
        .send()
        .await
        .map_err(err)?;
    Ok(out.messages.unwrap_or_default())
}

fn attr(m: &aws_sdk_sqs::types::Message, n: MessageSystemAttributeName) -> Option<i64> {
    m.attributes.as_ref().and_then(|a| a.get(&n)).and_then(|v| v.parse().ok())
}

async fn receive(
    client: &Client,
    url: &str,
    max: u32,
    wait: Duration,
    visibility: Option<i32>,
) -> Result<Vec<Received>, QueueError> {
    Ok(receive_raw(client, url, max, wait, visibility)
        .await?
        .into_iter()
        .map(|m| Received {
            receive_count: attr(&m, MessageSystemAttributeName::ApproximateReceiveCount)
                .unwrap_or(1) as u32,
            message_id: m.message_id.unwrap_or_default(),
            receipt: m.receipt_handle.unwrap_or_default(),
            body: m.body.unwrap_or_default(),
        })
        .collect())
}

#[async_trait]
impl QueueConsumer for SqsQueue {
    async fn receive(&self, max: u32, wait: Duration) -> Result<Vec<Received>, QueueError> {
        receive(self.client(), self.url(), max, wait, None).await
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.client()
            .delete_message()
            .queue_url(self.url())
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn change_visibility(&self, receipt: &str, timeout: Duration) -> Result<(), QueueError> {
        self.client()
            .change_message_visibility()
            .queue_url(self.url())
            .receipt_handle(receipt)
            .visibility_timeout(timeout.as_secs().min(43_200) as i32)
            .send()
            .await
            .map_err(err)?;
        Ok(())
    }
}

/// The step queue's DLQ on SQS.
#[derive(Debug, Clone)]
pub struct SqsDeadLetters {
    client: Client,
    dlq_url: String,
    source_url: Option<String>,
}

impl SqsDeadLetters {
    /// The DLQ at `dlq_url`.
    pub fn new(client: Client, dlq_url: impl Into<String>) -> Self {
        Self { client, dlq_url: dlq_url.into(), source_url: None }
    }

    /// Redrives go to the step queue at `url` explicitly. Needed for messages the runner put in
    /// the DLQ itself (they carry no source queue, so a move task without a destination fails).
    pub fn with_source(mut self, url: impl Into<String>) -> Self {
        self.source_url = Some(url.into());
        self
    }

    async fn arn(&self) -> Result<String, QueueError> {
        self.arn_of(&self.dlq_url).await
    }

    async fn arn_of(&self, url: &str) -> Result<String, QueueError> {
        self.client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(err)?
            .attributes
            .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
            .ok_or_else(|| QueueError::Consume("the DLQ has no ARN".into()))
    }
}

#[async_trait]
impl DeadLetters for SqsDeadLetters {
    async fn bury(&self, body: &str) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.dlq_url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| {
                QueueError::Send(aws_sdk_sqs::error::DisplayErrorContext(e).to_string())
            })?;
        Ok(())
    }

    async fn list(&self, max: u32) -> Result<Vec<DeadLetter>, QueueError> {
        // Receive with a short visibility and release at once, so the messages stay for the next
        // reader; repeat until `max` distinct messages or nothing new comes.
        let mut seen: Vec<DeadLetter> = Vec::new();
        for _ in 0..(max.div_ceil(10) + 2) {
            let batch = receive_dlq(&self.client, &self.dlq_url, 10, 5).await?;
            if batch.is_empty() {
                break;
            }
            let mut fresh = 0;
            for (letter, receipt) in batch {
                self.release(&receipt).await;
                if !seen.iter().any(|s| s.message_id == letter.message_id) {
                    seen.push(letter);
                    fresh += 1;
                }
            }
            if fresh == 0 || seen.len() as u32 >= max {
                break;
            }
        }
        seen.sort_by_key(|l| l.sent_at);
        seen.truncate(max as usize);
        Ok(seen)
    }

    async fn hold(&self, message_id: &str) -> Result<Option<HeldLetter>, QueueError> {
        // Others received while looking are released at once.
        for _ in 0..20 {
            let batch = receive_dlq(&self.client, &self.dlq_url, 10, 60).await?;
            if batch.is_empty() {
                return Ok(None);
            }
            let mut found = None;
            for (letter, receipt) in batch {
                if found.is_none() && letter.message_id == message_id {
                    found = Some(HeldLetter { letter, receipt });
                } else {
                    self.release(&receipt).await;
                }
            }
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.dlq_url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn start_redrive(&self) -> Result<MoveTask, QueueError> {
        let arn = self.arn().await?;
        let destination = match &self.source_url {
            Some(url) => Some(self.arn_of(url).await?),
            None => None,
        };
        let task = self
            .client
            .start_message_move_task()
            .source_arn(&arn)
            .set_destination_arn(destination)
            .send()
            .await
            .map_err(err)?;
        Ok(MoveTask {
            handle: task.task_handle.unwrap_or_default(),
            status: "RUNNING".into(),
            moved: 0,
            total: None,
            failure: None,
        })
    }

    async fn redrive_tasks(&self) -> Result<Vec<MoveTask>, QueueError> {
        let arn = self.arn().await?;
        let tasks =
            self.client.list_message_move_tasks().source_arn(&arn).send().await.map_err(err)?;
        Ok(tasks
            .results
            .unwrap_or_default()
            .into_iter()
            .map(|t| MoveTask {
                handle: t.task_handle.unwrap_or_default(),
                status: t.status.unwrap_or_default(),
                moved: t.approximate_number_of_messages_moved as u64,
                total: t.approximate_number_of_messages_to_move.map(|n| n as u64),
                failure: t.failure_reason,
            })
            .collect())
    }
}

impl SqsDeadLetters {
    async fn release(&self, receipt: &str) {
        let r = self
            .client
            .change_message_visibility()
            .queue_url(&self.dlq_url)
            .receipt_handle(receipt)
            .visibility_timeout(0)
            .send()
            .await;
        if let Err(e) = r {
            tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(e), "could not release a DLQ message");
        }
    }
}

async fn receive_dlq(
    client: &Client,
    url: &str,
    max: u32,
    visibility: i32,
) -> Result<Vec<(DeadLetter, String)>, QueueError> {
    Ok(receive_raw(client, url, max, Duration::ZERO, Some(visibility))
        .await?
        .into_iter()
        .map(|m| {
            let letter = DeadLetter {
                receive_count: attr(&m, MessageSystemAttributeName::ApproximateReceiveCount)
                    .unwrap_or(0) as u32,
                sent_at: attr(&m, MessageSystemAttributeName::SentTimestamp).map(Timestamp),
                message_id: m.message_id.unwrap_or_default(),
                body: m.body.unwrap_or_default(),
            };
            (letter, m.receipt_handle.unwrap_or_default())
        })
        .collect())
}
