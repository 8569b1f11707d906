//! The SAM template matches the code's resource definition, and the checker catches drift:
//! each deliberate change below must be reported.

use std::collections::BTreeSet;
use std::path::PathBuf;

use myloware_tests::parity::{check, env_vars_in_code};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn template() -> String {
    std::fs::read_to_string(root().join("infra/template.yaml")).expect("infra/template.yaml")
}

fn known_env() -> BTreeSet<String> {
    let env = env_vars_in_code(&[root().join("shared"), root().join("functions")]);
    assert!(env.contains("MYLOWARE_TABLE") && env.contains("MYLOWARE_API_KEY_HASHES"), "{env:?}");
    env
}

#[test]
fn the_template_matches_the_code() {
    let drifts = check(&template(), &known_env());
    assert!(drifts.is_empty(), "template drift:\n{}", drifts.join("\n"));
}

#[test]
fn every_kind_of_drift_is_caught() {
    let t = template();
    let env = known_env();
    // (what, text in the template, replacement, words the report must contain)
    let cases: &[(&str, &str, &str, &str)] = &[
        ("table name", "\"${Prefix}-runs\"", "\"${Prefix}-run\"", "TableName"),
        ("queue name", "\"${Prefix}-steps\"\n", "\"${Prefix}-step\"\n", "StepQueue QueueName"),
        (
            "DLQ name",
            "\"${Prefix}-steps-dlq\"",
            "\"${Prefix}-dlq\"",
            "StepDeadLetterQueue QueueName",
        ),
        ("bucket name", "\"${Prefix}-artifacts\"", "\"${Prefix}-files\"", "BucketName"),
        (
            "sort key",
            "- { AttributeName: sk, KeyType: RANGE }",
            "- { AttributeName: sk2, KeyType: RANGE }",
            "KeySchema",
        ),
        ("GSI name", "IndexName: gsi_status", "IndexName: by_status", "GSIs"),
        (
            "GSI projection",
            "Projection: { ProjectionType: ALL }",
            "Projection: { ProjectionType: KEYS_ONLY }",
            "project ALL",
        ),
        ("TTL attribute", "AttributeName: expires_at", "AttributeName: ttl", "TTL attribute"),
        (
            "visibility timeout",
            "VisibilityTimeout: 180",
            "VisibilityTimeout: 60",
            "VisibilityTimeout",
        ),
        ("max receive count", "maxReceiveCount: 8", "maxReceiveCount: 5", "maxReceiveCount"),
        (
            "DLQ retention",
            "MessageRetentionPeriod: 1209600",
            "MessageRetentionPeriod: 345600",
            "StepDeadLetterQueue MessageRetentionPeriod",
        ),
        (
            "table env var",
            "MYLOWARE_TABLE: !Ref RunsTable",
            "MYLOWARE_TABLE_NAME: !Ref RunsTable",
            "MYLOWARE_TABLE",
        ),
        (
            "queue env var target",
            "MYLOWARE_STEP_QUEUE_URL: !Ref StepQueue",
            "MYLOWARE_STEP_QUEUE_URL: !Ref StepDeadLetterQueue",
            "MYLOWARE_STEP_QUEUE_URL",
        ),
        (
            "webhook secrets env",
            "MYLOWARE_OPENAI_WEBHOOK_SECRETS:",
            "MYLOWARE_SORA_SECRETS:",
            "MYLOWARE_SORA",
        ),
        (
            "provider modes",
            "MYLOWARE_PROVIDERS: !Join",
            "MYLOWARE_PROVIDER: !Join",
            "lacks MYLOWARE_PROVIDERS",
        ),
        (
            "batch failures",
            "FunctionResponseTypes: [ReportBatchItemFailures]",
            "FunctionResponseTypes: []",
            "ReportBatchItemFailures",
        ),
        ("step timeout", "      Timeout: 30\n", "      Timeout: 60\n", "step Timeout"),
        ("step timeout below HTTP", "      Timeout: 30\n", "      Timeout: 20\n", "HTTP timeout"),
        ("binary", "Binary: step", "Binary: stepper", "binary"),
        ("render binary", "Binary: render", "Binary: renderer", "RenderFunction binary"),
        (
            "render queue visibility",
            "VisibilityTimeout: 1800",
            "VisibilityTimeout: 600",
            "RenderQueue VisibilityTimeout",
        ),
        (
            "render batch",
            "Queue: !GetAtt RenderQueue.Arn\n            BatchSize: 1",
            "Queue: !GetAtt RenderQueue.Arn\n            BatchSize: 5",
            "RenderFunction BatchSize",
        ),
        (
            "render ffmpeg",
            "MYLOWARE_FFMPEG: /opt/bin/ffmpeg",
            "FFMPEG: /opt/bin/ffmpeg",
            "lacks MYLOWARE_FFMPEG",
        ),
        ("architecture", "Architectures: [arm64]", "Architectures: [x86_64]", "Architectures"),
    ];
    for (what, from, to, mention) in cases {
        assert!(t.contains(from), "case {what}: {from:?} is not in the template any more");
        let drifted = t.replacen(from, to, 1);
        let drifts = check(&drifted, &env);
        assert!(
            drifts.iter().any(|d| d.contains(mention)),
            "case {what}: expected a drift mentioning {mention:?}, got {drifts:#?}"
        );
    }
    assert!(!check("not: [valid", &env).is_empty(), "unparseable templates are drift");
}

/// The API Gateway routes of the template (`HttpApi` events' paths).
fn gateway_paths(template: &str) -> Vec<String> {
    let doc: serde_yaml::Value = serde_yaml::from_str(template).expect("the template is YAML");
    let mut out = Vec::new();
    for (_, resource) in doc["Resources"].as_mapping().expect("Resources") {
        for (_, event) in resource["Properties"]["Events"].as_mapping().into_iter().flatten() {
            if event["Type"].as_str() == Some("HttpApi")
                && let Some(path) = event["Properties"]["Path"].as_str()
            {
                out.push(path.to_owned());
            }
        }
    }
    out
}

/// Whether the gateway route `route` serves the API path `path` (`{x}` one segment,
/// `{proxy+}` the rest).
fn serves(route: &str, path: &str) -> bool {
    let (r, p): (Vec<&str>, Vec<&str>) = (route.split('/').collect(), path.split('/').collect());
    for (i, seg) in r.iter().enumerate() {
        if *seg == "{proxy+}" {
            return p.len() > i;
        }
        match p.get(i) {
            Some(ps) if seg.starts_with('{') || seg == ps => {}
            _ => return false,
        }
    }
    r.len() == p.len()
}

#[test]
fn every_documented_route_reaches_a_function_through_the_gateway() {
    let doc: serde_json::Value =
        serde_json::from_str(&myloware_http::api::ApiDoc::json()).expect("the OpenAPI document");
    let routes = gateway_paths(&template());
    assert!(routes.len() >= 5, "{routes:?}");
    let unrouted: Vec<&String> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|p| !routes.iter().any(|r| serves(r, p)))
        .collect();
    assert!(unrouted.is_empty(), "documented but not routed by infra/template.yaml: {unrouted:?}");
    // The matcher matches what it should, and only that.
    assert!(serves("/v1/runs/{proxy+}", "/v1/runs/{id}/events"));
    assert!(serves("/v1/webhooks/{provider}", "/v1/webhooks/openai"));
    assert!(!serves("/v1/runs", "/v1/runs/{id}"));
    assert!(!serves("/health", "/openapi.json"));
}
