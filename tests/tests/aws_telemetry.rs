//! The logs of a full run on LocalStack: JSON lines; every line about the run carries its
//! `run_id`; the lines a callback caused (in the webhook and in the step it woke) carry that
//! callback's `request_id`; the EMF metric lines have valid `_aws` metadata.

use std::io::Write;
use std::sync::{Arc, Mutex};

use myloware_runtime::telemetry;
use myloware_tests::{App, Options};
use serde_json::Value;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

/// A field from the event or any of its spans.
fn field<'a>(line: &'a Value, name: &str) -> Vec<&'a str> {
    let mut out: Vec<&str> = line.get(name).and_then(Value::as_str).into_iter().collect();
    for s in line.get("spans").and_then(Value::as_array).into_iter().flatten() {
        out.extend(s.get(name).and_then(Value::as_str));
    }
    out
}

fn quick_retries(c: &mut myloware::config::EngineConfig) {
    c.retries = c
        .retries
        .clone()
        .with_max_attempts(2)
        .with_backoff(std::time::Duration::from_millis(200), std::time::Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_run_leaves_json_logs_with_run_and_request_ids_and_valid_emf() {
    let capture = Capture::default();
    telemetry::init_json("info", capture.clone());
    telemetry::init_metrics("test");
    let app = App::spawn(Options { tune: Some(quick_retries), ..Default::default() }).await;

    let id = app.start_run(2, "telemetry run").await;
    app.wait_for(&id, "awaiting_ideation_approval").await;
    app.decide(&id, "approve", "ideation").await;
    app.wait_for(&id, "awaiting_video_generation").await;
    let mut callback_ids = Vec::new();
    for (i, job) in app.fakes.video.take_outbox().iter().enumerate() {
        let d = app.fakes.video.delivery(job);
        let rid = format!("cb-{i}-{}", uuid::Uuid::new_v4().simple());
        let mut headers = d.headers.clone();
        headers.push(("x-request-id".into(), rid.clone()));
        let (status, body) = app.webhook_owned(&d.path, &headers, &d.body).await;
        assert_eq!(status, 200, "{body}");
        callback_ids.push(rid);
    }
    app.wait_for(&id, "awaiting_render").await;
    for job in app.fakes.render.take_outbox() {
        app.fakes.render.send(&job).await.unwrap();
    }
    app.wait_for(&id, "awaiting_publish_approval").await;
    app.decide(&id, "approve", "publish").await;
    app.wait_for(&id, "completed").await;
    // A second run whose video API is down: retries, then it stalls (StepRetries, StalledRuns).
    app.fakes.video.outage_for_index(0, Some("HTTP 503"));
    let stalled = app.start_run(1, "telemetry stall").await;
    app.wait_for(&stalled, "awaiting_ideation_approval").await;
    app.decide(&stalled, "approve", "ideation").await;
    app.wait_for(&stalled, "stalled").await;
    // The stall's checkpoint is what `wait_for` sees; the step still handling the message
    // counts the stall just after it. Flush until the count is out (a CI run once flushed first).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        telemetry::flush_metrics(capture.clone());
        let out = String::from_utf8_lossy(&capture.0.lock().unwrap()).contains("\"StalledRuns\"");
        if out || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 20, "{} lines", lines.len());

    let (emf, logs): (Vec<&Value>, Vec<&Value>) =
        lines.iter().partition(|l| l.get("_aws").is_some());
    assert!(!emf.is_empty(), "EMF lines were written");
    let mut metric_names = Vec::new();
    for m in &emf {
        let aws = &m["_aws"];
        assert!(aws["Timestamp"].is_u64(), "{m}");
        let cwm = aws["CloudWatchMetrics"].as_array().expect("CloudWatchMetrics");
        assert!(!cwm.is_empty());
        for d in cwm {
            assert_eq!(d["Namespace"], "MyloWare");
            for dims in d["Dimensions"].as_array().expect("Dimensions") {
                for dim in dims.as_array().unwrap() {
                    assert!(
                        m.get(dim.as_str().unwrap()).is_some(),
                        "dimension {dim} has a value: {m}"
                    );
                }
            }
            for metric in d["Metrics"].as_array().expect("Metrics") {
                let name = metric["Name"].as_str().unwrap();
                assert!(m.get(name).is_some(), "metric {name} has a value: {m}");
                metric_names.push(name.to_owned());
            }
        }
    }
    for want in
        ["StepsRun", "StepDuration", "Webhooks", "ProviderLatency", "StepRetries", "StalledRuns"]
    {
        assert!(metric_names.iter().any(|n| n == want), "{want} missing from {metric_names:?}");
    }

    for l in &logs {
        assert!(l["timestamp"].is_string() && l["level"].is_string(), "{l}");
        if l.to_string().contains(&id) {
            assert!(
                field(l, "run_id").contains(&id.as_str()),
                "a line about the run without its run_id: {l}"
            );
        }
    }
    for rid in &callback_ids {
        let caused: Vec<&&Value> =
            logs.iter().filter(|l| field(l, "request_id").contains(&rid.as_str())).collect();
        assert!(
            caused.iter().any(|l| l["message"] == "callback recorded"),
            "webhook line for {rid}"
        );
        assert!(
            caused
                .iter()
                .any(|l| l["span"]["name"] == "step" && field(l, "run_id").contains(&id.as_str())),
            "a step line caused by callback {rid}"
        );
    }
    let about_run = logs.iter().filter(|l| l.to_string().contains(&id)).count();
    assert!(about_run >= 10, "only {about_run} lines about the run");
    let with_attempt = logs
        .iter()
        .filter(|l| {
            l["spans"]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s["name"] == "step" && s["attempt"].is_u64()))
        })
        .count();
    assert!(with_attempt > 0, "step lines carry the attempt");
}
