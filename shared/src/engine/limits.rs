//! Records stay small (DESIGN.md invariant 12): outside text is bounded where it enters (LLM
//! output, provider reasons, comments), and a checkpoint that would still grow past the budget
//! fails the run with a clear reason instead of failing to write, forever, at DynamoDB's 400 KB.

use crate::domain::{RunError, RunRecord, RunStatus};

/// Largest encoded run record a checkpoint writes. DynamoDB caps an item at 400 KB and the
/// history item holds a second copy in its snapshot; this leaves room for the attributes.
pub const MAX_RECORD_BYTES: usize = 300_000;

/// `next`, or — when it is too large to store — `prev` failed with `record_too_large`, its
/// version and control attributes taken from `next`.
pub(crate) fn fit(next: RunRecord, prev: &RunRecord) -> RunRecord {
    let size = serde_json::to_vec(&next).map(|v| v.len()).unwrap_or(usize::MAX);
    if size <= MAX_RECORD_BYTES {
        return next;
    }
    tracing::error!(size, "checkpoint too large; failing the run instead");
    let mut failed = prev.clone();
    failed.version = next.version;
    failed.updated_at = next.updated_at;
    failed.written_by = next.written_by;
    failed.clear_control();
    failed.status = RunStatus::Failed;
    failed.open_wait = None;
    failed.error = Some(RunError::new(
        prev.step,
        "record_too_large",
        format!("the run's state would take {size} bytes (limit {MAX_RECORD_BYTES})"),
    ));
    failed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ProjectName, Step};
    use crate::time::Timestamp;

    #[test]
    fn a_record_too_large_to_store_becomes_the_failed_previous_one() {
        let prev =
            RunRecord::new(ProjectName::parse("p").unwrap(), "b".into(), 1, None, Timestamp(0));
        let mut next = prev.clone();
        next.version = 2;
        next.step = Step::IdeationApproval;
        next.brief = "x".repeat(MAX_RECORD_BYTES);
        let out = fit(next.clone(), &prev);
        assert_eq!((out.version, out.status, out.step), (2, RunStatus::Failed, Step::Ideation));
        assert_eq!(out.error.unwrap().code, "record_too_large");
        assert_eq!(out.brief, "b");
        next.brief = "fine".into();
        assert_eq!(fit(next.clone(), &prev), next);
    }
}
