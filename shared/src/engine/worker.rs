//! A long-lived consumer of the step queue for one-process deployments (the embedded backend):
//! what Lambda's SQS event source mapping does on AWS. Receive a batch, handle each message
//! concurrently, delete what was acked, leave the rest for redelivery after its visibility timeout.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tracing::{error, warn};

use super::{Disposition, Engine};
use crate::domain::StepMessage;
use crate::ports::QueueConsumer;

/// Run until `stop` resolves. `name` prefixes lease owners.
pub async fn run_worker(
    engine: Engine,
    consumer: Arc<dyn QueueConsumer>,
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
            let (engine, consumer) = (engine.clone(), consumer.clone());
            let owner = format!("{name}:{}", m.message_id);
            tasks.spawn(async move {
                let msg: StepMessage = match serde_json::from_str(&m.body) {
                    Ok(msg) => msg,
                    Err(e) => {
                        error!(message_id = %m.message_id, error = %e, "unparseable step message");
                        return;
                    }
                };
                match engine.handle_delivery(&msg, &owner, m.receive_count).await {
                    Ok(Disposition::Ack) => {
                        if let Err(e) = consumer.delete(&m.receipt).await {
                            warn!(error = %e, "delete failed; the message will be redelivered");
                        }
                    }
                    Ok(Disposition::Retry) => {}
                    Err(e) => {
                        warn!(run_id = %msg.run_id, code = e.code(), error = %e, "step failed")
                    }
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }
}
