//! The engine's metrics, through the `metrics` facade (binaries install a CloudWatch EMF
//! recorder). Names are CloudWatch metric names; labels become dimensions.

use std::future::Future;
use std::time::Instant;

/// A step finished (checkpointed or failed the run).
pub fn step_run(step: &'static str, millis: f64) {
    metrics::counter!("StepsRun", "Step" => step).increment(1);
    metrics::histogram!("StepDuration", "Step" => step).record(millis);
}

/// A step will be retried.
pub fn step_retry(step: &'static str) {
    metrics::counter!("StepRetries", "Step" => step).increment(1);
}

/// Retries ran out: the run stalled and its message went to the DLQ.
pub fn stalled(step: &'static str) {
    metrics::counter!("StalledRuns", "Step" => step).increment(1);
}

/// A webhook was answered (`accepted`, `duplicate`, `ignored`, `rejected`).
pub fn webhook(provider: &'static str, result: &'static str) {
    metrics::counter!("Webhooks", "Provider" => provider, "Result" => result).increment(1);
}

/// Time a provider call.
pub async fn provider_call<T>(provider: &'static str, fut: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = fut.await;
    metrics::histogram!("ProviderLatency", "Provider" => provider)
        .record(started.elapsed().as_secs_f64() * 1000.0);
    out
}
