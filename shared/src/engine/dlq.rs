//! Dead-letter operations: list, show, replay one, redrive all, resolve. Each message is shown
//! with its run's step, error and attempt count; every operator action is audited on the run the
//! message names.

use serde::{Deserialize, Serialize};
use tracing::info;

use super::{Engine, EngineError};
use crate::domain::{RunError, RunId, RunStatus, Step, StepMessage};
use crate::ports::{DeadLetter, DeadLetters, MoveTask};
use crate::time::Timestamp;

/// A DLQ message with what its run says about it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeadLetterView {
    /// The DLQ's message id (what replay / resolve take).
    pub message_id: String,
    /// The run the message names (absent for an unparseable body).
    pub run_id: Option<RunId>,
    /// The run's step.
    pub step: Option<Step>,
    /// The run's status.
    pub status: Option<RunStatus>,
    /// Why it stalled (or failed).
    pub error: Option<RunError>,
    /// Attempts made before it gave up.
    pub attempts: Option<u32>,
    /// Seconds since the message was first sent.
    pub age_secs: Option<u64>,
    /// The raw body.
    pub body: String,
}

/// What an operator did with a DLQ message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DlqAction {
    /// The message.
    pub message_id: String,
    /// Its run.
    pub run_id: Option<RunId>,
    /// `replayed` or `resolved`.
    pub action: String,
}

fn missing(id: &str) -> EngineError {
    EngineError::NotFound(format!("DLQ message {id}"))
}

impl Engine {
    async fn view(&self, l: DeadLetter, now: Timestamp) -> Result<DeadLetterView, EngineError> {
        let msg: Option<StepMessage> = serde_json::from_str(&l.body).ok();
        let run = match &msg {
            Some(m) => self.store.get_run(&m.run_id).await?,
            None => None,
        };
        Ok(DeadLetterView {
            message_id: l.message_id,
            run_id: msg.map(|m| m.run_id),
            step: run.as_ref().map(|r| r.step),
            status: run.as_ref().map(|r| r.status),
            attempts: run.as_ref().and_then(|r| r.error.as_ref()).and_then(|e| e.attempts),
            error: run.and_then(|r| r.error),
            age_secs: l.sent_at.map(|t| now.since(t).as_secs()),
            body: l.body,
        })
    }

    /// The DLQ's messages, oldest first, up to `limit`.
    pub async fn dlq_list(
        &self,
        dlq: &dyn DeadLetters,
        limit: u32,
    ) -> Result<Vec<DeadLetterView>, EngineError> {
        let now = self.clock.now();
        let mut out = Vec::new();
        for l in dlq.list(limit).await? {
            out.push(self.view(l, now).await?);
        }
        Ok(out)
    }

    /// One DLQ message.
    pub async fn dlq_show(
        &self,
        dlq: &dyn DeadLetters,
        message_id: &str,
    ) -> Result<DeadLetterView, EngineError> {
        let l = dlq.list(1000).await?.into_iter().find(|l| l.message_id == message_id);
        self.view(l.ok_or_else(|| missing(message_id))?, self.clock.now()).await
    }

    /// Send one DLQ message back to the step queue, then delete it from the DLQ (a crash in
    /// between leaves a duplicate, which the runner absorbs; never a loss).
    pub async fn dlq_replay(
        &self,
        dlq: &dyn DeadLetters,
        message_id: &str,
        actor: &str,
    ) -> Result<DlqAction, EngineError> {
        let held = dlq.hold(message_id).await?.ok_or_else(|| missing(message_id))?;
        let msg: StepMessage =
            serde_json::from_str(&held.letter.body).map_err(|e| EngineError::Conflict {
                code: "unparseable_message",
                detail: format!("the message is not a step message ({e}); resolve it instead"),
            })?;
        self.queue.send(&msg, std::time::Duration::ZERO).await?;
        dlq.delete(&held.receipt).await?;
        self.audit_dlq(Some(msg.run_id), "dlq_replayed", actor, message_id, None).await?;
        info!(message_id, run_id = %msg.run_id, "DLQ message replayed");
        Ok(DlqAction {
            message_id: message_id.into(),
            run_id: Some(msg.run_id),
            action: "replayed".into(),
        })
    }

    /// Delete one DLQ message without running it (the operator dealt with its run otherwise).
    pub async fn dlq_resolve(
        &self,
        dlq: &dyn DeadLetters,
        message_id: &str,
        actor: &str,
        reason: Option<String>,
    ) -> Result<DlqAction, EngineError> {
        let held = dlq.hold(message_id).await?.ok_or_else(|| missing(message_id))?;
        let run_id = serde_json::from_str::<StepMessage>(&held.letter.body).ok().map(|m| m.run_id);
        dlq.delete(&held.receipt).await?;
        self.audit_dlq(run_id, "dlq_resolved", actor, message_id, reason).await?;
        info!(message_id, "DLQ message resolved");
        Ok(DlqAction { message_id: message_id.into(), run_id, action: "resolved".into() })
    }

    /// Start moving every DLQ message back to the step queue (audited on each run named by the
    /// messages seen, up to 1000); progress through [`DeadLetters::redrive_tasks`].
    pub async fn dlq_redrive(
        &self,
        dlq: &dyn DeadLetters,
        actor: &str,
    ) -> Result<MoveTask, EngineError> {
        let letters = dlq.list(1000).await?;
        let task = dlq.start_redrive().await?;
        for l in letters {
            if let Ok(m) = serde_json::from_str::<StepMessage>(&l.body) {
                self.audit_dlq(Some(m.run_id), "dlq_redriven", actor, &l.message_id, None).await?;
            }
        }
        info!(handle = %task.handle, "DLQ redrive started");
        Ok(task)
    }

    async fn audit_dlq(
        &self,
        run_id: Option<RunId>,
        action: &str,
        actor: &str,
        message_id: &str,
        reason: Option<String>,
    ) -> Result<(), EngineError> {
        let Some(run_id) = run_id else { return Ok(()) };
        let entry = crate::domain::AuditEntry {
            run_id,
            action: action.into(),
            actor: actor.into(),
            detail: serde_json::json!({ "message_id": message_id, "reason": reason }),
            at: self.clock.now(),
        };
        self.store.append_audit(&entry).await?;
        Ok(())
    }
}
