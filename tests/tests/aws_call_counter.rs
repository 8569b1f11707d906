//! The SDK interceptor counts each request by service and operation (what `bench` reports).

use myloware::ports::{RunStore, StepQueue};
use myloware_aws::resources::{ResourceNames, bootstrap};
use myloware_aws::{AwsClients, CallCounter, DynamoStore, SqsQueue};

#[tokio::test]
async fn every_request_is_counted_once_by_service_and_operation() {
    assert!(std::env::var("AWS_ENDPOINT_URL").is_ok(), "needs LocalStack: run scripts/test-all.sh");
    let sdk = myloware_aws::clients::load_sdk_config().await;
    let prefix = format!("cc{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let r = bootstrap(&AwsClients::new(&sdk), &ResourceNames::with_prefix(&prefix)).await.unwrap();
    let counter = CallCounter::default();
    let c = AwsClients::counted(&sdk, &counter);
    let store = DynamoStore::new(c.dynamodb().clone(), &r.names.table);
    let queue = SqsQueue::new(c.sqs().clone(), &r.queue_url);
    assert!(store.get_run(&myloware::RunId::new()).await.unwrap().is_none());
    assert!(store.get_run(&myloware::RunId::new()).await.unwrap().is_none());
    queue
        .send(&myloware::domain::StepMessage::wake(myloware::RunId::new()), Default::default())
        .await
        .unwrap();
    let got: Vec<(String, String, u64)> =
        counter.snapshot().into_iter().map(|((s, o), n)| (s, o, n)).collect();
    assert_eq!(
        got,
        vec![("DynamoDB".into(), "GetItem".into(), 2), ("SQS".into(), "SendMessage".into(), 1)]
    );
    assert_eq!(counter.total(), 3);
}
