//! Human gate decisions: a versioned checkpoint with an audit entry; a repeat of the same decision
//! is answered idempotently, a different one is a conflict.

use tracing::info;

use super::{Engine, EngineError};
use crate::domain::{
    AuditEntry, Decision, Gate, GateDecision, RunId, RunRecord, RunStatus, Step, StepKind,
};
use crate::ports::{Checkpoint, StoreError};

/// The result of a decision.
#[derive(Debug, Clone)]
pub struct GateOutcome {
    /// The run after the decision.
    pub run: RunRecord,
    /// True when this exact decision had already been taken (nothing changed).
    pub replayed: bool,
}

impl Engine {
    /// Approve or reject `gate` on a run.
    pub async fn decide(
        &self,
        run_id: &RunId,
        gate: Gate,
        decision: Decision,
        comment: Option<String>,
        actor: &str,
        request_id: Option<String>,
    ) -> Result<GateOutcome, EngineError> {
        // Two attempts: the second only if a concurrent change moved the version under us.
        for _ in 0..2 {
            let run = self
                .store
                .get_run(run_id)
                .await?
                .ok_or_else(|| EngineError::NotFound(run_id.to_string()))?;
            if run.step.kind() != StepKind::Gate(gate) || run.status != gate.waiting_status() {
                return self.replay_or_conflict(run, gate, decision, request_id).await;
            }
            let now = self.clock.now();
            let mut next = run.clone();
            next.state.decisions.push(GateDecision {
                gate,
                decision,
                comment: comment.clone(),
                at: now,
            });
            next.open_wait = None;
            let action = match decision {
                Decision::Approve => {
                    // A fork parked here goes on at its own starting step.
                    next.step = next.state.resume_at.take().unwrap_or(gate.next_step());
                    next.status = next.step.runnable_status();
                    "gate_approved"
                }
                Decision::Reject => {
                    next.step = Step::Done;
                    next.status = RunStatus::Rejected;
                    "gate_rejected"
                }
            };
            self.stamp(&mut next, &run);
            let audit = AuditEntry {
                run_id: *run_id,
                action: action.into(),
                actor: actor.into(),
                detail: serde_json::json!({ "gate": gate, "comment": comment, "request_id": request_id }),
                at: now,
            };
            match self.store.checkpoint(Checkpoint::new(&next, run.version).audited(&audit)).await {
                Ok(()) => {
                    info!(run_id = %run_id, gate = gate.as_str(), action, "gate decided");
                    self.send_next(&next, request_id).await?;
                    return Ok(GateOutcome { run: next, replayed: false });
                }
                Err(StoreError::ConditionFailed(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(EngineError::Conflict {
            code: "concurrent_update",
            detail: "the run changed while deciding; retry".into(),
        })
    }

    async fn replay_or_conflict(
        &self,
        run: RunRecord,
        gate: Gate,
        decision: Decision,
        request_id: Option<String>,
    ) -> Result<GateOutcome, EngineError> {
        let same = run.state.decisions.iter().rev().find(|d| d.gate == gate);
        if let Some(prev) = same
            && prev.decision == decision
        {
            // The decision stands. Its message may have been lost if the first request died
            // between checkpoint and send; a duplicate message is harmless.
            if decision == Decision::Approve && run.step.kind() == StepKind::Active {
                self.send_next(&run, request_id).await?;
            }
            return Ok(GateOutcome { run, replayed: true });
        }
        Err(EngineError::Conflict {
            code: "not_waiting_at_gate",
            detail: format!(
                "run is {} at step {}, not waiting at the {} gate",
                run.status,
                run.step,
                gate.as_str()
            ),
        })
    }
}
