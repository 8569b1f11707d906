//! Lambda entry point of the sweeper (EventBridge schedule): wiring only. The sweep itself is
//! `Engine::sweep`; `myloware sweep` runs the same pass locally.

use std::time::{Duration, SystemTime};

use lambda_runtime::{LambdaEvent, service_fn};
use myloware_runtime::{aws_engine_from_env, telemetry};
use serde_json::Value;

/// Time kept back from the function's deadline to report and flush metrics.
const MARGIN: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    telemetry::init_metrics("sweeper");
    let (_cfg, engine, _clients) = aws_engine_from_env().await?;
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<Value>| {
        let engine = engine.clone();
        async move {
            // The pass stops before the function times out; the next scheduled pass goes on
            // where it stopped (the runs it handled are no longer due).
            let left = ev.context.deadline().duration_since(SystemTime::now()).unwrap_or_default();
            let report = engine.sweep(left.saturating_sub(MARGIN)).await?;
            telemetry::flush_metrics(std::io::stdout());
            Ok::<_, lambda_runtime::Error>(serde_json::to_value(report)?)
        }
    }))
    .await
}
