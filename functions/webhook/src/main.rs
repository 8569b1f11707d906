//! Lambda entry point of the webhook function (API Gateway HTTP API): wiring only.

use myloware_runtime::{app_state, aws_engine_from_env, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let (cfg, engine, clients) = aws_engine_from_env().await?;
    lambda_http::run(myloware_http::webhook_router(app_state(engine, &cfg, Some(&clients))?)).await
}
