//! Callback delivery with retries: a provider retries an undelivered callback with backoff
//! (signing each attempt afresh), so a receiver that was down when the job finished still gets it.

use std::time::Duration;

use myloware::ports::Delivery;

use super::AppState;

const MAX_ATTEMPTS: u32 = 90;

/// Deliver in the background after `delay`; `build` makes the signed delivery for each attempt.
pub(super) fn schedule(
    state: AppState,
    url: String,
    delay: Duration,
    build: impl Fn() -> Delivery + Send + Sync + 'static,
) {
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let times = if state.config.read().unwrap().duplicate { 2 } else { 1 };
        for _ in 0..times {
            deliver(&state, &url, &build).await;
        }
    });
}

async fn deliver(state: &AppState, url: &str, build: &impl Fn() -> Delivery) {
    for attempt in 0..MAX_ATTEMPTS {
        let d = build();
        let mut req = state.http.post(url).body(d.body);
        for (k, v) in &d.headers {
            req = req.header(k, v);
        }
        match req.send().await {
            Ok(r) if r.status().is_success() => {
                state.bump(|s| s.callbacks_delivered += 1);
                return;
            }
            Ok(r) => {
                tracing::info!(url, status = %r.status(), attempt, "callback refused; will retry")
            }
            Err(e) => {
                tracing::info!(url, error = %e, attempt, "callback not delivered; will retry")
            }
        }
        state.bump(|s| s.callback_attempts_failed += 1);
        let backoff = Duration::from_millis((100u64 << attempt.min(5)).min(2_000));
        tokio::time::sleep(backoff).await;
    }
    tracing::warn!(url, "callback given up after {MAX_ATTEMPTS} attempts");
}
