//! Scenario 2: the embedded backend (SQLite). (a) R runs of a no-op workflow of K durable steps,
//! `in_flight` runs at a time: each step does what the runner does for an active step that has
//! nothing to compute (read the run, take the lease, checkpoint, send the next message, delete
//! the delivered one), so the figure is the cost of durability and queueing alone. Reported with
//! commits synced to disk (the default) and with kill -9 safety only. (b) runs waiting for one
//! signed callback: latency from the webhook's HTTP response to the run's next checkpoint.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use myloware::domain::{
    Correlation, ExpectedJob, JobId, OpenWait, ProjectName, Provider, RunId, RunRecord, RunStatus,
    Step, StepMessage, WaitKind,
};
use myloware::fakes::FakeSet;
use myloware::ports::{Checkpoint, QueueConsumer, RunStore, StepQueue};
use myloware::time::{Clock, SystemClock, Timestamp};
use myloware::webhooks::WebhookSecret;
use myloware_http::{ApiKeys, AppState, WebhookSecrets};
use myloware_sqlite::{Durability, Embedded, QueueSettings};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use super::Samples;

const FAR: Timestamp = Timestamp(4_102_444_800_000);

/// Knobs of the throughput case.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    /// Runs.
    pub runs: usize,
    /// Durable steps per run.
    pub steps: u64,
    /// Runs in flight at once.
    pub in_flight: usize,
    /// Queue consumers.
    pub workers: usize,
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("myloware-bench-{tag}-{}", uuid::Uuid::new_v4().simple()))
}

/// Peak resident set size of this process so far, in MiB (Linux).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

struct Shared {
    backend: Embedded,
    k: u64,
    started: Mutex<HashMap<RunId, Instant>>,
    latencies: Mutex<Vec<Duration>>,
    slots: Semaphore,
    done: tokio::sync::Notify,
}

/// One no-op durable step for `m`, as the runner does it; true when the run finished.
async fn step(s: &Shared, owner: &str, body: &str) -> bool {
    let msg: StepMessage = serde_json::from_str(body).expect("bench message");
    let store = &s.backend.store;
    let Some(run) = store.get_run(&msg.run_id).await.expect("read") else { return false };
    if Some(run.version) != msg.version || run.status.is_terminal() {
        return false;
    }
    let now = SystemClock.now();
    let Ok(leased) = store
        .acquire_lease(&run.run_id, run.version, owner, now.plus(Duration::from_secs(30)), now)
        .await
    else {
        return false;
    };
    let mut next = leased.clone();
    next.version += 1;
    next.updated_at = now;
    next.lease = None;
    let finished = next.version > s.k;
    if finished {
        next.status = RunStatus::Completed;
        next.step = Step::Done;
    }
    if store.checkpoint(Checkpoint::new(&next, leased.version)).await.is_err() {
        return false;
    }
    if !finished {
        s.backend
            .queue
            .send(&StepMessage::at(next.run_id, next.version), Duration::ZERO)
            .await
            .expect("send");
    }
    finished
}

async fn worker(s: Arc<Shared>, name: String) {
    loop {
        let batch = s.backend.queue.receive(10, Duration::from_millis(200)).await.expect("receive");
        if batch.is_empty() && s.slots.is_closed() {
            return;
        }
        let mut tasks = tokio::task::JoinSet::new();
        for m in batch {
            let (s, owner) = (s.clone(), format!("{name}:{}", m.message_id));
            tasks.spawn(async move {
                if step(&s, &owner, &m.body).await {
                    let id: StepMessage = serde_json::from_str(&m.body).unwrap();
                    if let Some(t0) = s.started.lock().unwrap().remove(&id.run_id) {
                        s.latencies.lock().unwrap().push(t0.elapsed());
                    }
                    s.slots.add_permits(1);
                    s.done.notify_one();
                }
                s.backend.queue.delete(&m.receipt).await.expect("delete");
            });
        }
        while tasks.join_next().await.is_some() {}
    }
}

/// The throughput case at one durability.
pub async fn throughput(t: Throughput, durability: Durability) -> Value {
    let dir = temp_dir("steps");
    let settings =
        QueueSettings { visibility_timeout: Duration::from_secs(30), max_receive_count: 8 };
    let backend =
        Embedded::open_with(&dir, Arc::new(SystemClock), settings, durability).expect("open");
    let s = Arc::new(Shared {
        backend,
        k: t.steps,
        started: Mutex::default(),
        latencies: Mutex::default(),
        slots: Semaphore::new(t.in_flight),
        done: tokio::sync::Notify::new(),
    });
    let began = Instant::now();
    let workers: Vec<_> =
        (0..t.workers).map(|w| tokio::spawn(worker(s.clone(), format!("w{w}")))).collect();
    for i in 0..t.runs {
        s.slots.acquire().await.expect("slot").forget();
        let run = RunRecord::new(
            ProjectName::parse("bench").unwrap(),
            format!("run {i}"),
            1,
            None,
            SystemClock.now(),
        );
        s.started.lock().unwrap().insert(run.run_id, Instant::now());
        s.backend.store.create_run(&run, FAR).await.expect("create");
        s.backend.queue.send(&StepMessage::at(run.run_id, 1), Duration::ZERO).await.expect("send");
    }
    while s.latencies.lock().unwrap().len() < t.runs {
        s.done.notified().await;
    }
    let elapsed = began.elapsed();
    s.slots.close();
    for w in workers {
        let _ = w.await;
    }
    let lat = Samples(s.latencies.lock().unwrap().clone());
    let steps = t.runs as f64 * t.steps as f64;
    let _ = std::fs::remove_dir_all(&dir);
    json!({
        "durability": format!("{durability:?}"),
        "runs": t.runs, "steps_per_run": t.steps, "in_flight": t.in_flight,
        "steps_per_sec": steps / elapsed.as_secs_f64(),
        "run_latency_p50_ms": Samples::ms(lat.pct(50.0)),
        "run_latency_p99_ms": Samples::ms(lat.pct(99.0)),
        "elapsed_s": elapsed.as_secs_f64(),
    })
}

/// The callback case: `runs` runs each parked on one video job; one signed callback each over
/// HTTP; latency from the response to the run's next checkpoint.
pub async fn callbacks(runs: usize) -> Value {
    let dir = temp_dir("callbacks");
    let settings =
        QueueSettings { visibility_timeout: Duration::from_secs(30), max_receive_count: 8 };
    let backend = Embedded::open(&dir, Arc::new(SystemClock), settings).expect("open");
    let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let fakes = FakeSet::silent(secret.clone());
    let engine = backend.engine(fakes.providers(), Arc::new(SystemClock), Default::default());
    let state = AppState::new(
        engine.clone(),
        ApiKeys::default(),
        Arc::new(WebhookSecrets::single(secret.clone(), secret.clone(), 300)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/v1/webhooks/openai", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, myloware_http::webhook_router(state)).await });
    for w in 0..2 {
        let (e, q) = (engine.clone(), backend.queue.clone());
        tokio::spawn(myloware::engine::run_worker(
            e,
            q.clone(),
            q,
            format!("cb{w}"),
            std::future::pending(),
        ));
    }
    let store = backend.store.clone();
    let mut parked = Vec::new();
    for i in 0..runs {
        let now = SystemClock.now();
        let run =
            RunRecord::new(ProjectName::parse("bench").unwrap(), format!("cb {i}"), 1, None, now);
        store.create_run(&run, FAR).await.unwrap();
        let job = JobId::parse(&format!(
            "video_bench_{i}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        ))
        .unwrap();
        let mut next = run.clone();
        next.version = 2;
        next.step = Step::WaitForVideos;
        next.status = RunStatus::AwaitingVideoGeneration;
        next.state.step_generation = Some(2);
        next.open_wait = Some(OpenWait::new(
            WaitKind::Videos,
            2,
            Some(Provider::OpenAi),
            vec![ExpectedJob { job_id: job.clone(), index: 0 }],
            now,
            Duration::from_secs(3600),
        ));
        store.checkpoint(Checkpoint::new(&next, 1)).await.unwrap();
        store
            .correlate(
                Provider::OpenAi,
                &job,
                &Correlation { run_id: run.run_id, generation: 2, index: 0 },
            )
            .await
            .unwrap();
        parked.push((run.run_id, job));
    }
    let http = reqwest::Client::new();
    let mut samples = Samples::default();
    for (id, job) in parked {
        let d = myloware::fakes::deliveries::openai_video_delivery(
            &secret,
            job.as_str(),
            None,
            SystemClock.now().secs(),
        );
        let mut req = http.post(&url).body(d.body.clone());
        for (k, v) in &d.headers {
            req = req.header(k, v);
        }
        let resp = req.send().await.expect("callback");
        assert!(resp.status().is_success(), "callback refused: {}", resp.status());
        let t0 = Instant::now();
        loop {
            let run = store.get_run(&id).await.unwrap().unwrap();
            if run.version > 2 {
                samples.0.push(t0.elapsed());
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    json!({
        "runs": runs,
        "callback_to_checkpoint_p50_ms": Samples::ms(samples.pct(50.0)),
        "callback_to_checkpoint_p99_ms": Samples::ms(samples.pct(99.0)),
    })
}

/// Run the scenario; prints its tables and returns its JSON.
pub async fn run(t: Throughput, callback_runs: usize) -> Value {
    let full = throughput(t, Durability::PowerLoss).await;
    let crash = throughput(t, Durability::ProcessCrash).await;
    let cb = callbacks(callback_runs).await;
    let rss = peak_rss_mib();
    let row = |v: &Value, name: &str| {
        vec![
            name.to_owned(),
            format!("{:.0}", v["steps_per_sec"].as_f64().unwrap_or(0.0)),
            format!("{:.1}", v["run_latency_p50_ms"].as_f64().unwrap_or(0.0)),
            format!("{:.1}", v["run_latency_p99_ms"].as_f64().unwrap_or(0.0)),
        ]
    };
    super::table(
        &format!(
            "Embedded throughput: {} runs x {} no-op durable steps, {} in flight, {} consumers",
            t.runs, t.steps, t.in_flight, t.workers
        ),
        &["durability", "steps/s", "run p50 ms", "run p99 ms"],
        &[row(&full, "synced to disk (default)"), row(&crash, "kill -9 safe only")],
    );
    super::table(
        &format!("Embedded callback → resumed ({callback_runs} runs, one signed callback each)"),
        &["p50 ms", "p99 ms"],
        &[vec![
            format!("{:.2}", cb["callback_to_checkpoint_p50_ms"].as_f64().unwrap_or(0.0)),
            format!("{:.2}", cb["callback_to_checkpoint_p99_ms"].as_f64().unwrap_or(0.0)),
        ]],
    );
    super::table(
        "Against the targets",
        &["figure", "measured", "target"],
        &[
            vec![
                "embedded steps/s (synced)".into(),
                format!("{:.0}", full["steps_per_sec"].as_f64().unwrap_or(0.0)),
                ">= 6000".into(),
            ],
            vec![
                "callback → resumed p50".into(),
                format!("{:.2} ms", cb["callback_to_checkpoint_p50_ms"].as_f64().unwrap_or(0.0)),
                "<= 1.5 ms".into(),
            ],
        ],
    );
    if let Some(r) = rss {
        println!("\n  peak RSS of the bench process so far: {r:.0} MiB");
    }
    json!({ "scenario": "embedded", "synced": full, "kill9_safe": crash, "callbacks": cb, "peak_rss_mib": rss })
}
