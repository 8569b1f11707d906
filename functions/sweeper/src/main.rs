//! Lambda entry point of the sweeper (EventBridge schedule): wiring only. The sweep itself is
//! `Engine::sweep`; `myloware sweep` runs the same pass locally.

use lambda_runtime::{LambdaEvent, service_fn};
use myloware_runtime::{aws_engine_from_env, telemetry};
use serde_json::Value;

/// Runs examined per invocation (the schedule comes back for the rest).
const MAX_RUNS: usize = 5000;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    telemetry::init_metrics("sweeper");
    let (_cfg, engine, _clients) = aws_engine_from_env().await?;
    lambda_runtime::run(service_fn(move |_ev: LambdaEvent<Value>| {
        let engine = engine.clone();
        async move {
            let report = engine.sweep(MAX_RUNS).await?;
            telemetry::flush_metrics(std::io::stdout());
            Ok::<_, lambda_runtime::Error>(serde_json::to_value(report)?)
        }
    }))
    .await
}
