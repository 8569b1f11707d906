//! Content safety, failing closed: a checker error or timeout blocks. Verdicts are remembered per
//! run by the SHA-256 of the checked text, so a replayed or resumed step does not ask again
//! (errors are never remembered, so they are asked again).

use sha2::{Digest, Sha256};

use super::{Engine, EngineError};
use crate::domain::{RunId, SafetyRecord};
use crate::ports::SafetyVerdict;

/// Why a text could not be cleared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SafetyOutcome {
    /// The text may be used.
    Safe,
    /// The checker blocked it, with its reason.
    Blocked(String),
    /// The checker failed or timed out: treat as blocked for now.
    Unavailable(String),
}

fn sha(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl Engine {
    /// Check `text`, using and filling the run's verdict cache when `run` is given.
    pub async fn check_safety(
        &self,
        run: Option<&RunId>,
        text: &str,
    ) -> Result<SafetyOutcome, EngineError> {
        let key = sha(text);
        if let Some(run) = run
            && let Some(v) = self.store.safety_verdict(run, &key).await?
        {
            return Ok(if v.safe {
                SafetyOutcome::Safe
            } else {
                SafetyOutcome::Blocked(v.reason.unwrap_or_default())
            });
        }
        let verdict = match tokio::time::timeout(
            self.config.safety_timeout,
            self.providers.safety.check(text),
        )
        .await
        {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => return Ok(SafetyOutcome::Unavailable(e.to_string())),
            Err(_) => {
                return Ok(SafetyOutcome::Unavailable(format!(
                    "the safety checker did not answer within {:?}",
                    self.config.safety_timeout
                )));
            }
        };
        let record = match &verdict {
            SafetyVerdict::Safe => SafetyRecord { safe: true, reason: None },
            SafetyVerdict::Blocked(r) => SafetyRecord { safe: false, reason: Some(r.clone()) },
        };
        if let Some(run) = run {
            self.store.record_safety_verdict(run, &key, &record).await?;
        }
        Ok(match verdict {
            SafetyVerdict::Safe => SafetyOutcome::Safe,
            SafetyVerdict::Blocked(r) => SafetyOutcome::Blocked(r),
        })
    }
}
