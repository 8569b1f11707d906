//! `StepQueue` on SQS. The causing request id travels as a message attribute too, so it shows
//! in the console and in DLQ listings without parsing bodies.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
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
        Self { client, url: url.into() }
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The queue URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

fn body(msg: &StepMessage) -> String {
    serde_json::to_string(msg).expect("messages serialise")
}

/// SQS delays are whole seconds: round up, so a message is never visible before its delay
/// (a timer that fires early would only re-arm, but a late one never acts too soon).
fn delay_secs(delay: Duration) -> i32 {
    delay.min(MAX_DELAY).as_millis().div_ceil(1000) as i32
}

fn request_id_attr(msg: &StepMessage) -> Result<Option<MessageAttributeValue>, QueueError> {
    msg.request_id
        .as_ref()
        .map(|rid| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(rid)
                .build()
                .map_err(|e| QueueError::Send(e.to_string()))
        })
        .transpose()
}

fn send_error(e: impl std::error::Error + 'static) -> QueueError {
    QueueError::Send(aws_sdk_sqs::error::DisplayErrorContext(e).to_string())
}

#[async_trait]
impl StepQueue for SqsQueue {
    async fn depth(&self) -> Result<Option<u64>, QueueError> {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let got = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(A::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(|e| {
                QueueError::Consume(aws_sdk_sqs::error::DisplayErrorContext(e).to_string())
            })?;
        let attrs = got.attributes.unwrap_or_default();
        Ok(Some(attrs.values().filter_map(|v| v.parse::<u64>().ok()).sum()))
    }

    async fn send(&self, msg: &StepMessage, delay: Duration) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body(msg))
            .delay_seconds(delay_secs(delay))
            .set_message_attributes(
                request_id_attr(msg)?.map(|a| [("request_id".to_owned(), a)].into()),
            )
            .send()
            .await
            .map_err(send_error)?;
        Ok(())
    }

    async fn send_batch(&self, msgs: &[StepMessage], delay: Duration) -> Result<(), QueueError> {
        for chunk in msgs.chunks(10) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, m) in chunk.iter().enumerate() {
                let entry = SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body(m))
                    .delay_seconds(delay_secs(delay))
                    .set_message_attributes(
                        request_id_attr(m)?.map(|a| [("request_id".to_owned(), a)].into()),
                    )
                    .build()
                    .map_err(|e| QueueError::Send(e.to_string()))?;
                entries.push(entry);
            }
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(send_error)?;
            if let Some(f) = out.failed.first() {
                return Err(QueueError::Send(format!(
                    "{} of {} messages not sent; first: {} {}",
                    out.failed.len(),
                    chunk.len(),
                    f.code,
                    f.message.as_deref().unwrap_or_default()
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_round_up_to_whole_seconds_and_cap_at_fifteen_minutes() {
        assert_eq!(delay_secs(Duration::ZERO), 0);
        assert_eq!(delay_secs(Duration::from_millis(1)), 1);
        assert_eq!(delay_secs(Duration::from_millis(1500)), 2);
        assert_eq!(delay_secs(Duration::from_secs(3)), 3);
        assert_eq!(delay_secs(Duration::from_secs(3600)), 900);
    }
}
