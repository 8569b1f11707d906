//! Scenario 1: AWS requests per operation. One whole video run on LocalStack with every request
//! of the functions' SDK clients counted by an interceptor (`myloware_aws::CallCounter`), phase
//! by phase with the system quiet in between, so each figure belongs to one operation. The event
//! source's own receives and deletes (Lambda's polling) are reported from the driver's counts.
//! Then the cost of a million steps at list prices (named constants below).

use std::collections::BTreeMap;
use std::time::Duration;

use myloware::ports::RunStore;
use myloware_aws::{AwsClients, CallCounter, DynamoStore};
use serde_json::{Value, json};

use crate::{App, Options};

/// SQS: per million requests (standard queue, after the free tier).
pub const SQS_PER_MILLION_REQUESTS: f64 = 0.40;
/// DynamoDB on-demand: per million write request units.
pub const DYNAMODB_PER_MILLION_WRU: f64 = 0.625;
/// DynamoDB on-demand: per million read request units.
pub const DYNAMODB_PER_MILLION_RRU: f64 = 0.125;
/// Lambda: per million requests.
pub const LAMBDA_PER_MILLION_REQUESTS: f64 = 0.20;
/// Lambda on arm64: per GB-second.
pub const LAMBDA_ARM64_PER_GB_SECOND: f64 = 0.000_013_333_4;
/// The step function's memory in the template (GB).
pub const STEP_MEMORY_GB: f64 = 0.5;
/// Step Functions Standard: per million state transitions.
pub const SFN_STANDARD_PER_MILLION_TRANSITIONS: f64 = 25.0;
/// Step Functions Express: per million executions.
pub const SFN_EXPRESS_PER_MILLION_EXECUTIONS: f64 = 1.0;
/// Step Functions Express: per GB-second of duration (first tier), billed at 64 MB at least.
pub const SFN_EXPRESS_PER_GB_SECOND: f64 = 0.000_016_67;

type Counts = BTreeMap<(String, String), u64>;

/// Request units of one call, by operation (items of at most 1 KB / 4 KB; a checkpoint
/// transaction writes two items, each at twice the unit cost of a transaction).
fn units(service: &str, op: &str) -> (f64, f64) {
    match (service, op) {
        ("DynamoDB", "TransactWriteItems") => (4.0, 0.0),
        ("DynamoDB", "PutItem" | "UpdateItem" | "DeleteItem") => (1.0, 0.0),
        ("DynamoDB", "BatchGetItem") => (0.0, 2.0),
        ("DynamoDB", _) => (0.0, 1.0),
        _ => (0.0, 0.0),
    }
}

fn by_service(c: &Counts) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for ((s, _), n) in c {
        *out.entry(s.clone()).or_default() += n;
    }
    out
}

fn sum(c: &Counts) -> u64 {
    c.values().sum()
}

fn add(into: &mut Counts, c: &Counts) {
    for (k, v) in c {
        *into.entry(k.clone()).or_default() += v;
    }
}

/// The counts of several operations added up.
fn total(of: &[Counts]) -> Counts {
    of.iter().fold(Counts::new(), |mut a, c| {
        add(&mut a, c);
        a
    })
}

/// Let in-flight work finish: the run has reached `status` (read with an uncounted client, so
/// the polling is not in the figures) and nothing moved for a moment.
async fn settle(reader: &DynamoStore, id: &str, status: &str) {
    let run_id = id.parse().expect("run id");
    for _ in 0..600 {
        let run = reader.get_run(&run_id).await.expect("read").expect("run");
        if run.status.as_str() == status {
            tokio::time::sleep(Duration::from_millis(1000)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("run {id} never reached {status}");
}

/// Run the scenario; prints its tables and returns its JSON.
pub async fn run() -> Value {
    let (counter, step_counter) = (CallCounter::default(), CallCounter::default());
    let opts =
        Options { counters: Some((counter.clone(), step_counter.clone())), ..Default::default() };
    let app = App::spawn(opts).await;
    let reader = DynamoStore::new(
        AwsClients::new(&myloware_aws::clients::load_sdk_config().await).dynamodb().clone(),
        &app.resources.names.table,
    );
    let driver = app.driver.clone().expect("driver");
    let base = counter.snapshot(); // after the test's own resources were created
    let mut webhooks = Vec::new();
    let mut gates = Vec::new();

    let s = counter.snapshot();
    let id = app.start_run(3, "a calm ocean at dawn").await;
    let start = counter.since(&s);
    settle(&reader, &id, "awaiting_ideation_approval").await;
    let s = counter.snapshot();
    assert_eq!(app.decide(&id, "approve", "ideation").await.0, 200);
    gates.push(counter.since(&s));
    settle(&reader, &id, "awaiting_video_generation").await;
    // The step a callback wakes, counted alone where nothing follows it: each callback but the
    // last leaves the run waiting for the others, so the wake-up's delivery is the only one.
    let mut wait_steps = Vec::new();
    let videos = app.fakes.video.take_outbox();
    let last = videos.len().saturating_sub(1);
    for (i, job) in videos.into_iter().enumerate() {
        let (batches, s, w) =
            (driver.batch_timings().len(), counter.snapshot(), step_counter.snapshot());
        assert_eq!(app.fakes.video.send(&job).await, Ok(200));
        webhooks.push(counter.since(&s));
        if i < last {
            let handled = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
            while driver.batch_timings().len() == batches {
                assert!(tokio::time::Instant::now() < handled, "the wake-up was not delivered");
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            let delivered = driver.batch_timings()[batches].0;
            assert_eq!(delivered, 1, "one wake-up delivery, nothing else, for a waiting run");
            wait_steps.push(step_counter.since(&w));
        }
    }
    settle(&reader, &id, "awaiting_render").await;
    for job in app.fakes.render.take_outbox() {
        let s = counter.snapshot();
        assert_eq!(app.fakes.render.send(&job).await, Ok(200));
        webhooks.push(counter.since(&s));
    }
    settle(&reader, &id, "awaiting_publish_approval").await;
    let s = counter.snapshot();
    assert_eq!(app.decide(&id, "approve", "publish").await.0, 200);
    gates.push(counter.since(&s));
    settle(&reader, &id, "completed").await;
    let steps = step_counter.snapshot();
    let deliveries = driver.messages_received().max(1) as f64;

    // The no-op workflow: what the engine itself costs per active step (nothing to pay, so no
    // lease, no intent, no provider), every request of the step handler counted.
    const NOOP_STEPS: u32 = 10;
    let received = driver.messages_received();
    let noop = app.engine.start_noop(NOOP_STEPS, None).await.expect("start a no-op run");
    settle(&reader, &noop.run_id.to_string(), "completed").await;
    let noop_calls = step_counter.since(&steps);
    let noop_deliveries = (driver.messages_received() - received) as f64;
    let mut whole = counter.since(&base);
    add(&mut whole, &steps);

    let per = |c: &Counts, n: f64| sum(c) as f64 / n;
    let avg = |v: &[Counts]| v.iter().map(sum).sum::<u64>() as f64 / v.len().max(1) as f64;
    let step_ms = driver.handler_time().as_secs_f64() * 1000.0 / deliveries;

    // Event source (Lambda's poller): one receive per batch, one delete per acked message.
    let esm_per_step = 2.0;
    let (mut wru, mut rru, mut sqs) = (0.0, 0.0, 0.0);
    for ((svc, op), n) in &steps {
        let (w, r) = units(svc, op);
        wru += w * *n as f64;
        rru += r * *n as f64;
        if svc == "SQS" {
            sqs += *n as f64;
        }
    }
    let per_step = |x: f64| x / deliveries;
    let million = 1e6;
    let cost_sqs = (per_step(sqs) + esm_per_step) * million / 1e6 * SQS_PER_MILLION_REQUESTS;
    let cost_ddb =
        per_step(wru) * DYNAMODB_PER_MILLION_WRU + per_step(rru) * DYNAMODB_PER_MILLION_RRU;
    let cost_lambda = LAMBDA_PER_MILLION_REQUESTS
        + million * (step_ms / 1000.0) * STEP_MEMORY_GB * LAMBDA_ARM64_PER_GB_SECOND;

    // Express bills executions and their duration, not transitions.
    let sfn_express = SFN_EXPRESS_PER_MILLION_EXECUTIONS / NOOP_STEPS as f64
        + million * (step_ms / 1000.0) * 0.064 * SFN_EXPRESS_PER_GB_SECOND;
    let rows = vec![
        row("run start (POST /v1/runs)", &start, 1.0),
        row("step (per delivery)", &steps, deliveries),
        row("accepted webhook (avg)", &total(&webhooks), webhooks.len() as f64),
        row("gate decision (avg)", &total(&gates), gates.len() as f64),
        row("whole run (3 clips)", &whole, 1.0),
        row(
            "callback-wait step (a callback's wake-up, run still waiting; avg)",
            &total(&wait_steps),
            wait_steps.len() as f64,
        ),
        row(
            &format!("no-op step ({NOOP_STEPS}-step run, per step)"),
            &noop_calls,
            NOOP_STEPS as f64,
        ),
    ];
    super::table(
        "AWS requests per operation (the functions' SDK calls, counted by an interceptor)",
        &["operation", "DynamoDB", "SQS", "S3", "total"],
        &rows,
    );
    super::table(
        "Against the targets",
        &["figure", "measured", "target"],
        &[
            vec![
                "AWS requests per delivery of a video run (paid work included)".into(),
                format!("{:.2}", per(&steps, deliveries)),
                "-".into(),
            ],
            vec![
                "AWS requests per active step (no-op workflow)".into(),
                format!("{:.2}", per(&noop_calls, NOOP_STEPS as f64)),
                "<= 3".into(),
            ],
            vec![
                "AWS requests per callback-wait step".into(),
                format!("{:.2}", avg(&wait_steps)),
                "<= 3".into(),
            ],
            vec![
                "AWS requests per accepted webhook".into(),
                format!("{:.2}", avg(&webhooks)),
                "<= 2".into(),
            ],
        ],
    );
    let ops: Vec<Vec<String>> =
        whole.iter().map(|((s, o), n)| vec![format!("{s} {o}"), n.to_string()]).collect();
    super::table("Whole run by service and operation", &["call", "count"], &ops);
    println!(
        "\n  step deliveries: {deliveries}; event source adds ~{esm_per_step} SQS requests per step \
         (receive + delete); mean step handler time {step_ms:.1} ms"
    );
    super::table(
        "Cost per million steps (list prices, us-east-1; see bench/aws_calls.rs)",
        &["component", "USD"],
        &[
            vec!["SQS".into(), format!("{cost_sqs:.2}")],
            vec!["DynamoDB on-demand".into(), format!("{cost_ddb:.2}")],
            vec![
                format!("Lambda arm64, {STEP_MEMORY_GB} GB, {step_ms:.1} ms"),
                format!("{cost_lambda:.2}"),
            ],
            vec!["total".into(), format!("{:.2}", cost_sqs + cost_ddb + cost_lambda)],
            vec![
                "Step Functions Standard (one transition per step)".into(),
                format!("{SFN_STANDARD_PER_MILLION_TRANSITIONS:.2}"),
            ],
            vec![
                format!(
                    "Step Functions Express ({NOOP_STEPS}-step executions, 64 MB, {step_ms:.1} ms a step)"
                ),
                format!("{sfn_express:.2}"),
            ],
        ],
    );
    json!({
        "scenario": "aws_calls",
        "per_step": per(&steps, deliveries),
        "per_noop_step": per(&noop_calls, NOOP_STEPS as f64),
        "noop_deliveries": noop_deliveries,
        "per_callback_wait_step": avg(&wait_steps),
        "per_accepted_webhook": avg(&webhooks),
        "per_gate_decision": avg(&gates),
        "run_start": sum(&start),
        "per_run": sum(&whole),
        "step_deliveries": deliveries,
        "mean_step_handler_ms": step_ms,
        "whole_run": whole.iter().map(|((s, o), n)| (format!("{s}.{o}"), *n)).collect::<BTreeMap<_, _>>(),
        "cost_per_million_steps_usd": {
            "sqs": cost_sqs, "dynamodb": cost_ddb, "lambda": cost_lambda,
            "step_functions_standard": SFN_STANDARD_PER_MILLION_TRANSITIONS,
            "step_functions_express": sfn_express,
        },
    })
}

fn row(name: &str, c: &Counts, n: f64) -> Vec<String> {
    let svc = by_service(c);
    let f = |s: &str| format!("{:.2}", *svc.get(s).unwrap_or(&0) as f64 / n.max(1.0));
    vec![
        name.into(),
        f("DynamoDB"),
        f("SQS"),
        f("S3"),
        format!("{:.2}", sum(c) as f64 / n.max(1.0)),
    ]
}
