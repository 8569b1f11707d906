//! The webhook router behind the function's event handling (`myloware_runtime::lambda`): an API
//! Gateway HTTP API (v2) event whose body arrives base64-encoded is verified on its decoded raw
//! bytes.

use std::sync::Arc;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use base64::Engine as _;
use myloware::adapters::MemoryBackend;
use myloware::domain::{Correlation, JobId, Provider};
use myloware::fakes::FakeSet;
use myloware::time::{Clock, SystemClock};
use myloware::webhooks::{WebhookSecret, sign_standard};
use myloware_http::{ApiKeys, AppState, WebhookSecrets, webhook_router};
use myloware_runtime::lambda::handle;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn event(body: &[u8], headers: serde_json::Value) -> ApiGatewayV2httpRequest {
    let event = serde_json::json!({
        "version": "2.0",
        "routeKey": "POST /v1/webhooks/openai",
        "rawPath": "/v1/webhooks/openai",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "example.com", "domainPrefix": "example",
            "http": { "method": "POST", "path": "/v1/webhooks/openai", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "OpenAI/1.0" },
            "requestId": "apigw-req-1", "routeKey": "POST /v1/webhooks/openai", "stage": "$default",
            "time": "26/Nov/2026:10:00:00 +0000", "timeEpoch": 1795600000000u64
        },
        "body": base64::engine::general_purpose::STANDARD.encode(body),
        "isBase64Encoded": true
    });
    serde_json::from_value(event).expect("an API Gateway v2 event")
}

#[tokio::test]
async fn a_base64_encoded_api_gateway_body_is_verified_on_its_raw_bytes() {
    let secret = WebhookSecret::parse(SECRET).unwrap();
    let fakes = FakeSet::silent(secret.clone());
    let backend = MemoryBackend::default();
    let engine = backend.engine(fakes.providers(), Arc::new(SystemClock), Default::default());
    let run = myloware::RunId::new();
    let job = JobId::parse("video_apigw").unwrap();
    engine
        .store
        .correlate(Provider::OpenAi, &job, &Correlation { run_id: run, generation: 1, index: 0 })
        .await
        .unwrap();
    let router = webhook_router(AppState::new(
        engine,
        ApiKeys::default(),
        std::sync::Arc::new(WebhookSecrets::single(secret.clone(), secret.clone(), 300)),
    ));
    // Bytes that are not valid UTF-8 text in the header value sense: the raw body matters.
    let body = br#"{"id":"evt_9","object":"event","created_at":1,"type":"video.completed","data":{"id":"video_apigw"}}"#;
    let ts = SystemClock.now().secs();
    let sig = sign_standard(&secret, "msg_9", ts, body);
    let headers = serde_json::json!({
        "content-type": "application/json", "webhook-id": "msg_9",
        "webhook-timestamp": ts.to_string(), "webhook-signature": sig,
    });
    let resp = handle(router.clone(), event(body, headers.clone())).await;
    assert_eq!(resp.status_code, 200);
    assert_eq!(backend.queue.len(), 1, "the run was woken");

    let mut tampered = body.to_vec();
    tampered[10] ^= 1;
    let resp = handle(router, event(&tampered, headers)).await;
    assert_eq!(resp.status_code, 401);
    assert_eq!(backend.queue.len(), 1, "nothing more was sent");
}
