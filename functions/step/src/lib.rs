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
        tasks.spawn(async move {
            let msg: StepMessage = match serde_json::from_str(rec.body.as_deref().unwrap_or_default()) {
                Ok(m) => m,
                Err(e) => {
                    // Poison: leave it to the redrive policy, which moves it to the DLQ.
                    error!(message_id = %id, error = %e, "unparseable step message");
                    return Some(id);
                }
            };
            match engine.handle_message(&msg, &owner).await {
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
