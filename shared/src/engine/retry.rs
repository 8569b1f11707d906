//! Retry policy: how often and how long a step's retryable failure is retried. The wait costs no
//! compute: the caller hides the message for the backoff (`ChangeMessageVisibility`). On the last
//! allowed attempt the runner marks the run `stalled` and the message goes to the DLQ.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::Rng;

use crate::domain::Step;

/// Attempts and backoff (exponential with full jitter, capped) for one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Deliveries allowed before the run stalls (the first attempt included).
    pub max_attempts: u32,
    /// Backoff ceiling after the first failure; doubles per attempt.
    pub base: Duration,
    /// Upper bound of the backoff.
    pub cap: Duration,
}

impl RetryPolicy {
    /// The backoff ceiling after failed attempt `attempt` (1-based): `min(cap, base·2^(attempt-1))`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.saturating_sub(1).min(30)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// Full jitter: a uniformly random delay in `[0, ceiling(attempt)]`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self.ceiling(attempt).as_millis() as u64;
        Duration::from_millis(rand::rng().random_range(0..=ceiling))
    }

    /// True when `attempt` is the last one allowed.
    pub fn exhausted(&self, attempt: u32) -> bool {
        attempt >= self.max_attempts
    }
}

/// The policy of every step: a default and per-step overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicies {
    /// For steps without an override.
    pub default: RetryPolicy,
    /// Per-step overrides.
    pub steps: BTreeMap<&'static str, RetryPolicy>,
}

impl Default for RetryPolicies {
    fn default() -> Self {
        let policy = |base_ms, cap_s| RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(base_ms),
            cap: Duration::from_secs(cap_s),
        };
        Self {
            default: policy(2_000, 120),
            steps: BTreeMap::from([
                // Paid providers: back off harder (their outages last minutes).
                (Step::Production.as_str(), policy(5_000, 300)),
                (Step::Editing.as_str(), policy(5_000, 300)),
                (Step::Publishing.as_str(), policy(10_000, 600)),
            ]),
        }
    }
}

impl RetryPolicies {
    /// The policy for `step`.
    pub fn for_step(&self, step: Step) -> RetryPolicy {
        self.steps.get(step.as_str()).copied().unwrap_or(self.default)
    }

    /// Every policy with `max_attempts` set to `n` (tests, `MYLOWARE_MAX_ATTEMPTS`).
    pub fn with_max_attempts(mut self, n: u32) -> Self {
        self.default.max_attempts = n;
        self.steps.values_mut().for_each(|p| p.max_attempts = n);
        self
    }

    /// Every policy with this base and cap (tests, `MYLOWARE_RETRY_BASE_MS` / `_CAP_SECS`).
    pub fn with_backoff(mut self, base: Duration, cap: Duration) -> Self {
        for p in std::iter::once(&mut self.default).chain(self.steps.values_mut()) {
            p.base = base;
            p.cap = cap;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_full_jitter() {
        let p = RetryPolicy {
            max_attempts: 5,
            base: Duration::from_secs(2),
            cap: Duration::from_secs(30),
        };
        assert_eq!(p.ceiling(1), Duration::from_secs(2));
        assert_eq!(p.ceiling(2), Duration::from_secs(4));
        assert_eq!(p.ceiling(4), Duration::from_secs(16));
        assert_eq!(p.ceiling(5), Duration::from_secs(30));
        assert_eq!(p.ceiling(400), Duration::from_secs(30));
        let samples: Vec<Duration> = (0..200).map(|_| p.backoff(3)).collect();
        assert!(samples.iter().all(|d| *d <= Duration::from_secs(8)));
        // Full jitter spreads retries: not all equal, some in the lower half.
        assert!(samples.iter().any(|d| *d < Duration::from_secs(4)));
        assert!(samples.iter().any(|d| *d > Duration::from_secs(4)));
        assert!(!p.exhausted(4) && p.exhausted(5) && p.exhausted(6));
    }

    #[test]
    fn steps_have_their_own_policies() {
        let all = RetryPolicies::default();
        assert!(all.for_step(Step::Publishing).cap > all.for_step(Step::Ideation).cap);
        let tuned = all.with_max_attempts(3).with_backoff(Duration::ZERO, Duration::ZERO);
        assert_eq!(tuned.for_step(Step::Production).max_attempts, 3);
        assert_eq!(tuned.for_step(Step::Production).backoff(4), Duration::ZERO);
    }
}
