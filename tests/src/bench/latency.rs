//! Scenario 3: latency over LocalStack. One step (the handler's time from the delivered message
//! to its checkpoint and the next message sent; the event source hands it one message at a
//! time) and one accepted webhook (request in → response out, timed by the client over
//! loopback), p50/p99 over `samples` of each.

use std::time::{Duration, Instant};

use myloware::domain::{Provider, RunStatus, Step};
use myloware::fakes::deliveries::openai_video_delivery;
use myloware::time::{Clock, SystemClock};
use myloware::webhooks::WebhookSecret;
use serde_json::{Value, json};

use super::Samples;
use crate::{App, OPENAI_SECRET, Options};

/// Hundreds of starts from one key within a minute: lift the start guards.
fn unlimited(c: &mut myloware::config::EngineConfig) {
    c.rate_limit_per_min = 1_000_000;
    c.max_runs_24h = 1_000_000;
    c.daily_budget_usd = 1e12;
}

/// Run the scenario; prints its table and returns its JSON.
pub async fn run(samples: usize) -> Value {
    let app =
        App::spawn(Options { batch_size: Some(1), tune: Some(unlimited), ..Default::default() })
            .await;
    let driver = app.driver.clone().expect("driver");

    // Steps: runs to the ideation gate, one step delivery each.
    let mut ids = Vec::with_capacity(samples);
    for i in 0..samples {
        ids.push(app.start_run(1, &format!("latency run {i}")).await);
    }
    for id in &ids {
        app.wait_for(id, "awaiting_ideation_approval").await;
    }
    let steps = Samples(
        driver.batch_timings().into_iter().filter(|(n, _)| *n == 1).map(|(_, d)| d).collect(),
    );

    // Webhooks: runs parked on one video job; one signed callback each.
    let secret = WebhookSecret::parse(OPENAI_SECRET).unwrap();
    let mut hooks = Samples::default();
    let http = reqwest::Client::new();
    for i in 0..samples {
        let job = format!("video_lat_{i}_{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        app.craft(
            Step::WaitForVideos,
            RunStatus::AwaitingVideoGeneration,
            &[job.as_str()],
            Provider::OpenAi,
        )
        .await;
        let d = openai_video_delivery(&secret, &job, None, SystemClock.now().secs());
        let mut req = http.post(format!("{}{}", app.base_url, d.path)).body(d.body.clone());
        for (k, v) in &d.headers {
            req = req.header(k, v);
        }
        let t0 = Instant::now();
        let resp = req.send().await.expect("callback");
        let took = t0.elapsed();
        assert!(resp.status().is_success(), "{}", resp.status());
        hooks.0.push(took);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ms = |s: &Samples, p| format!("{:.2}", Samples::ms(s.pct(p)));
    super::table(
        &format!(
            "Latency over LocalStack ({} steps, {} accepted webhooks)",
            steps.0.len(),
            hooks.0.len()
        ),
        &["operation", "p50 ms", "p99 ms"],
        &[
            vec![
                "step: message → checkpoint → next sent".into(),
                ms(&steps, 50.0),
                ms(&steps, 99.0),
            ],
            vec!["accepted webhook: request → response".into(), ms(&hooks, 50.0), ms(&hooks, 99.0)],
        ],
    );
    super::table(
        "Against the targets",
        &["figure", "measured", "target"],
        &[vec![
            "accepted webhook p99".into(),
            format!("{} ms", ms(&hooks, 99.0)),
            "<= 5 ms".into(),
        ]],
    );
    json!({
        "scenario": "latency",
        "step_samples": steps.0.len(),
        "step_p50_ms": Samples::ms(steps.pct(50.0)), "step_p99_ms": Samples::ms(steps.pct(99.0)),
        "webhook_samples": hooks.0.len(),
        "webhook_p50_ms": Samples::ms(hooks.pct(50.0)), "webhook_p99_ms": Samples::ms(hooks.pct(99.0)),
    })
}
