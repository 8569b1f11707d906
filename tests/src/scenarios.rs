//! Exactly-once scenarios written once and run on every backend with real delete semantics
//! (SQLite and LocalStack): the engine with its real runner and workers, fakes that call back
//! through the real webhook router, and fault points where a scenario needs one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use myloware::Engine;
use myloware::config::EngineConfig;
use myloware::domain::{
    Decision, Gate, ProjectName, RunId, RunRecord, RunStatus, Step, StepMessage,
};
use myloware::engine::{StartRequest, SweepReport};
use myloware::fakes::{CallbackMode, FakeSet};
use myloware::faults::{Faults, faulty_providers};
use myloware::ports::{CallbackSink, Delivery, QueueError, StepQueue};
use myloware::time::{Clock, SystemClock, Timestamp};
use myloware::webhooks::WebhookSecret;
use myloware_http::{ApiKeys, AppState, WebhookSecrets, webhook_router};
use tokio::sync::watch;
use tower::ServiceExt;

use crate::backend::Backend;
use crate::{OPENAI_SECRET, REMOTION_SECRET};

/// Delivers callbacks to the webhook router in-process, once each.
struct RouterSink {
    router: OnceLock<Router>,
}

#[async_trait]
impl CallbackSink for RouterSink {
    async fn deliver(&self, d: &Delivery) -> Result<u16, String> {
        let router = self.router.get().expect("router set").clone();
        let mut req = axum::http::Request::post(d.path.clone());
        for (k, v) in &d.headers {
            req = req.header(k, v);
        }
        let req = req.body(Body::from(d.body.clone())).map_err(|e| e.to_string())?;
        Ok(router.oneshot(req).await.map_err(|e| e.to_string())?.status().as_u16())
    }
}

/// An engine on `b` with fakes that call back on demand (manual mode), fault points around
/// the paid providers, and `queue` in front of the backend's queue.
pub(crate) struct Rig {
    pub(crate) engine: Engine,
    pub(crate) fakes: FakeSet,
    pub(crate) faults: Arc<Faults>,
    stop: watch::Sender<bool>,
}

impl Rig {
    pub(crate) fn new(
        b: &Backend,
        queue: Arc<dyn StepQueue>,
        tune: impl FnOnce(&mut EngineConfig),
    ) -> Self {
        myloware::faults::quiet_injected_panics();
        let video_secret = WebhookSecret::parse(OPENAI_SECRET).unwrap();
        let remotion = WebhookSecret::parse(REMOTION_SECRET).unwrap();
        let sink = Arc::new(RouterSink { router: OnceLock::new() });
        let fakes = FakeSet::new(
            video_secret.clone(),
            remotion.clone(),
            sink.clone(),
            CallbackMode::Manual,
            Arc::new(SystemClock),
        );
        let faults = Arc::new(Faults::none());
        let mut config =
            EngineConfig { lease_ttl: b.visibility * 3 / 4, ..EngineConfig::default() };
        tune(&mut config);
        let engine = Engine {
            store: b.store.clone(),
            queue,
            blobs: b.blobs.clone(),
            clock: Arc::new(SystemClock),
            providers: faulty_providers(fakes.providers(), faults.clone()),
            config,
            step_commit: None,
            notifications: None,
        };
        let _ = sink.router.set(webhook_router(AppState::new(
            engine.clone(),
            ApiKeys::default(),
            Arc::new(WebhookSecrets::single(video_secret.clone(), remotion.clone(), 300)),
        )));
        let (stop, _) = watch::channel(false);
        Self { engine, fakes, faults, stop }
    }

    /// Consume the step queue with `n` workers (as several pollers would) until dropped.
    pub(crate) fn workers(&self, b: &Backend, n: usize) {
        for w in 0..n {
            let mut stopped = self.stop.subscribe();
            tokio::spawn(myloware::engine::run_worker(
                self.engine.clone(),
                b.consumer.clone(),
                b.dlq.clone(),
                format!("w{w}"),
                async move {
                    let _ = stopped.changed().await;
                },
            ));
        }
    }

    pub(crate) async fn start(&self, clips: u32) -> RunId {
        let req = StartRequest {
            project: ProjectName::parse("aismr").unwrap(),
            brief: "exactly once".into(),
            clips: Some(clips),
            idempotency_key: None,
            request_id: None,
            caller: None,
            owner: None,
        };
        self.engine.start_run(req).await.expect("start").run.run_id
    }

    pub(crate) async fn run(&self, id: &RunId) -> RunRecord {
        self.engine.get(id).await.expect("read the run")
    }

    /// Wait until `done` holds for the run, or panic after `within`.
    pub(crate) async fn wait(
        &self,
        id: &RunId,
        within: Duration,
        done: impl Fn(&RunRecord) -> bool,
    ) {
        let until = Instant::now() + within;
        loop {
            let run = self.run(id).await;
            if done(&run) {
                return;
            }
            assert!(Instant::now() < until, "run did not get there in {within:?}: {run:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) async fn approve(&self, id: &RunId, gate: Gate) {
        self.engine.decide(id, gate, Decision::Approve, None, "test", None).await.expect("decide");
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// A queue whose first send of a step message for `version` fails after the checkpoint that
/// precedes it landed (the queue answered an error, or the process died before the send).
struct DropOneSend {
    inner: Arc<dyn StepQueue>,
    version: std::sync::atomic::AtomicU64,
    dropped: AtomicBool,
}

#[async_trait]
impl StepQueue for DropOneSend {
    async fn send(&self, msg: &StepMessage, delay: Duration) -> Result<(), QueueError> {
        let target = self.version.load(Ordering::SeqCst);
        if !msg.timer && msg.version == Some(target) && !self.dropped.swap(true, Ordering::SeqCst) {
            return Err(QueueError::Send("injected: the send after a checkpoint failed".into()));
        }
        self.inner.send(msg, delay).await
    }
}

/// A failed send after a winning checkpoint is re-sent by the redelivery of the message whose
/// delivery wrote it — at once, with no sweeper running — on a queue where an acked message is
/// gone for good. Here the wake-up that completed the video wait loses its send of the editing
/// message: without the re-send the run would sit in editing until a sweeper found it.
pub async fn a_lost_send_is_re_sent_by_the_redelivery_that_wrote_the_checkpoint(b: &Backend) {
    let drop = Arc::new(DropOneSend {
        inner: b.queue.clone(),
        version: u64::MAX.into(),
        dropped: AtomicBool::new(false),
    });
    let rig = Rig::new(b, drop.clone(), |c| c.waits.stuck_after = Duration::from_secs(3600));
    rig.workers(b, 2);
    let id = rig.start(1).await;
    let within = Duration::from_secs(30);
    rig.wait(&id, within, |r| r.status == RunStatus::AwaitingIdeationApproval).await;
    rig.approve(&id, Gate::Ideation).await;
    rig.wait(&id, within, |r| r.status == RunStatus::AwaitingVideoGeneration).await;
    let waiting = rig.run(&id).await;
    drop.version.store(waiting.version + 1, Ordering::SeqCst);
    for job in rig.fakes.video.take_outbox() {
        assert_eq!(rig.fakes.video.send(&job).await, Ok(200));
    }
    let started = Instant::now();
    rig.wait(&id, within, |r| r.status == RunStatus::AwaitingRender).await;
    assert!(drop.dropped.load(Ordering::SeqCst), "the send after the checkpoint was lost");
    println!("a lost send re-sent; the run moved on {:.1?} later", started.elapsed());
    assert_eq!(rig.fakes.video.submissions().for_run(&id), 1);
}

/// Every cause of an exhausted message stalls the run, crashes included: a step that always
/// crashes is tried up to its limit, then the run is stalled and its message is in the DLQ —
/// once. Nothing brings it back from there on its own (the sweeper never sees a stalled run),
/// so nothing loops between the DLQ and the sweeper.
pub async fn a_step_that_always_crashes_stalls_once_and_stays_buried(b: &Backend) {
    let rig = Rig::new(b, b.queue.clone(), |c| {
        c.retries = c.retries.clone().with_max_attempts(3);
        c.waits.stuck_after = Duration::from_secs(1);
    });
    rig.faults.crash_always("llm.ideate.before");
    rig.workers(b, 2);
    let id = rig.start(1).await;
    rig.wait(&id, b.visibility * 8 + Duration::from_secs(20), |r| r.status == RunStatus::Stalled)
        .await;
    let stalled = rig.run(&id).await;
    let err = stalled.error.clone().unwrap();
    assert_eq!((err.code.as_str(), err.attempts), ("retries_exhausted", Some(3)), "{err:?}");
    assert_eq!(rig.fakes.llm.calls(), 0, "it never got past the crash");
    // Sweeps and time go by: the run stays stalled, the DLQ holds its message once.
    for _ in 0..3 {
        let report = rig.engine.sweep(Duration::from_secs(10)).await.unwrap();
        assert!(!report.requeued.contains(&id) && !report.timers.contains(&id), "{report:?}");
        tokio::time::sleep(b.visibility).await;
    }
    let buried: Vec<StepMessage> = b
        .dlq
        .list(10)
        .await
        .unwrap()
        .iter()
        .filter_map(|l| serde_json::from_str(&l.body).ok())
        .filter(|m: &StepMessage| m.run_id == id)
        .collect();
    assert_eq!(buried.len(), 1, "buried once: {buried:?}");
    assert_eq!(buried[0].redrive, Some(stalled.version), "marked to reopen the run");
    let after = rig.run(&id).await;
    assert_eq!((after.status, after.version), (RunStatus::Stalled, stalled.version));
}

/// A step longer than its lease runs once, with several workers taking the message as its
/// visibility lapses: the lease is renewed while the step runs, so the others find it held.
pub async fn a_step_longer_than_its_lease_runs_once(b: &Backend, step: Duration, workers: usize) {
    let rig = Rig::new(b, b.queue.clone(), |_| {});
    assert!(rig.engine.config.lease_ttl * 4 < step, "the step outlasts the lease several times");
    rig.faults.delay_at("llm.ideate.before", step);
    rig.workers(b, workers);
    let id = rig.start(1).await;
    rig.wait(&id, step + Duration::from_secs(30), |r| {
        r.status == RunStatus::AwaitingIdeationApproval
    })
    .await;
    assert_eq!(rig.fakes.llm.calls(), 1, "the {step:?} step ran once");
}

/// What [`the_sweeper_reads_only_due_runs`] measured.
#[derive(Debug)]
pub struct SweepScale {
    /// Runs created (parked + the stuck one).
    pub runs: usize,
    /// Time to create them.
    pub setup: Duration,
    /// Time of the sweep pass.
    pub sweep: Duration,
    /// The pass.
    pub report: SweepReport,
}

/// `parked` runs waiting at a gate with live timer chains, and one run whose message was
/// lost: one sweep pass recovers the stuck run, reading only it (an index on the due time, no
/// walk over the healthy runs).
pub async fn the_sweeper_reads_only_due_runs(b: &Backend, parked: usize) -> SweepScale {
    let rig = Rig::new(b, b.queue.clone(), |c| c.waits.stuck_after = Duration::from_secs(1200));
    let now = SystemClock.now();
    let started = Instant::now();
    let runs: Vec<RunRecord> = (0..parked)
        .map(|i| {
            let mut run = RunRecord::new(
                ProjectName::parse("parked").unwrap(),
                format!("parked {i}"),
                1,
                None,
                now,
            );
            run.step = Step::IdeationApproval;
            run.status = RunStatus::AwaitingIdeationApproval;
            run.due_at = Some(now.plus(Duration::from_secs(600)));
            run
        })
        .collect();
    b.seed(runs).await;
    // The stuck one: running production, its message lost an hour ago.
    let hour_ago = Timestamp(now.millis() - 3_600_000);
    let mut stuck =
        RunRecord::new(ProjectName::parse("stuck").unwrap(), "lost".into(), 1, None, hour_ago);
    stuck.step = Step::Production;
    stuck.status = RunStatus::Running;
    stuck.due_at = Some(hour_ago.plus(Duration::from_secs(1200)));
    b.store.create_run(&stuck, Timestamp(i64::MAX)).await.unwrap();
    let setup = started.elapsed();

    let started = Instant::now();
    let report = rig.engine.sweep(Duration::from_secs(60)).await.unwrap();
    let sweep = started.elapsed();
    assert_eq!(report.requeued, [stuck.run_id], "{report:?}");
    assert!(report.examined <= 2, "read only what is due: {report:?}");
    assert!(report.finished && report.errors.is_empty(), "{report:?}");
    // Its message is back in the queue; the run is out of the index until it moves or is due.
    let got = b.consumer.receive(10, Duration::from_secs(5)).await.unwrap();
    let msg: StepMessage = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!((msg.run_id, msg.version), (stuck.run_id, Some(1)));
    let again = rig.engine.sweep(Duration::from_secs(60)).await.unwrap();
    assert_eq!(again.examined, 0, "handled runs are deferred: {again:?}");
    SweepScale { runs: parked + 1, setup, sweep, report }
}

/// Editing stores one clip per checkpoint, so an editing step killed after clip `k` of `n`
/// resumes at clip `k + 1`: killed as it starts the next clip, no clip is fetched twice;
/// killed with the next clip fetched but not yet stored, only that one is fetched again.
pub async fn an_editing_step_killed_after_clip_k_resumes_at_the_next(b: &Backend, n: u32, k: u32) {
    for (point, refetched) in [("video.download.before", None), ("video.download.after", Some(k))] {
        let rig =
            Rig::new(b, b.queue.clone(), |c| c.retries = c.retries.clone().with_max_attempts(5));
        rig.workers(b, 2);
        let id = rig.start(n).await;
        let within = Duration::from_secs(60);
        rig.wait(&id, within, |r| r.status == RunStatus::AwaitingIdeationApproval).await;
        rig.approve(&id, Gate::Ideation).await;
        rig.wait(&id, within, |r| r.status == RunStatus::AwaitingVideoGeneration).await;
        // Clips 0..k are fetched and stored; the step dies at clip k (the (k+1)th pass).
        rig.faults.crash_on(point, k + 1);
        for job in rig.fakes.video.take_outbox() {
            assert_eq!(rig.fakes.video.send(&job).await, Ok(200));
        }
        rig.wait(&id, within + b.visibility * 4, |r| r.status == RunStatus::AwaitingRender).await;
        let crashes = rig.faults.crashes();
        assert_eq!(crashes.len(), 1, "{point}: {crashes:?}");
        let run = rig.run(&id).await;
        assert_eq!(run.state.clips.len(), n as usize);
        for clip in &run.state.clips {
            let fetched = rig.fakes.video.downloads_of(&clip.job_id);
            let want = if Some(clip.index) == refetched { 2 } else { 1 };
            assert_eq!(fetched, want, "{point}: clip {} fetched {fetched} times", clip.index);
            assert!(clip.blob_key.is_some(), "clip {} stored", clip.index);
        }
        assert_eq!(crashes[0].tag.as_deref(), Some(run.state.clips[k as usize].job_id.as_str()));
        println!(
            "{point}: killed at clip {k} of {n}; resumed there, every other clip fetched once"
        );
    }
}
