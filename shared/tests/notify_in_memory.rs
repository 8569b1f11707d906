//! Notifications on the in-memory adapters with a manual clock: each event reaches each
//! endpoint once, however often the step that emits it is delivered or however it crashes; a
//! failing endpoint is retried with growing delays and given up on, and the run never waits for
//! it. (The same, over HTTP to an endpoint verifying with the official Standard Webhooks
//! library, on SQLite and LocalStack: `tests/src/notify_scenarios.rs`.)

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::Harness;
use myloware::config::EngineConfig;
use myloware::domain::{
    DeliveryState, NoticeDelivery, NoticeKind, NoticeWrite, RunStatus, Step, StepMessage,
};
use myloware::engine::{Disposition, Endpoint, MAX_NOTICE_DELAY, Notifications, RetryPolicy};
use myloware::ports::{NoticeSender, PostOutcome, QueueError, RunStore, StepQueue};
use myloware::time::{Clock, Timestamp};
use myloware::webhooks::{StandardVerifier, WebhookSecret};

const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// One request an endpoint received.
#[derive(Debug, Clone)]
struct Received {
    endpoint: String,
    id: String,
    kind: String,
    at: Timestamp,
}

/// Endpoints by URL path: `/ok` answers 204 to a request that verifies (401 otherwise), `/down`
/// answers 500. Every request is checked with our verifier and recorded.
struct Endpoints {
    clock: Arc<dyn Clock>,
    verifier: StandardVerifier,
    got: Mutex<Vec<Received>>,
}

#[async_trait]
impl NoticeSender for Endpoints {
    async fn post(&self, url: &str, headers: &[(&str, String)], body: &str) -> PostOutcome {
        let h = |n: &str| headers.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str());
        let now = self.clock.now();
        let verified = self
            .verifier
            .verify(
                h("webhook-id"),
                h("webhook-timestamp"),
                h("webhook-signature"),
                body.as_bytes(),
                now.secs(),
            )
            .is_ok();
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        let endpoint = url.rsplit('/').next().unwrap().to_owned();
        self.got.lock().unwrap().push(Received {
            endpoint: endpoint.clone(),
            id: h("webhook-id").unwrap().to_owned(),
            kind: v["type"].as_str().unwrap().to_owned(),
            at: now,
        });
        PostOutcome::Answered(match (endpoint.as_str(), verified) {
            ("down", _) => 500,
            (_, true) => 204,
            (_, false) => 401,
        })
    }
}

impl Endpoints {
    fn received(&self, endpoint: &str) -> Vec<Received> {
        self.got.lock().unwrap().iter().filter(|r| r.endpoint == endpoint).cloned().collect()
    }
}

const RETRY: RetryPolicy =
    RetryPolicy { max_attempts: 4, base: Duration::from_secs(10), cap: MAX_NOTICE_DELAY };

fn harness(names: &[&str]) -> (Harness, Arc<Endpoints>) {
    let mut c = EngineConfig::default();
    c.retries = c.retries.with_max_attempts(3);
    let mut h = Harness::with_config(c);
    let secret = WebhookSecret::parse(SECRET).unwrap();
    let endpoints = Arc::new(Endpoints {
        clock: h.engine.clock.clone(),
        verifier: StandardVerifier::new(vec![secret.clone()], 300),
        got: Mutex::default(),
    });
    let endpoints_list = names
        .iter()
        .map(|n| Endpoint::parse(Some(n), &format!("https://hooks.example.com/{n}")).unwrap())
        .collect();
    h.engine.notifications = Some(Arc::new(Notifications {
        endpoints: endpoints_list,
        secret: Some(secret),
        sender: endpoints.clone(),
        retry: RETRY,
        console_url: Some("https://console.example.com".into()),
    }));
    (h, endpoints)
}

fn kinds(got: &[Received]) -> Vec<&str> {
    got.iter().map(|r| r.kind.as_str()).collect()
}

#[tokio::test]
async fn every_message_delivered_twice_still_notifies_each_event_once() {
    let (h, endpoints) = harness(&["ok"]);
    let id = h.full_run(2).await;
    assert_eq!(h.run(&id).await.status, RunStatus::Completed);
    let got = endpoints.received("ok");
    assert_eq!(
        kinds(&got),
        ["run.awaiting_approval", "run.awaiting_approval", "run.completed"],
        "{got:?}"
    );
    let mut ids: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 3, "one request per event, each its own id: {got:?}");
    let log = h.engine.notice_log(&id).await.unwrap();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|d| d.state == DeliveryState::Delivered && d.attempts == 1), "{log:?}");
}

/// A queue whose first send of a notice fails (the process died after the checkpoint).
struct LoseFirstNotice {
    inner: Arc<dyn StepQueue>,
    lost: AtomicBool,
}

#[async_trait]
impl StepQueue for LoseFirstNotice {
    async fn send(&self, msg: &StepMessage, delay: Duration) -> Result<(), QueueError> {
        if msg.notice.is_some() && !self.lost.swap(true, Ordering::SeqCst) {
            return Err(QueueError::Send("injected: lost after the checkpoint".into()));
        }
        self.inner.send(msg, delay).await
    }
}

#[tokio::test]
async fn a_notice_lost_after_its_checkpoint_is_sent_by_the_redelivery() {
    let (mut h, endpoints) = harness(&["ok"]);
    h.engine.queue =
        Arc::new(LoseFirstNotice { inner: h.queue.clone(), lost: AtomicBool::new(false) });
    let id = h.start(1).await;
    let first = h.queue.pop().unwrap();
    assert!(h.deliver(&first, 1).await.is_err(), "the send after the checkpoint failed");
    let run = h.run(&id).await;
    assert_eq!(run.status, RunStatus::AwaitingIdeationApproval, "the checkpoint landed");
    assert!(endpoints.received("ok").is_empty());
    // The message comes back: it wrote this version, so it re-sends what followed, notices too.
    assert_eq!(h.deliver(&first, 2).await, Ok(Disposition::Ack));
    h.pump(1).await;
    // And once more (a duplicate): the notice goes out again, and is not sent twice.
    assert_eq!(h.deliver(&first, 3).await, Ok(Disposition::Ack));
    h.pump(1).await;
    let got = endpoints.received("ok");
    assert_eq!(kinds(&got), ["run.awaiting_approval"], "{got:?}");
}

#[tokio::test]
async fn a_stall_is_notified_once_with_its_error() {
    let (h, endpoints) = harness(&["ok"]);
    let id = h.start(1).await;
    h.fakes.safety.fail_with(Some("moderation API is down"));
    let m = h.queue.pop().unwrap();
    for attempt in 1..=3 {
        h.engine.handle_delivery(&m, "w", attempt).await.unwrap();
    }
    assert_eq!(h.run(&id).await.status, RunStatus::Stalled);
    h.pump(1).await;
    // A copy of the message that stalled it re-sends the notice; nothing is posted twice.
    assert_eq!(h.engine.handle_delivery(&m, "w", 4).await.unwrap(), Disposition::Ack);
    assert_eq!(h.queue.len(), 1, "the notice, re-sent");
    h.pump(1).await;
    let got = endpoints.received("ok");
    assert_eq!(kinds(&got), ["run.stalled"]);
    let log = h.engine.notice_log(&id).await.unwrap();
    assert_eq!(
        (log.len(), log[0].kind, log[0].state),
        (1, NoticeKind::Stalled, DeliveryState::Delivered)
    );
}

/// Records the delay of every notice retry sent.
struct RecordDelays {
    inner: Arc<dyn StepQueue>,
    delays: Mutex<Vec<(String, u32, Duration)>>,
}

#[async_trait]
impl StepQueue for RecordDelays {
    async fn send(&self, msg: &StepMessage, delay: Duration) -> Result<(), QueueError> {
        if let Some(n) = &msg.notice {
            self.delays.lock().unwrap().push((n.event_id.clone(), n.attempt, delay));
        }
        self.inner.send(msg, delay).await
    }
}

#[tokio::test]
async fn a_failing_endpoint_is_retried_with_growing_delays_and_never_holds_the_run() {
    let (mut h, endpoints) = harness(&["ok", "down"]);
    let sent = Arc::new(RecordDelays { inner: h.queue.clone(), delays: Mutex::default() });
    h.engine.queue = sent.clone();
    let id = h.full_run(1).await;
    assert_eq!(h.run(&id).await.status, RunStatus::Completed, "the run went on regardless");
    assert_eq!(endpoints.received("ok").len(), 3);
    let down = endpoints.received("down");
    let mut by_event: BTreeMap<&str, Vec<Timestamp>> = BTreeMap::new();
    for r in &down {
        by_event.entry(r.id.as_str()).or_default().push(r.at);
    }
    assert_eq!(by_event.len(), 3, "every event: {down:?}");
    for (event, times) in &by_event {
        assert_eq!(times.len(), RETRY.max_attempts as usize, "{event}: every attempt, no more");
        // The retries were sent with growing delays, and none arrived before its delay.
        let delays: Vec<Duration> = sent
            .delays
            .lock()
            .unwrap()
            .iter()
            .filter(|(e, attempt, _)| e == event && *attempt > 1)
            .map(|(_, _, d)| *d)
            .collect();
        assert_eq!(delays.len(), times.len() - 1, "{event}");
        for (i, (delay, w)) in delays.iter().zip(times.windows(2)).enumerate() {
            let ceiling = RETRY.ceiling(i as u32 + 1);
            assert!(*delay >= ceiling / 2 && *delay <= ceiling, "{event}: delay {i} {delay:?}");
            assert!(w[1].since(w[0]) >= *delay, "{event}: attempt {} came early", i + 2);
        }
        assert!(delays.windows(2).all(|w| w[0] <= w[1]), "{event}: delays grow: {delays:?}");
    }
    let log = h.engine.notice_log(&id).await.unwrap();
    let down_log: Vec<&NoticeDelivery> = log.iter().filter(|d| d.endpoint == "down").collect();
    assert!(
        down_log.iter().all(|d| d.state == DeliveryState::GaveUp
            && d.attempts == RETRY.max_attempts
            && d.last_status == Some(500)),
        "{down_log:?}"
    );
    assert!(h.run(&id).await.error.is_none());
}

#[tokio::test]
async fn a_copy_arriving_while_an_attempt_is_claimed_waits_for_the_claim() {
    let (h, endpoints) = harness(&["ok"]);
    let id = h.start(1).await;
    h.pump(1).await;
    assert_eq!(endpoints.received("ok").len(), 1);
    // A copy of the notice whose attempt someone else claimed (and died holding).
    let run = h.run(&id).await;
    assert_eq!(run.step, Step::IdeationApproval);
    let log = h.engine.notice_log(&id).await.unwrap();
    let now = h.clock.now();
    let claimed = NoticeDelivery {
        attempts: 2,
        state: DeliveryState::Sending,
        claimed_until: Some(now.plus(Duration::from_secs(30))),
        ..log[0].clone()
    };
    assert!(h.store.put_notice_delivery(&claimed, NoticeWrite::Claim { now }).await.unwrap());
    let notice = myloware::domain::Notice {
        event_id: log[0].event_id.clone(),
        kind: log[0].kind,
        endpoint: "ok".into(),
        body: myloware::domain::Notice::payload(log[0].kind, &run, None),
        attempt: 2,
    };
    let copy = StepMessage::notice(id, run.version, notice);
    let d = h.engine.handle_message(&copy, "w").await.unwrap();
    assert!(matches!(d, Disposition::Retry { after } if after > Duration::from_secs(29)), "{d:?}");
    assert_eq!(endpoints.received("ok").len(), 1, "nothing sent while the claim holds");
    h.clock.advance(Duration::from_secs(31));
    assert_eq!(h.engine.handle_message(&copy, "w").await.unwrap(), Disposition::Ack);
    assert_eq!(endpoints.received("ok").len(), 2, "the lapsed claim's attempt is made");
    assert_eq!(h.engine.handle_message(&copy, "w").await.unwrap(), Disposition::Ack);
    assert_eq!(endpoints.received("ok").len(), 2, "and only once");
}
