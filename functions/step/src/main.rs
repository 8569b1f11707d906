//! Lambda entry point of the step function (SQS trigger): wiring only.

use lambda_runtime::{LambdaEvent, service_fn};
use myloware_aws::{AwsClients, Resources};
use myloware_runtime::{RuntimeConfig, aws_engine, telemetry, wiring::fake_providers};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let cfg = RuntimeConfig::from_env()?;
    let resources = Resources::from_env()?;
    let clients = AwsClients::from_env().await;
    let (_fakes, providers) = fake_providers(&cfg)?;
    let engine = aws_engine(&clients, &resources, &cfg, providers);
    lambda_runtime::run(service_fn(
        move |ev: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| {
            let engine = engine.clone();
            async move {
                let id = ev.context.request_id.clone();
                Ok::<_, lambda_runtime::Error>(
                    myloware_step::handle_batch(&engine, ev.payload, &id).await,
                )
            }
        },
    ))
    .await
}
