//! Lambda entry point of the api function (API Gateway HTTP API): the runs API and the review
//! console; wiring only.

use myloware_aws::Resources;
use myloware_runtime::{
    app_state, aws_api_engine_from_env, lambda, step_consumers, telemetry, with_console,
};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    telemetry::init_metrics("api");
    let (cfg, engine, clients) = aws_api_engine_from_env().await?;
    let resources = Resources::from_env().map_err(lambda_runtime::Error::from)?;
    let (_, dlq) = step_consumers(&clients, &resources);
    let state = app_state(engine, &cfg, Some(&clients))?.with_dlq(dlq);
    let router = myloware_http::api_router(state.clone());
    let router = with_console(router, state, Some(&clients)).await?;
    lambda::run_http(router).await
}
