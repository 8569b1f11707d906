//! `StepQueue` on SQS. The causing request id travels as a message attribute too, so it shows
//! in the console and in DLQ listings without parsing bodies.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::MessageAttributeValue;
use myloware::domain::StepMessage;
use myloware::ports::{QueueError, StepQueue};

/// Longest SQS message delay.
pub const MAX_DELAY: Duration = Duration::from_secs(900);

/// The SQS step queue.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
}

impl SqsQueue {
    /// A queue at `url`.
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }
}

#[async_trait]
impl StepQueue for SqsQueue {
    async fn send(&self, msg: &StepMessage, delay: Duration) -> Result<(), QueueError> {
        let body = serde_json::to_string(msg).expect("messages serialise");
        let mut req = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(delay.min(MAX_DELAY).as_secs() as i32);
        if let Some(rid) = &msg.request_id {
            let attr = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(rid)
                .build()
                .map_err(|e| QueueError::Send(e.to_string()))?;
            req = req.message_attributes("request_id", attr);
        }
        req.send().await.map_err(|e| {
            QueueError::Send(aws_sdk_sqs::error::DisplayErrorContext(e).to_string())
        })?;
        Ok(())
    }
}
