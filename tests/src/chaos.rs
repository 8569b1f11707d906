//! The chaos harness: many whole runs on one backend with crashes injected at random fault points
//! (store writes, queue sends and acks, provider calls, the webhook handler), every step message
//! sent twice and every callback delivered twice. Crashed handlers are retried the way the
//! platform would: the queue redelivers after the visibility timeout, the provider retries its
//! callback, the client retries its start (same `Idempotency-Key`) and its gate decision.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use myloware::Engine;
use myloware::config::EngineConfig;
use myloware::domain::{Decision, Gate, IdempotencyKey, ProjectName, RunId, RunStatus};
use myloware::engine::{Providers, StartRequest};
use myloware::fakes::{CallbackMode, FakeSet};
use myloware::faults::{Crash, Faults, FaultyConsumer, FaultyQueue, FaultyStore, faulty_providers};
use myloware::ports::{CallbackSink, Delivery, ListQuery, QueueConsumer};
use myloware::time::SystemClock;
use myloware::webhooks::WebhookSecret;
use myloware_http::{ApiKeys, AppState, WebhookSecrets, webhook_router};
use tokio::sync::watch;
use tower::ServiceExt;

use crate::{OPENAI_SECRET, REMOTION_SECRET};

pub use crate::backend::Backend as ChaosBackend;

/// Knobs.
#[derive(Debug, Clone, Copy)]
pub struct ChaosOptions {
    /// Runs to drive.
    pub runs: usize,
    /// Clips per run.
    pub clips: u32,
    /// Crash probability at each fault point.
    pub p: f64,
    /// RNG seed (printed, so a failure can be replayed).
    pub seed: u64,
    /// Concurrent queue consumers.
    pub workers: usize,
    /// Give up after this long.
    pub timeout: Duration,
}

/// What happened.
#[derive(Debug)]
pub struct ChaosReport {
    /// Runs that reached `completed`.
    pub completed: usize,
    /// Status of every run that did not.
    pub unfinished: BTreeMap<String, usize>,
    /// Distinct video jobs started at the provider.
    pub video_jobs: usize,
    /// Distinct renders started.
    pub render_jobs: usize,
    /// Distinct publications.
    pub publications: usize,
    /// Calls each provider received, per run.
    pub calls: Vec<RunCalls>,
    /// Runs whose clips are not exactly N distinct jobs.
    pub wrong_clips: usize,
    /// Every crash injected, with what it was about.
    pub crashes: Vec<Crash>,
    /// The per-fault-point table.
    pub table: String,
    /// Wall time.
    pub elapsed: Duration,
}

/// The calls the providers received for one run: what "paid once" and "published once" mean.
#[derive(Debug, Clone)]
pub struct RunCalls {
    /// The run.
    pub run_id: RunId,
    /// Video submit calls.
    pub video: usize,
    /// Render submit calls.
    pub render: usize,
    /// Upload POSTs.
    pub publish: usize,
}

/// The crash window of a paid call at a provider that takes no idempotency key of ours: after
/// the provider accepted the call and before its job id was recorded on the intent. A crash
/// there makes the next execution call again (docs/design.md, "Paid calls"). Publishing has no
/// such window: its request id is ours, and a repeat asks before it posts.
fn window_crashes<'a>(crashes: &'a [Crash], run: &RunId, paid: Paid) -> Vec<&'a Crash> {
    let (provider_point, step) = match paid {
        Paid::Video => ("video.submit.after", "production"),
        Paid::Render => ("render.submit.after", "editing"),
    };
    let run = run.to_string();
    crashes
        .iter()
        .filter(|c| {
            let tag = c.tag.as_deref().unwrap_or_default();
            let mut parts = tag.split(':');
            let (r, s) = (parts.next(), parts.next());
            r == Some(run.as_str())
                && (c.point == provider_point
                    || (c.point == "store.complete_intent.before" && s == Some(step)))
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Paid {
    Video,
    Render,
}

/// Delivers callbacks to the real webhook router in-process, twice each, retrying (as providers
/// do) until it answers 2xx; a crashed handler is a failed delivery.
struct ChaosSink {
    router: OnceLock<Router>,
}

impl ChaosSink {
    async fn once(&self, d: &Delivery) -> Result<u16, String> {
        let router = self.router.get().expect("router set").clone();
        let mut req = axum::http::Request::post(d.path.clone());
        for (k, v) in &d.headers {
            req = req.header(k, v);
        }
        let req = req.body(Body::from(d.body.clone())).map_err(|e| e.to_string())?;
        // The handler runs in its own task, so an injected crash (a panic) fails this delivery
        // only, as a crashed Lambda would.
        let resp = tokio::spawn(async move { router.oneshot(req).await })
            .await
            .map_err(|e| format!("handler crashed: {e}"))?
            .map_err(|e| e.to_string())?;
        Ok(resp.status().as_u16())
    }
}

#[async_trait]
impl CallbackSink for ChaosSink {
    async fn deliver(&self, d: &Delivery) -> Result<u16, String> {
        for _copy in 0..2 {
            let mut delay = Duration::from_millis(20);
            loop {
                match self.once(d).await {
                    Ok(s) if (200..300).contains(&s) => break,
                    Ok(s) if (400..500).contains(&s) => return Err(format!("rejected: {s}")),
                    _ => {
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(Duration::from_millis(500));
                    }
                }
            }
        }
        Ok(200)
    }
}

/// Retry `f` (in its own task, so an injected crash is just a failed attempt) until it succeeds.
async fn until_ok<T, F, Fut>(f: F) -> T
where
    T: Send + 'static,
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>> + Send + 'static,
{
    loop {
        if let Ok(Some(v)) = tokio::spawn(f()).await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn config(b: &ChaosBackend) -> EngineConfig {
    let mut c = EngineConfig {
        lease_ttl: b.visibility * 3 / 4,
        max_runs_24h: 1_000_000,
        daily_budget_usd: 1e12,
        ..Default::default()
    };
    // Crashes are injected at every fault point at once, far more often than anything real:
    // an attempt limit sized for production would stall runs (crashed attempts count, as they
    // must). Stalls have their own tests; here every run must finish.
    c.retries = c.retries.with_max_attempts(40);
    // A callback that arrives before its job was correlated (a crash between the provider's
    // answer and the correlation write) is recovered by polling: poll soon.
    c.waits.poll_after = Duration::from_secs(2);
    c.waits.poll_interval = Duration::from_secs(2);
    c.waits.publish_poll.after = Duration::from_millis(500);
    c.waits.publish_poll.interval = Duration::from_secs(1);
    c.waits.max_timer = Duration::from_secs(3);
    c.waits.stuck_after = Duration::from_secs(6);
    c
}

/// Drive `opts.runs` runs to the end under chaos; returns what happened.
pub async fn run_chaos(b: ChaosBackend, opts: ChaosOptions) -> ChaosReport {
    myloware::faults::quiet_injected_panics();
    let started = Instant::now();
    let faults = Arc::new(Faults::random(opts.p, opts.seed));
    let video_secret = WebhookSecret::parse(OPENAI_SECRET).unwrap();
    let remotion = WebhookSecret::parse(REMOTION_SECRET).unwrap();
    let sink = Arc::new(ChaosSink { router: OnceLock::new() });
    let fakes = FakeSet::new(
        video_secret.clone(),
        remotion.clone(),
        sink.clone(),
        CallbackMode::After(Duration::from_millis(30)),
        Arc::new(SystemClock),
    );
    let providers: Providers = faulty_providers(fakes.providers(), faults.clone());
    let engine = Engine {
        store: Arc::new(FaultyStore::new(b.store.clone(), faults.clone())),
        queue: Arc::new(FaultyQueue::new(b.queue.clone(), faults.clone(), true)),
        blobs: b.blobs.clone(),
        clock: Arc::new(SystemClock),
        providers,
        config: config(&b),
        step_commit: None,
        notifications: None,
    };
    let router = webhook_router(AppState::new(
        engine.clone(),
        ApiKeys::default(),
        Arc::new(WebhookSecrets::single(video_secret.clone(), remotion.clone(), 300)),
    ));
    let _ = sink.router.set(router);

    let (stop, stopped) = watch::channel(false);
    let consumer: Arc<dyn QueueConsumer> =
        Arc::new(FaultyConsumer::new(b.consumer.clone(), faults.clone()));
    for w in 0..opts.workers {
        let mut stopped = stopped.clone();
        tokio::spawn(myloware::engine::run_worker(
            engine.clone(),
            consumer.clone(),
            b.dlq.clone(),
            format!("chaos-w{w}"),
            async move {
                let _ = stopped.changed().await;
            },
        ));
    }

    // Start every run; a crashed start is retried with the same idempotency key.
    let mut starts = tokio::task::JoinSet::new();
    for i in 0..opts.runs {
        let engine = engine.clone();
        let key = IdempotencyKey::parse(&format!("chaos-{}-{i}", opts.seed)).unwrap();
        let clips = opts.clips;
        starts.spawn(async move {
            until_ok(move || {
                let (engine, key) = (engine.clone(), key.clone());
                async move {
                    let req = StartRequest {
                        project: ProjectName::parse("aismr").unwrap(),
                        brief: format!("chaos run {i}"),
                        clips: Some(clips),
                        idempotency_key: Some(key),
                        request_id: None,
                        caller: None,
                        owner: None,
                    };
                    engine.start_run(req).await.ok().map(|o| o.run.run_id)
                }
            })
            .await
        });
    }
    let mut ids: Vec<RunId> = Vec::with_capacity(opts.runs);
    while let Some(id) = starts.join_next().await {
        ids.push(id.expect("start task"));
    }

    // The human: approve whatever waits at a gate (a crashed decision is simply retried).
    let approver = {
        let engine = engine.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            loop {
                for (status, gate) in [
                    (RunStatus::AwaitingIdeationApproval, Gate::Ideation),
                    (RunStatus::AwaitingPublishApproval, Gate::Publish),
                ] {
                    let q =
                        ListQuery { status: Some(status), owner: None, limit: 100, cursor: None };
                    let Ok(page) = engine.store.list_runs(&q).await else { continue };
                    for run in page.runs {
                        // Like a person whose request failed: try again until it is answered.
                        let engine = engine.clone();
                        until_ok(move || {
                            let engine = engine.clone();
                            async move {
                                engine
                                    .decide(
                                        &run.run_id,
                                        gate,
                                        Decision::Approve,
                                        None,
                                        "chaos",
                                        None,
                                    )
                                    .await
                                    .ok()
                            }
                        })
                        .await;
                    }
                }
                tokio::select! {
                    _ = stopped.changed() => return,
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
            }
        })
    };

    // The scheduled sweeper (a message lost to a crash between a checkpoint and its send, with
    // no stale copy left to repair it, is found here).
    let sweeper = {
        let engine = engine.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            loop {
                let e = engine.clone();
                let _ = tokio::spawn(async move { e.sweep(Duration::from_secs(30)).await }).await;
                tokio::select! {
                    _ = stopped.changed() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        })
    };

    // Wait for every run to end.
    let deadline = Instant::now() + opts.timeout;
    let mut runs = Vec::new();
    let mut last_report = Instant::now();
    loop {
        runs.clear();
        for id in &ids {
            runs.push(b.store.get_run(id).await.expect("read").expect("run exists"));
        }
        if runs.iter().all(|r| r.status.is_terminal()) || Instant::now() > deadline {
            break;
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            last_report = Instant::now();
            let mut by: BTreeMap<String, usize> = BTreeMap::new();
            for r in &runs {
                *by.entry(format!("{}@{}", r.status, r.step)).or_default() += 1;
            }
            println!("chaos progress after {:.0?}: {by:?}", started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let _ = stop.send(true);
    let _ = approver.await;
    let _ = sweeper.await;
    faults.arm(false);

    let mut unfinished = BTreeMap::new();
    for r in runs.iter().filter(|r| r.status != RunStatus::Completed) {
        *unfinished.entry(format!("{}@{}", r.status, r.step)).or_default() += 1;
    }
    let wrong_clips = runs
        .iter()
        .filter(|r| {
            let jobs: std::collections::BTreeSet<_> =
                r.state.clips.iter().map(|c| &c.job_id).collect();
            r.state.clips.len() != opts.clips as usize || jobs.len() != opts.clips as usize
        })
        .count();
    let (video, render, publish) =
        (fakes.video.submissions(), fakes.render.submissions(), fakes.publish.posts());
    let calls = ids
        .iter()
        .map(|id| RunCalls {
            run_id: *id,
            video: video.for_run(id),
            render: render.for_run(id),
            publish: publish.for_run(id),
        })
        .collect();
    ChaosReport {
        completed: runs.iter().filter(|r| r.status == RunStatus::Completed).count(),
        unfinished,
        video_jobs: fakes.video.jobs_started(),
        render_jobs: fakes.render.jobs_started(),
        publications: fakes.publish.jobs_started(),
        calls,
        wrong_clips,
        crashes: faults.crashes(),
        table: faults.table(),
        elapsed: started.elapsed(),
    }
}

impl ChaosReport {
    /// Print the tables and assert the exactly-once outcome for `runs` runs of `clips` clips,
    /// counted in calls the providers received: per run, N video submissions, one render
    /// submission and one upload POST. A paid call repeated inside its documented crash window
    /// is listed with the crash that caused it; anything else fails. Publishing has no window.
    pub fn check(&self, runs: usize, clips: u32, seed: u64) {
        println!("chaos seed {seed}: {runs} runs × {clips} clips in {:.1?}", self.elapsed);
        println!("{}", self.table);
        let mut extras = String::new();
        let mut unexplained = Vec::new();
        let mut repeated_posts = Vec::new();
        for c in &self.calls {
            for (paid, calls, expected) in
                [(Paid::Video, c.video, clips as usize), (Paid::Render, c.render, 1)]
            {
                assert!(calls >= expected, "run {} got {calls} {paid:?} calls", c.run_id);
                let extra = calls - expected;
                if extra == 0 {
                    continue;
                }
                let window = window_crashes(&self.crashes, &c.run_id, paid);
                let points: Vec<&str> = window.iter().map(|w| w.point).collect();
                extras += &format!(
                    "  run {}  {paid:?}  {calls} calls (expected {expected})  crash window: {points:?}\n",
                    &c.run_id.to_string()[..8]
                );
                if extra > window.len() {
                    unexplained.push((c.run_id, paid, calls, points.join(",")));
                }
            }
            if c.publish != 1 {
                repeated_posts.push((c.run_id, c.publish));
            }
        }
        let total = |f: fn(&RunCalls) -> usize| self.calls.iter().map(f).sum::<usize>();
        println!(
            "completed {}/{runs}; calls received: video {} (expected {}), render {} (expected \
             {runs}), upload POSTs {} (expected {runs}); distinct jobs: video {}, renders {}, \
             publications {}",
            self.completed,
            total(|c| c.video),
            runs * clips as usize,
            total(|c| c.render),
            total(|c| c.publish),
            self.video_jobs,
            self.render_jobs,
            self.publications
        );
        if extras.is_empty() {
            println!("no provider call was repeated");
        } else {
            println!(
                "paid calls repeated inside their crash window (same idempotency key):\n{extras}"
            );
        }
        assert!(!self.crashes.is_empty(), "no crash was injected: the test proves nothing");
        assert_eq!(
            self.completed, runs,
            "unfinished runs (status@step → count): {:?}",
            self.unfinished
        );
        assert!(
            unexplained.is_empty(),
            "repeated paid calls outside any crash window: {unexplained:?}"
        );
        assert!(repeated_posts.is_empty(), "runs not published exactly once: {repeated_posts:?}");
        assert_eq!(self.video_jobs, runs * clips as usize, "exactly N video jobs per run");
        assert_eq!(self.render_jobs, runs, "exactly one render per run");
        assert_eq!(self.publications, runs, "exactly one publication per run");
        assert_eq!(self.wrong_clips, 0, "every run holds exactly its N distinct clips");
    }
}
