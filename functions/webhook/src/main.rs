//! Lambda entry point of the webhook function (API Gateway HTTP API): wiring only.

use myloware_runtime::{app_state, aws_webhook_engine_from_env, lambda, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    telemetry::init_metrics("webhook");
    let (cfg, engine, clients) = aws_webhook_engine_from_env().await?;
    let router = myloware_http::webhook_router(app_state(engine, &cfg, Some(&clients))?);
    lambda::run_http(router).await
}
