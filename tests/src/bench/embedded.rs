//! Scenario 2: the engine on the embedded backend (SQLite), measured with the peer bench's
//! workloads (`../shared/peer-bench`), so the figures sit beside Restate's.
//!
//! W1: R runs of the no-op workflow (`workflow/noop.rs`, K durable steps that compute nothing),
//! `in_flight` at a time, started through `Engine::start_noop` and driven by the real worker
//! (`run_worker`) on the real adapters: each step is the runner's own read, checkpoint, send and
//! ack. Warm-up runs first, then `reps` timed reps; the median rep is reported, with commits
//! and synced commits (one fsync of the WAL each) per step, at both durabilities.
//! W2: runs waiting for one signed callback: latency from the webhook's HTTP response to the
//! run's next checkpoint, over sequential runs.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use myloware::Engine;
use myloware::domain::{
    Correlation, ExpectedJob, JobId, OpenWait, ProjectName, Provider, RunId, RunRecord, RunStatus,
    Step, WaitKind,
};
use myloware::fakes::FakeSet;
use myloware::ports::{Checkpoint, RunStore};
use myloware::time::{Clock, SystemClock, Timestamp};
use myloware::webhooks::WebhookSecret;
use myloware_http::{ApiKeys, AppState, WebhookSecrets};
use myloware_sqlite::{Checkpointed, Durability, Embedded, QueueSettings};
use serde_json::{Value, json};
use tokio::sync::{broadcast, oneshot};

use super::Samples;

const FAR: Timestamp = Timestamp(4_102_444_800_000);
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Knobs of W1.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    /// Runs per timed rep.
    pub runs: usize,
    /// Durable steps per run.
    pub steps: u32,
    /// Runs in flight at once.
    pub in_flight: usize,
    /// Queue consumers (`run_worker` tasks; each handles up to 10 messages at once).
    pub workers: usize,
    /// Untimed runs first.
    pub warmup: usize,
    /// Timed reps (the median is reported).
    pub reps: usize,
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

/// The embedded backend with an engine and its workers running.
struct Rig {
    backend: Embedded,
    engine: Engine,
    workers: Vec<tokio::task::JoinHandle<()>>,
    dir: std::path::PathBuf,
}

impl Rig {
    fn open(tag: &str, durability: Durability, workers: usize) -> Self {
        let dir = temp_dir(tag);
        let settings =
            QueueSettings { visibility_timeout: Duration::from_secs(30), max_receive_count: 8 };
        let backend = Embedded::open_with(&dir, Arc::new(SystemClock), settings, durability)
            .expect("open the embedded backend");
        let fakes = FakeSet::silent(WebhookSecret::parse(SECRET).unwrap());
        let engine = backend.engine(fakes.providers(), Arc::new(SystemClock), Default::default());
        let workers = (0..workers)
            .map(|w| {
                let q = backend.queue.clone();
                tokio::spawn(myloware::engine::run_worker(
                    engine.clone(),
                    q.clone(),
                    q,
                    format!("w{w}"),
                    std::future::pending(),
                ))
            })
            .collect();
        Self { backend, engine, workers, dir }
    }

    fn close(self) {
        for w in &self.workers {
            w.abort();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Who waits for which run to end; ends told before anyone waited are kept.
#[derive(Default)]
struct Ends {
    waiting: HashMap<RunId, oneshot::Sender<()>>,
    ended: HashSet<RunId>,
}

/// Hand every run's end (from the store's checkpoint feed) to whoever waits for it.
async fn dispatch_ends(mut feed: broadcast::Receiver<Checkpointed>, ends: Arc<Mutex<Ends>>) {
    loop {
        match feed.recv().await {
            Ok(c) if c.status.is_terminal() => {
                let mut e = ends.lock().unwrap();
                match e.waiting.remove(&c.run_id) {
                    Some(tx) => {
                        let _ = tx.send(());
                    }
                    None => {
                        e.ended.insert(c.run_id);
                    }
                }
            }
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(n)) => {
                panic!("the bench lagged {n} checkpoints")
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

async fn ended(ends: &Mutex<Ends>, id: RunId) {
    let rx = {
        let mut e = ends.lock().unwrap();
        if e.ended.remove(&id) {
            return;
        }
        let (tx, rx) = oneshot::channel();
        e.waiting.insert(id, tx);
        rx
    };
    let _ = rx.await;
}

/// `runs` no-op runs of `steps`, `in_flight` clients each starting one and waiting for its end:
/// the wall time and each run's latency (start call to its last checkpoint).
async fn drive(rig: &Rig, runs: usize, steps: u32, in_flight: usize) -> (Duration, Samples) {
    let ends = Arc::new(Mutex::new(Ends::default()));
    let dispatcher = tokio::spawn(dispatch_ends(rig.backend.store.checkpoints(), ends.clone()));
    let next = Arc::new(AtomicUsize::new(0));
    let began = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..in_flight.min(runs) {
        let (engine, ends, next) = (rig.engine.clone(), ends.clone(), next.clone());
        clients.spawn(async move {
            let mut lat = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < runs {
                let t0 = Instant::now();
                let run = engine.start_noop(steps, None).await.expect("start a no-op run");
                ended(&ends, run.run_id).await;
                lat.push(t0.elapsed());
            }
            lat
        });
    }
    let mut samples = Samples::default();
    while let Some(lat) = clients.join_next().await {
        samples.0.extend(lat.expect("a client"));
    }
    let elapsed = began.elapsed();
    dispatcher.abort();
    (elapsed, samples)
}

/// W1 at one durability: warm-up, then the timed reps; the median rep's figures.
pub async fn throughput(t: Throughput, durability: Durability) -> Value {
    let rig = Rig::open("w1", durability, t.workers);
    drive(&rig, t.warmup, t.steps, t.in_flight).await;
    let mut reps = Vec::new();
    for _ in 0..t.reps.max(1) {
        let stats = rig.backend.db.write_stats();
        let (c0, s0, w0) = (stats.commits(), stats.synced(), stats.writes());
        let (elapsed, lat) = drive(&rig, t.runs, t.steps, t.in_flight).await;
        let steps = (t.runs * t.steps as usize) as f64;
        let stats = rig.backend.db.write_stats();
        reps.push(json!({
            "steps_per_sec": steps / elapsed.as_secs_f64(),
            "run_latency_p50_ms": Samples::ms(lat.pct(50.0)),
            "run_latency_p99_ms": Samples::ms(lat.pct(99.0)),
            "commits_per_step": (stats.commits() - c0) as f64 / steps,
            "synced_commits_per_step": (stats.synced() - s0) as f64 / steps,
            "writes_per_step": (stats.writes() - w0) as f64 / steps,
            "elapsed_s": elapsed.as_secs_f64(),
        }));
    }
    rig.close();
    let rate = |v: &Value| v["steps_per_sec"].as_f64().unwrap_or(0.0);
    reps.sort_by(|a, b| rate(a).total_cmp(&rate(b)));
    let all: Vec<f64> = reps.iter().map(rate).collect();
    let mut median = reps[reps.len() / 2].clone();
    median["durability"] = json!(format!("{durability:?}"));
    median["reps_steps_per_sec"] = json!(all);
    median["runs"] = json!(t.runs);
    median["steps_per_run"] = json!(t.steps);
    median["in_flight"] = json!(t.in_flight);
    median["warmup"] = json!(t.warmup);
    median
}

/// W2: `runs` runs (after `warmup` more), each parked on one video job; one signed callback
/// each over HTTP, one after another; latency from the webhook's response to the run's next
/// checkpoint (told by the store's checkpoint feed, not polled).
pub async fn callbacks(runs: usize, warmup: usize) -> Value {
    let rig = Rig::open("w2", Durability::PowerLoss, 2);
    let secret = WebhookSecret::parse(SECRET).unwrap();
    let state = AppState::new(
        rig.engine.clone(),
        ApiKeys::default(),
        Arc::new(WebhookSecrets::single(secret.clone(), secret.clone(), 300)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/v1/webhooks/openai", listener.local_addr().unwrap());
    let server =
        tokio::spawn(
            async move { axum::serve(listener, myloware_http::webhook_router(state)).await },
        );
    let store = rig.backend.store.clone();
    let mut parked = Vec::new();
    for i in 0..runs + warmup {
        parked.push(park(store.as_ref(), i).await);
    }
    let http = reqwest::Client::new();
    let mut samples = Samples::default();
    let mut feed = store.checkpoints();
    for (n, (id, job)) in parked.into_iter().enumerate() {
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
            let c = feed.recv().await.expect("the checkpoint feed");
            if c.run_id == id && c.version > 2 {
                break;
            }
        }
        if n >= warmup {
            samples.0.push(t0.elapsed());
        }
        // The run goes on to its editing step; let that settle before the next callback.
        tokio::time::sleep(Duration::from_millis(20)).await;
        while feed.try_recv().is_ok() {}
    }
    server.abort();
    rig.close();
    json!({
        "runs": runs,
        "callback_to_checkpoint_p50_ms": Samples::ms(samples.pct(50.0)),
        "callback_to_checkpoint_p99_ms": Samples::ms(samples.pct(99.0)),
    })
}

/// A run parked at the video wait on one job, correlated so its callback finds it.
async fn park(store: &dyn RunStore, i: usize) -> (RunId, JobId) {
    let now = SystemClock.now();
    let run = RunRecord::new(ProjectName::parse("bench").unwrap(), format!("cb {i}"), 1, None, now);
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
    let corr = Correlation { run_id: run.run_id, generation: 2, index: 0 };
    store.correlate(Provider::OpenAi, &job, &corr).await.unwrap();
    (run.run_id, job)
}

fn num(v: &Value, k: &str, places: usize) -> String {
    format!("{:.*}", places, v[k].as_f64().unwrap_or(f64::NAN))
}

/// Run the scenario; prints its tables and returns its JSON.
pub async fn run(t: Throughput, callback_runs: usize) -> Value {
    let full = throughput(t, Durability::PowerLoss).await;
    let crash = throughput(t, Durability::ProcessCrash).await;
    let cb = callbacks(callback_runs, 10).await;
    let rss = peak_rss_mib();
    let row = |v: &Value, name: &str| {
        vec![
            name.to_owned(),
            num(v, "steps_per_sec", 0),
            num(v, "run_latency_p50_ms", 1),
            num(v, "run_latency_p99_ms", 1),
            num(v, "commits_per_step", 3),
            num(v, "synced_commits_per_step", 3),
            num(v, "writes_per_step", 2),
        ]
    };
    super::table(
        &format!(
            "W1 embedded: {} runs x {} no-op steps through the engine, {} in flight, {} workers, \
             {} warm-up, median of {}",
            t.runs, t.steps, t.in_flight, t.workers, t.warmup, t.reps
        ),
        &[
            "durability",
            "steps/s",
            "run p50 ms",
            "run p99 ms",
            "commits/step",
            "fsyncs/step",
            "writes/step",
        ],
        &[
            row(&full, "synced (synchronous=FULL, default)"),
            row(&crash, "kill -9 safe (synchronous=NORMAL)"),
        ],
    );
    super::table(
        &format!("W2 embedded: callback → next checkpoint ({callback_runs} sequential runs)"),
        &["p50 ms", "p99 ms"],
        &[vec![
            num(&cb, "callback_to_checkpoint_p50_ms", 3),
            num(&cb, "callback_to_checkpoint_p99_ms", 3),
        ]],
    );
    super::table(
        "Against the targets (Restate's own figures: scripts/bench-peers.sh)",
        &["figure", "measured", "target"],
        &[
            vec!["W1 steps/s (synced)".into(), num(&full, "steps_per_sec", 0), ">= 6000".into()],
            vec![
                "fsyncs per step (synced)".into(),
                num(&full, "synced_commits_per_step", 3),
                "<= 0.2".into(),
            ],
            vec!["W2 p50 ms".into(), num(&cb, "callback_to_checkpoint_p50_ms", 3), "<= 0.5".into()],
            vec!["W2 p99 ms".into(), num(&cb, "callback_to_checkpoint_p99_ms", 3), "<= 1.5".into()],
        ],
    );
    if let Some(r) = rss {
        println!("\n  peak RSS of the bench process so far: {r:.0} MiB");
    }
    json!({ "scenario": "embedded", "synced": full, "kill9_safe": crash, "callbacks": cb, "peak_rss_mib": rss })
}
