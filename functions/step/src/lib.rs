//! The step function's handler: one SQS batch → one engine call per message → the partial batch
//! response (`ReportBatchItemFailures`), so only failed messages are redelivered. A retried
//! message is first hidden for its backoff (`ChangeMessageVisibility`); one whose retries ran out
//! is moved to the DLQ and reported done.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use myloware::Engine;
use myloware::engine::Disposition;
use myloware::ports::{DeadLetters, QueueConsumer, Received};
use tokio::task::JoinSet;
use tracing::{error, warn};

/// The step queue's consuming side and its DLQ.
#[derive(Clone)]
pub struct StepQueues {
    /// For visibility changes (backoff).
    pub consumer: Arc<dyn QueueConsumer>,
    /// Where exhausted and unusable messages go.
    pub dlq: Arc<dyn DeadLetters>,
}

fn received(rec: SqsMessage) -> Received {
    Received {
        receive_count: rec
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|c| c.parse().ok())
            .unwrap_or(1),
        message_id: rec.message_id.unwrap_or_default(),
        receipt: rec.receipt_handle.unwrap_or_default(),
        body: rec.body.unwrap_or_default(),
    }
}

/// Handle a batch. Messages run concurrently; each failure is reported by message id.
pub async fn handle_batch(
    engine: &Engine,
    queues: &StepQueues,
    event: SqsEvent,
    invocation: &str,
) -> SqsBatchResponse {
    let mut tasks = JoinSet::new();
    let mut ids = std::collections::HashMap::new();
    for rec in event.records {
        let m = received(rec);
        let (engine, queues) = (engine.clone(), queues.clone());
        let owner = format!("{invocation}:{}", m.message_id);
        let id = m.message_id.clone();
        let task = tasks.spawn(async move {
            let failed = Some(m.message_id.clone());
            match engine.process(&m, &owner).await {
                Disposition::Ack => None,
                Disposition::Retry { after } => {
                    if let Err(e) = queues.consumer.change_visibility(&m.receipt, after).await {
                        warn!(message_id = %m.message_id, error = %e, "could not delay the retry");
                    }
                    failed
                }
                d @ Disposition::DeadLetter { .. } => match queues.dlq.bury(&d.dead_letter_body(&m.body)).await {
                    Ok(()) => None,
                    Err(e) => {
                        error!(message_id = %m.message_id, error = %e, "could not move to the DLQ");
                        failed
                    }
                },
            }
        });
        ids.insert(task.id(), id);
    }
    let mut resp = SqsBatchResponse::default();
    while let Some(done) = tasks.join_next_with_id().await {
        match done {
            Ok((_, Some(id))) => resp.add_failure(id),
            Ok((_, None)) => {}
            // A panicked handler did not finish its message: report it, so it is redelivered.
            Err(e) => {
                error!(error = %e, "step task panicked");
                resp.add_failure(ids.remove(&e.id()).unwrap_or_default());
            }
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
    use myloware::adapters::MemoryBackend;
    use myloware::domain::{ProjectName, RunRecord, StepMessage};
    use myloware::fakes::FakeSet;
    use myloware::ports::{DeadLetter, HeldLetter, MoveTask, QueueError, RunStore};
    use myloware::time::{Clock, SystemClock};
    use myloware::webhooks::WebhookSecret;

    use super::*;

    const FAR: myloware::time::Timestamp = myloware::time::Timestamp(4_102_444_800_000);

    fn record(id: &str, body: &str) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.into());
        m.receipt_handle = Some(format!("receipt-{id}"));
        m.body = Some(body.into());
        m
    }

    /// Records what the handler asks of SQS (the real calls are covered on LocalStack).
    #[derive(Default)]
    struct Calls {
        hidden: std::sync::Mutex<Vec<(String, Duration)>>,
        buried: std::sync::Mutex<Vec<String>>,
    }

    #[async_trait::async_trait]
    impl QueueConsumer for Calls {
        async fn receive(&self, _: u32, _: Duration) -> Result<Vec<Received>, QueueError> {
            Ok(vec![])
        }
        async fn delete(&self, _: &str) -> Result<(), QueueError> {
            Ok(())
        }
        async fn change_visibility(&self, r: &str, t: Duration) -> Result<(), QueueError> {
            self.hidden.lock().unwrap().push((r.into(), t));
            Ok(())
        }
    }

    #[async_trait::async_trait]
    impl DeadLetters for Calls {
        async fn bury(&self, body: &str) -> Result<(), QueueError> {
            self.buried.lock().unwrap().push(body.into());
            Ok(())
        }
        async fn list(&self, _: u32) -> Result<Vec<DeadLetter>, QueueError> {
            Ok(vec![])
        }
        async fn hold(&self, _: &str) -> Result<Option<HeldLetter>, QueueError> {
            Ok(None)
        }
        async fn delete(&self, _: &str) -> Result<(), QueueError> {
            Ok(())
        }
        async fn start_redrive(&self) -> Result<MoveTask, QueueError> {
            Err(QueueError::Consume("not here".into()))
        }
        async fn redrive_tasks(&self) -> Result<Vec<MoveTask>, QueueError> {
            Ok(vec![])
        }
    }

    #[tokio::test]
    async fn reports_only_failed_messages() {
        let backend = MemoryBackend::default();
        let store = backend.store.clone();
        let secret = WebhookSecret::parse("s").unwrap();
        let fakes = FakeSet::silent(secret);
        let engine = backend.engine(fakes.providers(), Arc::new(SystemClock), Default::default());
        let now = SystemClock.now();
        let busy = RunRecord::new(ProjectName::parse("p").unwrap(), "brief".into(), 1, None, now);
        store.create_run(&busy, FAR).await.unwrap();
        store
            .acquire_lease(&busy.run_id, 1, "someone-else", now.plus(Duration::from_secs(60)), now)
            .await
            .unwrap();
        let ready = RunRecord::new(ProjectName::parse("p").unwrap(), "brief".into(), 1, None, now);
        store.create_run(&ready, FAR).await.unwrap();

        let msg = |r: &RunRecord| serde_json::to_string(&StepMessage::at(r.run_id, 1)).unwrap();
        let mut event = SqsEvent::default();
        event.records = vec![
            record("ok", &msg(&ready)),
            record("poison", "{not json"),
            record("leased", &msg(&busy)),
            record(
                "unknown-run",
                &serde_json::to_string(&StepMessage::at(myloware::RunId::new(), 1)).unwrap(),
            ),
        ];
        let calls = Arc::new(Calls::default());
        let queues = StepQueues { consumer: calls.clone(), dlq: calls.clone() };
        let resp = handle_batch(&engine, &queues, event, "inv-1").await;
        let mut failed: Vec<&str> =
            resp.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        failed.sort();
        // The poison message can never succeed: it went to the DLQ and counts as handled.
        assert_eq!(failed, ["leased"]);
        assert_eq!(*calls.buried.lock().unwrap(), ["{not json"]);
        // The leased one is hidden until the other holder's lease lapses, not retried at once.
        let hidden = calls.hidden.lock().unwrap().clone();
        assert_eq!(hidden.len(), 1);
        assert_eq!(hidden[0].0, "receipt-leased");
        assert!(hidden[0].1 > Duration::from_secs(50), "{hidden:?}");
        let after = store.get_run(&ready.run_id).await.unwrap().unwrap();
        assert_eq!(after.version, 2, "the good message ran its step");
        let json = serde_json::to_value(&resp).unwrap();
        assert!(json["batchItemFailures"].is_array(), "{json}");
    }
}
