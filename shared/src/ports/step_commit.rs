//! An optional port: committing a step's outcome in one transaction.

use async_trait::async_trait;

use super::{Checkpoint, StoreError};
use crate::domain::StepMessage;

/// A backend that keeps runs and messages in one database (the embedded one) commits what a
/// delivered step message leads to as one transaction: the checkpoint, the message that follows
/// it, and the delivered message's deletion — all or nothing.
///
/// Optional by design. Without it the runner writes them one after another (checkpoint, send,
/// ack), and the engine's correctness argument assumes exactly that: any of the three can be
/// lost to a crash and the others still hold (DESIGN.md). Folding them changes no outcome, only
/// how many commits a step costs.
#[async_trait]
pub trait StepCommit: Send + Sync {
    /// Write `cp` (its condition as [`super::RunStore::checkpoint`]: `ConditionFailed` and
    /// nothing written if the run moved), then `next` (sent at once) if any, and delete the
    /// delivered message whose receipt is `delivered`, in one transaction.
    async fn commit_step(
        &self,
        cp: Checkpoint<'_>,
        next: Option<&StepMessage>,
        delivered: &str,
    ) -> Result<(), StoreError>;
}
