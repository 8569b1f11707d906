//! Cost guards kept in the store, so every instance shares them: a cap on runs started in any 24
//! hours, an estimated daily budget, and a per-caller rate limit on starts. Counters are bucketed
//! (hours for the budget, minutes for the rate limit) and expire on their own.

use super::{Engine, EngineError};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

fn secs_until(ms: i64, now_ms: i64) -> u64 {
    ((ms - now_ms).max(1_000) as u64).div_ceil(1_000)
}

impl Engine {
    /// Reserve one run start under the 24-hour cap and the day's estimated budget.
    pub async fn reserve_run_start(&self) -> Result<(), EngineError> {
        let now = self.clock.now();
        let (now_ms, hour) = (now.millis(), now.millis().div_euclid(HOUR_MS));
        let keys: Vec<String> = (0..24).map(|i| format!("runs_started#{}", hour - i)).collect();
        let counts = self.store.counters(&keys, now).await?;
        let window: u64 = counts.iter().sum();
        let max = self.config.max_runs_24h;
        let over = |detail: String, retry_after_secs| EngineError::OverBudget {
            code: "budget_exceeded",
            detail,
            retry_after_secs,
        };
        if window >= max {
            // The oldest bucket with runs in it leaves the window first.
            let oldest = counts.iter().rposition(|c| *c > 0).unwrap_or(0) as i64;
            let frees_at = (hour - oldest + 24) * HOUR_MS;
            return Err(over(
                format!("{window} runs started in the last 24 hours (limit {max})"),
                secs_until(frees_at, now_ms),
            ));
        }
        let day_start = now_ms - now_ms.rem_euclid(DAY_MS);
        let hours_today = ((now_ms - day_start) / HOUR_MS) as usize + 1;
        let today: u64 = counts.iter().take(hours_today).sum();
        let spend = (today + 1) as f64 * self.config.cost_per_run_usd;
        if spend > self.config.daily_budget_usd {
            return Err(over(
                format!(
                    "starting this run would bring today's estimated spend to ${spend:.2} (budget ${:.2})",
                    self.config.daily_budget_usd
                ),
                secs_until(day_start + DAY_MS, now_ms),
            ));
        }
        // Reserve in this hour's bucket, limited so that the whole window stays under the cap
        // even when several instances reserve at once.
        let others = window - counts[0];
        let expires = crate::time::Timestamp((hour + 25) * HOUR_MS);
        match self.store.bump_counter(&keys[0], max - others, expires, now).await? {
            Some(_) => Ok(()),
            None => Err(over(format!("the limit of {max} runs in 24 hours was reached"), 60)),
        }
    }

    /// Count a start by `caller` against its per-minute limit.
    pub async fn rate_limit(&self, caller: &str) -> Result<(), EngineError> {
        let now = self.clock.now();
        let minute = now.millis().div_euclid(60_000);
        let key = format!("rate#{caller}#{minute}");
        let limit = self.config.rate_limit_per_min;
        let expires = crate::time::Timestamp((minute + 2) * 60_000);
        match self.store.bump_counter(&key, limit, expires, now).await? {
            Some(_) => Ok(()),
            None => Err(EngineError::OverBudget {
                code: "rate_limited",
                detail: format!("more than {limit} run starts per minute for this API key"),
                retry_after_secs: secs_until((minute + 1) * 60_000, now.millis()),
            }),
        }
    }
}
