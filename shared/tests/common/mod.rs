//! The in-memory harness: the engine on the in-memory adapters and a manual clock, with fakes
//! that call back through the webhook intake (signature verification included).
#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use myloware::Engine;
use myloware::adapters::{MemoryBackend, MemoryQueue, MemoryStore};
use myloware::config::EngineConfig;
use myloware::domain::StepMessage;
use myloware::domain::{Decision, Gate, ProjectName, Provider, RunId, RunRecord, RunStatus};
use myloware::engine::{Disposition, StandardHeaders, StartRequest};
use myloware::fakes::{CallbackMode, FakeSet};
use myloware::faults::{Faults, FaultyStore, faulty_providers};
use myloware::ports::{CallbackSink, Delivery, RunStore};
use myloware::time::{ManualClock, Timestamp};
use myloware::webhooks::{RemotionVerifier, StandardVerifier, WebhookSecret};

const OPENAI: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const REMOTION: &str = "remotion-test-secret";

/// Delivers callbacks straight into the engine's webhook intake.
pub struct InProcessSink {
    engine: OnceLock<Engine>,
}

#[async_trait]
impl CallbackSink for InProcessSink {
    async fn deliver(&self, d: &Delivery) -> Result<u16, String> {
        let engine = self.engine.get().expect("engine set");
        let h = |name: &str| d.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let result = if d.path.starts_with("/v1/webhooks/openai") {
            let v = StandardVerifier::new(vec![WebhookSecret::parse(OPENAI).unwrap()], 300);
            let headers = StandardHeaders {
                id: h("webhook-id"),
                timestamp: h("webhook-timestamp"),
                signature: h("webhook-signature"),
            };
            engine.intake_video(Provider::OpenAi, &v, headers, &d.body, None).await
        } else {
            let v = RemotionVerifier::new(vec![WebhookSecret::parse(REMOTION).unwrap()], 300);
            engine.intake_remotion(&v, h("x-remotion-signature"), None, None, &d.body, None).await
        };
        result.map(|_| 200).map_err(|e| e.to_string())
    }
}

pub struct Harness {
    pub engine: Engine,
    pub store: Arc<MemoryStore>,
    pub queue: Arc<MemoryQueue>,
    pub clock: ManualClock,
    pub fakes: FakeSet,
    /// Fault points around the store's writes and the paid providers (none armed by default).
    pub faults: Arc<Faults>,
}

impl Harness {
    pub fn new() -> Self {
        Self::with_config(EngineConfig::default())
    }

    pub fn with_config(config: EngineConfig) -> Self {
        let backend = MemoryBackend::default();
        let (store, queue) = (backend.store.clone(), backend.queue.clone());
        let clock = ManualClock::new(Timestamp(1_800_000_000_000));
        let sink = Arc::new(InProcessSink { engine: OnceLock::new() });
        let fakes = FakeSet::new(
            WebhookSecret::parse(OPENAI).unwrap(),
            WebhookSecret::parse(REMOTION).unwrap(),
            sink.clone(),
            CallbackMode::Manual,
            Arc::new(clock.clone()),
        );
        let faults = Arc::new(Faults::none());
        let mut engine = backend.engine(
            faulty_providers(fakes.providers(), faults.clone()),
            Arc::new(clock.clone()),
            config,
        );
        engine.store = Arc::new(FaultyStore::new(store.clone(), faults.clone()));
        let _ = sink.engine.set(engine.clone());
        Self { engine, store, queue, clock, fakes, faults }
    }

    /// Handle queued messages until none is left; a delivery that crashes comes back after
    /// the crashed holder's lease lapsed (the clock moves on), as a queue would hand it out.
    pub async fn pump_through_crashes(&self) -> usize {
        let mut crashes = 0;
        while let Some(m) = self.queue.pop() {
            if self.deliver(&m, 1).await.is_err() {
                crashes += 1;
                self.clock.advance(std::time::Duration::from_secs(61));
                self.queue.push(m);
            }
        }
        crashes
    }

    /// Deliver `m` once as attempt `attempt`, in its own task, so an injected crash (a panic)
    /// only fails this delivery, as a crashed function would. `Err` for a crash or an error:
    /// the message is not settled and comes back.
    pub async fn deliver(&self, m: &StepMessage, attempt: u32) -> Result<Disposition, String> {
        myloware::faults::quiet_injected_panics();
        let (engine, m) = (self.engine.clone(), m.clone());
        match tokio::spawn(async move { engine.handle_delivery(&m, "test", attempt).await }).await {
            Ok(Ok(d)) => Ok(d),
            Ok(Err(e)) => Err(e.to_string()),
            Err(crash) => Err(format!("crashed: {crash}")),
        }
    }

    pub async fn start(&self, clips: u32) -> RunId {
        self.start_project("aismr", Some(clips)).await
    }

    /// Start a run of `project` (its own clip count unless `clips`).
    pub async fn start_project(&self, project: &str, clips: Option<u32>) -> RunId {
        let req = StartRequest {
            project: ProjectName::parse(project).unwrap(),
            brief: "a calm ocean at dawn".into(),
            clips,
            idempotency_key: None,
            request_id: None,
            caller: None,
            owner: None,
        };
        self.engine.start_run(req).await.unwrap().run.run_id
    }

    /// Handle queued messages until none is left; `copies` deliveries of each.
    pub async fn pump(&self, copies: usize) {
        while let Some(m) = self.queue.pop() {
            for _ in 0..copies {
                let d = self.engine.handle_message(&m, "test").await.unwrap();
                assert_eq!(d, Disposition::Ack, "message {m:?}");
            }
        }
    }

    pub async fn run(&self, id: &RunId) -> RunRecord {
        self.store.get_run(id).await.unwrap().unwrap()
    }

    pub async fn approve(&self, id: &RunId, gate: Gate) {
        self.engine.decide(id, gate, Decision::Approve, None, "test", None).await.unwrap();
    }

    /// Start a run and take it to the video wait (callbacks held in the fake's outbox).
    pub async fn full_run_until_videos(&self, clips: u32) -> RunId {
        let id = self.start(clips).await;
        self.pump(1).await;
        self.approve(&id, Gate::Ideation).await;
        self.pump(1).await;
        assert_eq!(self.run(&id).await.status, RunStatus::AwaitingVideoGeneration);
        id
    }

    /// Drive a run to the end, delivering video callbacks reversed, one twice, one early.
    pub async fn full_run(&self, copies: usize) -> RunId {
        self.fakes.video.deliver_early(0);
        let id = self.start(3).await;
        self.pump(copies).await;
        assert_eq!(self.run(&id).await.status, RunStatus::AwaitingIdeationApproval);
        self.approve(&id, Gate::Ideation).await;
        self.pump(copies).await;
        let run = self.run(&id).await;
        assert_eq!(run.status, RunStatus::AwaitingVideoGeneration);
        let mut outbox = self.fakes.video.take_outbox();
        assert_eq!(outbox.len(), 2, "clip 0 was delivered early");
        outbox.reverse();
        for job in &outbox {
            assert_eq!(self.fakes.video.send(job).await, Ok(200));
            self.pump(copies).await;
        }
        assert_eq!(self.fakes.video.send(&outbox[0]).await, Ok(200), "duplicate callback");
        self.pump(copies).await;
        assert_eq!(self.run(&id).await.status, RunStatus::AwaitingRender);
        for job in self.fakes.render.take_outbox() {
            self.fakes.render.send(&job).await.unwrap();
        }
        self.pump(copies).await;
        assert_eq!(self.run(&id).await.status, RunStatus::AwaitingPublishApproval);
        self.approve(&id, Gate::Publish).await;
        self.pump(copies).await;
        assert_eq!(self.run(&id).await.status, RunStatus::AwaitingPublish);
        self.timers(copies).await;
        id
    }

    /// Deliver the delayed messages (wait timers) after advancing the clock by each delay,
    /// `copies` deliveries of each, pumping after each, until none is left.
    pub async fn timers(&self, copies: usize) {
        loop {
            let mut due = self.queue.take_delayed();
            if due.is_empty() {
                return;
            }
            due.sort_by_key(|(d, _)| *d);
            for (delay, m) in due {
                self.clock.advance(delay);
                for _ in 0..copies {
                    let d = self.engine.handle_message(&m, "timer").await.unwrap();
                    assert_eq!(d, Disposition::Ack, "timer {m:?}");
                }
                self.pump(copies).await;
            }
        }
    }
}
