//! The step function's handler: one SQS batch → one engine call per message → the partial batch
//! response (`ReportBatchItemFailures`), so only failed messages are redelivered.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use myloware::Engine;
use myloware::domain::StepMessage;
use myloware::engine::Disposition;
use tokio::task::JoinSet;
use tracing::{error, warn};

/// Handle a batch. Messages run concurrently; each failure is reported by message id.
pub async fn handle_batch(engine: &Engine, event: SqsEvent, invocation: &str) -> SqsBatchResponse {
    let mut tasks = JoinSet::new();
    for rec in event.records {
        let id = rec.message_id.clone().unwrap_or_default();
        let engine = engine.clone();
        let owner = format!("{invocation}:{id}");
        let attempt =
            rec.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(1);
        tasks.spawn(async move {
            let msg: StepMessage = match serde_json::from_str(rec.body.as_deref().unwrap_or_default()) {
                Ok(m) => m,
                Err(e) => {
                    // Poison: leave it to the redrive policy, which moves it to the DLQ.
                    error!(message_id = %id, error = %e, "unparseable step message");
                    return Some(id);
                }
            };
            match engine.handle_delivery(&msg, &owner, attempt).await {
                Ok(Disposition::Ack) => None,
                Ok(Disposition::Retry) => Some(id),
                Err(e) => {
                    warn!(message_id = %id, run_id = %msg.run_id, code = e.code(), error = %e, "step failed");
                    Some(id)
                }
            }
        });
    }
    let mut resp = SqsBatchResponse::default();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Some(id)) => resp.add_failure(id),
            Ok(None) => {}
            Err(e) => error!(error = %e, "step task panicked"),
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
    use myloware::fakes::{CallbackMode, FakeSet, NullSink};
    use myloware::ports::RunStore;
    use myloware::time::{Clock, SystemClock};
    use myloware::webhooks::WebhookSecret;

    use super::*;

    const FAR: myloware::time::Timestamp = myloware::time::Timestamp(4_102_444_800_000);

    fn record(id: &str, body: &str) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.into());
        m.body = Some(body.into());
        m
    }

    #[tokio::test]
    async fn reports_only_failed_messages() {
        let backend = MemoryBackend::default();
        let store = backend.store.clone();
        let secret = WebhookSecret::parse("s").unwrap();
        let fakes = FakeSet::new(
            secret.clone(),
            secret,
            Arc::new(NullSink),
            CallbackMode::Manual,
            Arc::new(SystemClock),
        );
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
        let resp = handle_batch(&engine, event, "inv-1").await;
        let mut failed: Vec<&str> =
            resp.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        failed.sort();
        assert_eq!(failed, ["leased", "poison"]);
        let after = store.get_run(&ready.run_id).await.unwrap().unwrap();
        assert_eq!(after.version, 2, "the good message ran its step");
        let json = serde_json::to_value(&resp).unwrap();
        assert!(json["batchItemFailures"].is_array(), "{json}");
    }
}
