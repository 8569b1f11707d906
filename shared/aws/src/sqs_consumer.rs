//! The consuming side of SQS (receive, delete, change visibility) and DLQ redrive through
//! `StartMessageMoveTask`: the same ports the embedded queue implements, so one conformance
//! suite covers both.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use myloware::ports::{DeadLetters, QueueConsumer, QueueError, Received};

use crate::SqsQueue;

fn err(e: impl std::error::Error + 'static) -> QueueError {
    QueueError::Consume(aws_sdk_sqs::error::DisplayErrorContext(e).to_string())
}

async fn receive(
    client: &Client,
    url: &str,
    max: u32,
    wait: Duration,
    visibility: Option<i32>,
) -> Result<Vec<Received>, QueueError> {
    let out = client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(max.clamp(1, 10) as i32)
        .wait_time_seconds(wait.as_secs().min(20) as i32)
        .set_visibility_timeout(visibility)
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .send()
        .await
        .map_err(err)?;
    Ok(out
        .messages
        .unwrap_or_default()
        .into_iter()
        .map(|m| Received {
            receive_count: m
                .attributes
                .as_ref()
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .and_then(|c| c.parse().ok())
                .unwrap_or(1),
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
}

impl SqsDeadLetters {
    /// The DLQ at `dlq_url`.
    pub fn new(client: Client, dlq_url: impl Into<String>) -> Self {
        Self { client, dlq_url: dlq_url.into() }
    }

    async fn arn(&self) -> Result<String, QueueError> {
        self.client
            .get_queue_attributes()
            .queue_url(&self.dlq_url)
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
    async fn peek(&self, max: u32) -> Result<Vec<Received>, QueueError> {
        // Visibility 0: the messages stay where they are for the next reader.
        receive(&self.client, &self.dlq_url, max, Duration::ZERO, Some(0)).await
    }

    async fn redrive_all(&self) -> Result<u64, QueueError> {
        let arn = self.arn().await?;
        let task =
            self.client.start_message_move_task().source_arn(&arn).send().await.map_err(err)?;
        let handle = task.task_handle.unwrap_or_default();
        for _ in 0..600 {
            let tasks =
                self.client.list_message_move_tasks().source_arn(&arn).send().await.map_err(err)?;
            let mine = tasks.results.unwrap_or_default().into_iter().find(|t| {
                t.task_handle.as_deref() == Some(handle.as_str()) || t.task_handle.is_none()
            });
            if let Some(t) = mine {
                match t.status.as_deref() {
                    Some("COMPLETED") => return Ok(t.approximate_number_of_messages_moved as u64),
                    Some("FAILED") | Some("CANCELLED") => {
                        return Err(QueueError::Consume(format!(
                            "message move task {}: {}",
                            t.status.unwrap_or_default(),
                            t.failure_reason.unwrap_or_default()
                        )));
                    }
                    _ => {}
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(QueueError::Consume("message move task did not finish in 2 minutes".into()))
    }
}
