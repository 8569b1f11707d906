//! Feedback: a person rates a run (1 to 5, with a comment). One rating per caller per run; a
//! second one from the same caller replaces the first and keeps when it was first given.
//! Rated runs become eval cases (`myloware eval export-feedback`).

use super::{Engine, EngineError};
use crate::domain::{Feedback, MAX_FEEDBACK_CHARS, RunId};

impl Engine {
    /// Record `caller`'s rating of a run; `true` when it is the caller's first.
    pub async fn give_feedback(
        &self,
        run_id: &RunId,
        caller: &str,
        rating: u8,
        comment: Option<String>,
    ) -> Result<(Feedback, bool), EngineError> {
        if !(1..=5).contains(&rating) {
            return Err(EngineError::invalid(
                "invalid_rating",
                format!("rating {rating} is not 1 to 5"),
            ));
        }
        let comment = comment.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
        if let Some(n) =
            comment.as_ref().map(|c| c.chars().count()).filter(|n| *n > MAX_FEEDBACK_CHARS)
        {
            return Err(EngineError::invalid(
                "invalid_comment",
                format!("comment has {n} characters (at most {MAX_FEEDBACK_CHARS})"),
            ));
        }
        let earlier = self.feedback(run_id).await?.into_iter().find(|f| f.caller == caller);
        let now = self.clock.now();
        let feedback = Feedback {
            run_id: *run_id,
            caller: caller.to_owned(),
            rating,
            comment,
            created_at: earlier.as_ref().map_or(now, |f| f.created_at),
            updated_at: now,
        };
        self.store.put_feedback(&feedback).await?;
        tracing::info!(run_id = %run_id, rating, "feedback recorded");
        Ok((feedback, earlier.is_none()))
    }

    /// Every caller's feedback on a run (404 for an unknown run).
    pub async fn feedback(&self, run_id: &RunId) -> Result<Vec<Feedback>, EngineError> {
        if self.store.get_run(run_id).await?.is_none() {
            return Err(EngineError::NotFound(run_id.to_string()));
        }
        Ok(self.store.feedback(run_id).await?)
    }
}
