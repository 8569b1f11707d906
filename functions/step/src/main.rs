//! Lambda entry point of the step function (SQS trigger): wiring only.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use myloware_aws::Resources;
use myloware_runtime::{aws_engine_from_env, step_consumers, telemetry};
use myloware_step::StepQueues;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    telemetry::init_metrics("step");
    let (_cfg, engine, clients) = aws_engine_from_env().await?;
    let resources = Resources::from_env().map_err(lambda_runtime::Error::from)?;
    let (consumer, dlq) = step_consumers(&clients, &resources);
    let queues = StepQueues { consumer, dlq };
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<SqsEvent>| {
        let (engine, queues) = (engine.clone(), queues.clone());
        async move {
            let id = ev.context.request_id.clone();
            let resp = myloware_step::handle_batch(&engine, &queues, ev.payload, &id).await;
            telemetry::flush_metrics(std::io::stdout());
            Ok::<_, lambda_runtime::Error>(resp)
        }
    }))
    .await
}
