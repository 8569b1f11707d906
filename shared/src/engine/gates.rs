//! Human gate decisions: a versioned checkpoint with an audit entry; a repeat of the same decision
//! is answered idempotently, a different one is a conflict. An approval of the ideation gate may
//! carry the reviewer's edit of the ideas: vetted like the LLM's (schema, blocked terms, safety)
//! before the decision is written, so nothing is paid for ideas that break the rules; the LLM's
//! original stays in the decision.

use tracing::info;

use super::{Engine, EngineError, IdeasProblem};
use crate::domain::{
    AuditEntry, Decision, Gate, GateDecision, Ideas, RunId, RunRecord, RunStatus, Step, StepKind,
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
        self.decide_with(run_id, gate, decision, comment, actor, request_id, None).await
    }

    /// Approve the ideation gate with `ideas` (the reviewer's edit) in place of the LLM's:
    /// 422 `invalid_ideas` when they break the project's schema or the run's clip count, 400
    /// `content_blocked` when a blocked term or the safety checker refuses them; nothing is
    /// written either way.
    pub async fn approve_with_ideas(
        &self,
        run_id: &RunId,
        ideas: &serde_json::Value,
        comment: Option<String>,
        actor: &str,
        request_id: Option<String>,
    ) -> Result<GateOutcome, EngineError> {
        let (gate, decision) = (Gate::Ideation, Decision::Approve);
        self.decide_with(run_id, gate, decision, comment, actor, request_id, Some(ideas)).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn decide_with(
        &self,
        run_id: &RunId,
        gate: Gate,
        decision: Decision,
        comment: Option<String>,
        actor: &str,
        request_id: Option<String>,
        edit: Option<&serde_json::Value>,
    ) -> Result<GateOutcome, EngineError> {
        // Two attempts: the second only if a concurrent change moved the version under us.
        for _ in 0..2 {
            let run = self
                .store
                .get_run(run_id)
                .await?
                .ok_or_else(|| EngineError::NotFound(run_id.to_string()))?;
            if run.step.kind() != StepKind::Gate(gate) || run.status != gate.waiting_status() {
                return self.replay_or_conflict(run, gate, decision, request_id, edit).await;
            }
            let edited = match edit {
                Some(answer) => Some(self.vet_edit(&run, answer).await?),
                None => None,
            };
            let now = self.clock.now();
            let mut next = run.clone();
            let original_ideas = match edited {
                Some(ideas) => next.state.ideas.replace(ideas),
                None => None,
            };
            let edited = original_ideas.is_some();
            next.state.decisions.push(GateDecision {
                gate,
                decision,
                comment: comment.clone(),
                at: now,
                original_ideas,
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
                detail: serde_json::json!({
                    "gate": gate, "comment": comment, "request_id": request_id, "edited": edited,
                }),
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

    /// The reviewer's edit as ideas for `run`, or the error that refuses it.
    async fn vet_edit(
        &self,
        run: &RunRecord,
        answer: &serde_json::Value,
    ) -> Result<Ideas, EngineError> {
        match self.vet_ideas(run, answer).await? {
            Ok(ideas) => Ok(ideas),
            Err(IdeasProblem::Invalid(why)) => Err(EngineError::Unprocessable {
                code: "invalid_ideas",
                detail: format!("the edited ideas do not keep the project's schema: {why}"),
            }),
            Err(IdeasProblem::Blocked(why)) => Err(EngineError::ContentBlocked(why)),
            Err(IdeasProblem::Unavailable(why)) => Err(EngineError::SafetyUnavailable(why)),
        }
    }

    async fn replay_or_conflict(
        &self,
        run: RunRecord,
        gate: Gate,
        decision: Decision,
        request_id: Option<String>,
        edit: Option<&serde_json::Value>,
    ) -> Result<GateOutcome, EngineError> {
        let same = run.state.decisions.iter().rev().find(|d| d.gate == gate);
        // A repeated edit is the same decision only when it is the edit that was taken.
        let same_edit = |prev: &GateDecision| match edit {
            None => true,
            Some(answer) => {
                prev.original_ideas.is_some()
                    && serde_json::from_value::<Ideas>(answer.clone()).ok() == run.state.ideas
            }
        };
        if let Some(prev) = same
            && prev.decision == decision
            && same_edit(prev)
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
