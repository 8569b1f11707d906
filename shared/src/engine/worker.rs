//! Consuming step messages. `process` turns one delivery into a [`Disposition`]; `run_worker` is
//! the long-lived consumer for one-process deployments (the embedded backend), doing what
//! Lambda's SQS event source mapping does on AWS: receive a batch, handle each message
//! concurrently, delete what was acked, hide what will be retried for its backoff, and move what
//! gave up to the DLQ.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tracing::{error, warn};

use super::{Disposition, Engine};
use crate::domain::StepMessage;
use crate::ports::{DeadLetters, QueueConsumer, QueueError, Received};

impl Engine {
    /// Handle one delivery from the step queue. An unparseable body can never succeed: it goes
    /// to the DLQ at once. Our own infrastructure failing retries with the default backoff.
    /// `owner` names the consumer; each delivery gets its own lease owner under it, so two
    /// copies of one message never take each other's lease for their own.
    pub async fn process(&self, m: &Received, owner: &str) -> Disposition {
        let msg: StepMessage = match serde_json::from_str(&m.body) {
            Ok(msg) => StepMessage { receipt: Some(m.receipt.clone()), ..msg },
            Err(e) => {
                error!(message_id = %m.message_id, error = %e, "unparseable step message");
                return Disposition::POISON;
            }
        };
        let owner = format!("{owner}:{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        match self.handle_delivery(&msg, &owner, m.receive_count).await {
            Ok(d) => d,
            Err(_) => {
                Disposition::Retry { after: super::stall::infra_backoff(self, m.receive_count) }
            }
        }
    }
}

/// Carry out a disposition on a consumer that deletes for itself (not Lambda's event source).
pub async fn settle(
    consumer: &dyn QueueConsumer,
    dlq: &dyn DeadLetters,
    m: &Received,
    d: Disposition,
) -> Result<(), QueueError> {
    match d {
        Disposition::Ack => consumer.delete(&m.receipt).await,
        Disposition::Retry { after } => consumer.change_visibility(&m.receipt, after).await,
        Disposition::DeadLetter { .. } => {
            // Bury first: a crash in between leaves a copy in both, never in neither.
            dlq.bury(&d.dead_letter_body(&m.body)).await?;
            consumer.delete(&m.receipt).await
        }
    }
}

/// Run until `stop` resolves. `name` prefixes lease owners.
pub async fn run_worker(
    engine: Engine,
    consumer: Arc<dyn QueueConsumer>,
    dlq: Arc<dyn DeadLetters>,
    name: String,
    stop: impl Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        let batch = tokio::select! {
            _ = &mut stop => return,
            b = consumer.receive(10, Duration::from_secs(1)) => b,
        };
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                warn!(error = %e, "receive failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let mut tasks = JoinSet::new();
        for m in batch {
            let (engine, consumer, dlq) = (engine.clone(), consumer.clone(), dlq.clone());
            let owner = format!("{name}:{}", m.message_id);
            tasks.spawn(async move {
                let d = engine.process(&m, &owner).await;
                if let Err(e) = settle(consumer.as_ref(), dlq.as_ref(), &m, d).await {
                    warn!(error = %e, "settling the message failed; it will be redelivered");
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }
}
