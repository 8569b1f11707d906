//! Lambda entry point of the step function (SQS trigger): wiring only.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use myloware_runtime::{aws_engine_from_env, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    telemetry::init_metrics("step");
    let (_cfg, engine, _clients) = aws_engine_from_env().await?;
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<SqsEvent>| {
        let engine = engine.clone();
        async move {
            let id = ev.context.request_id.clone();
            let resp = myloware_step::handle_batch(&engine, ev.payload, &id).await;
            telemetry::flush_metrics(std::io::stdout());
            Ok::<_, lambda_runtime::Error>(resp)
        }
    }))
    .await
}
