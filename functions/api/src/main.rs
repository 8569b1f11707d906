//! Lambda entry point of the api function (API Gateway HTTP API): wiring only.

use myloware_aws::{AwsClients, Resources};
use myloware_runtime::{RuntimeConfig, app_state, aws_engine, telemetry, wiring::fake_providers};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let cfg = RuntimeConfig::from_env()?;
    let resources = Resources::from_env()?;
    let clients = AwsClients::from_env().await;
    let (_fakes, providers) = fake_providers(&cfg)?;
    let engine = aws_engine(&clients, &resources, &cfg, providers);
    lambda_http::run(myloware_http::api_router(app_state(engine, &cfg))).await
}
