//! A local stand-in for Lambda's SQS event source mapping: receive a batch, call the handler with a
//! real `SqsEvent`, delete only the messages that succeeded (`batchItemFailures` stay for
//! redelivery after the visibility timeout). With `duplicate`, every message is also re-sent once
//! as a real second SQS message, to prove at-least-once delivery is harmless.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName};

const DUP_ATTR: &str = "myloware-duplicate";

/// The driver.
#[derive(Debug, Clone)]
pub struct SqsDriver {
    client: Client,
    queue_url: String,
    /// Re-send every message once (test mode).
    pub duplicate: bool,
    /// Messages per batch (1..=10).
    pub batch_size: i32,
    /// Long-poll wait per receive.
    pub wait: Duration,
    duplicated: Arc<AtomicUsize>,
    received: Arc<AtomicUsize>,
    handling: Arc<std::sync::Mutex<Duration>>,
    batches: Arc<std::sync::Mutex<Vec<(usize, Duration)>>>,
}

impl SqsDriver {
    /// A driver for the queue at `queue_url`.
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
            duplicate: false,
            batch_size: 10,
            wait: Duration::from_secs(1),
            duplicated: Arc::default(),
            received: Arc::default(),
            handling: Arc::default(),
            batches: Arc::default(),
        }
    }

    /// Messages handed to the handler so far (this driver and its clones).
    pub fn messages_received(&self) -> usize {
        self.received.load(Ordering::SeqCst)
    }

    /// Total time the handler took over all batches (what Lambda would bill).
    pub fn handler_time(&self) -> Duration {
        *self.handling.lock().unwrap()
    }

    /// Each handler call so far: batch size and how long the handler took.
    pub fn batch_timings(&self) -> Vec<(usize, Duration)> {
        self.batches.lock().unwrap().clone()
    }

    /// How many duplicates this driver (and its clones) sent.
    pub fn duplicates_sent(&self) -> usize {
        self.duplicated.load(Ordering::SeqCst)
    }

    /// One receive → invoke → delete cycle; returns how many messages were received.
    pub async fn poll_once<F, Fut>(&self, handler: &F) -> Result<usize, String>
    where
        F: Fn(SqsEvent) -> Fut,
        Fut: Future<Output = SqsBatchResponse>,
    {
        let resp = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(self.batch_size)
            .wait_time_seconds(self.wait.as_secs() as i32)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
        let messages = resp.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(0);
        }
        let mut records = Vec::with_capacity(messages.len());
        for m in &messages {
            let is_dup = m.message_attributes.as_ref().is_some_and(|a| a.contains_key(DUP_ATTR));
            if self.duplicate && !is_dup {
                self.send_duplicate(m).await?;
            }
            let mut r = SqsMessage::default();
            r.message_id = m.message_id.clone();
            r.receipt_handle = m.receipt_handle.clone();
            r.body = m.body.clone();
            r.md5_of_body = m.md5_of_body.clone();
            r.attributes = m
                .attributes
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k.as_str().to_owned(), v))
                .collect();
            r.event_source = Some("aws:sqs".into());
            records.push(r);
        }
        let mut event = SqsEvent::default();
        event.records = records;
        self.received.fetch_add(messages.len(), Ordering::SeqCst);
        let started = std::time::Instant::now();
        let result = handler(event).await;
        *self.handling.lock().unwrap() += started.elapsed();
        self.batches.lock().unwrap().push((messages.len(), started.elapsed()));
        let failed: std::collections::HashSet<&str> =
            result.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        for m in &messages {
            let id = m.message_id.as_deref().unwrap_or_default();
            if failed.contains(id) {
                continue;
            }
            if let Some(rh) = &m.receipt_handle {
                self.client
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(rh)
                    .send()
                    .await
                    .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
            }
        }
        Ok(messages.len())
    }

    async fn send_duplicate(&self, m: &aws_sdk_sqs::types::Message) -> Result<(), String> {
        let mut attrs = m.message_attributes.clone().unwrap_or_default();
        attrs.insert(
            DUP_ATTR.into(),
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value("1")
                .build()
                .map_err(|e| e.to_string())?,
        );
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(m.body.clone().unwrap_or_default())
            .set_message_attributes(Some(attrs))
            .send()
            .await
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
        self.duplicated.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// Poll until `stop` resolves. Errors are logged and retried after a pause.
    pub async fn run<F, Fut>(&self, handler: F, stop: impl Future<Output = ()>)
    where
        F: Fn(SqsEvent) -> Fut,
        Fut: Future<Output = SqsBatchResponse>,
    {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                r = self.poll_once(&handler) => {
                    if let Err(e) = r {
                        tracing::warn!(error = %e, "sqs driver receive failed");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
        }
    }
}
