//! Notifications end to end, written once and run on every backend (SQLite and LocalStack):
//! the real engine and workers, notices through the step queue, our HTTP sender, and a local
//! endpoint that verifies each request with the official Standard Webhooks library (PyPI
//! `standardwebhooks`, `interop/notify_receiver.py`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use myloware::domain::{DeliveryState, Gate, NoticeKind, RunStatus, StepMessage};
use myloware::engine::{Endpoint, MAX_NOTICE_DELAY, Notifications, RetryPolicy};
use myloware::ports::{QueueError, StepQueue};
use myloware::webhooks::WebhookSecret;
use myloware_providers::clients::HttpNoticeSender;
use serde_json::Value;

use crate::backend::Backend;
use crate::scenarios::Rig;

/// The secret our notifications are signed with, and the receiver verifies with.
pub const NOTIFY_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// The receiver process: `/ok` answers 204 to what the library verifies, `/down` 500 to all.
pub struct Receiver {
    child: Child,
    port: u16,
    log: PathBuf,
}

/// One request the receiver logged.
#[derive(Debug, Clone)]
pub struct Logged {
    /// `/ok` or `/down`.
    pub path: String,
    /// `webhook-id`.
    pub id: String,
    /// The library verified it.
    pub verified: bool,
    /// The payload's `type`, when verified.
    pub kind: Option<String>,
    /// When it arrived (unix seconds, fractional).
    pub at: f64,
}

impl Receiver {
    /// Start it with the peer's Python (`crate::interop::peer_python`).
    pub fn spawn(python: &Path) -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/interop/notify_receiver.py");
        let log =
            std::env::temp_dir().join(format!("notify-{}.jsonl", uuid::Uuid::new_v4().simple()));
        let mut child = Command::new(python)
            .args([script, NOTIFY_SECRET, log.to_str().unwrap()])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the receiver");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("its port");
        let port = line.trim().parse().expect("a port on the first line");
        Self { child, port, log }
    }

    /// The endpoint named `path` (`ok` or `down`).
    pub fn endpoint(&self, path: &str) -> Endpoint {
        Endpoint::parse(Some(path), &format!("http://127.0.0.1:{}/{path}", self.port)).unwrap()
    }

    /// Every request so far.
    pub fn logged(&self) -> Vec<Logged> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("a log line");
                Logged {
                    path: v["path"].as_str().unwrap().trim_start_matches('/').to_owned(),
                    id: v["id"].as_str().unwrap_or_default().to_owned(),
                    verified: v["verified"] == true,
                    kind: v["type"].as_str().map(str::to_owned),
                    at: v["at"].as_f64().unwrap(),
                }
            })
            .collect()
    }

    /// The requests to `path`, grouped by event id.
    pub fn by_event(&self, path: &str) -> BTreeMap<String, Vec<Logged>> {
        let mut out: BTreeMap<String, Vec<Logged>> = BTreeMap::new();
        for l in self.logged().into_iter().filter(|l| l.path == path) {
            out.entry(l.id.clone()).or_default().push(l);
        }
        out
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A step queue that delivers every step message twice (at-least-once at its worst) and loses
/// the first notice of the run's completion (the process died right after that checkpoint).
struct Unreliable {
    inner: Arc<dyn StepQueue>,
    lost: AtomicBool,
}

#[async_trait]
impl StepQueue for Unreliable {
    async fn send(&self, msg: &StepMessage, delay: Duration) -> Result<(), QueueError> {
        match &msg.notice {
            Some(n)
                if n.kind == NoticeKind::Completed && !self.lost.swap(true, Ordering::SeqCst) =>
            {
                Err(QueueError::Send("injected: died after the checkpoint".into()))
            }
            Some(_) => self.inner.send(msg, delay).await,
            None => {
                self.inner.send(msg, delay).await?;
                self.inner.send(msg, delay).await
            }
        }
    }
}

const RETRY: RetryPolicy =
    RetryPolicy { max_attempts: 4, base: Duration::from_secs(2), cap: MAX_NOTICE_DELAY };

/// A run taken through both gates to completion, every step message delivered twice and the
/// completion's notice lost once, with two endpoints: one that works and one that answers 500.
/// The working one gets each event exactly once (counted in requests), every request verified
/// by the official library; the failing one gets every event `RETRY.max_attempts` times with
/// growing gaps, and the run completes while it is still being retried.
pub async fn each_event_reaches_each_endpoint_once_verified_by_the_library(
    b: &Backend,
    python: &Path,
) {
    let receiver = Receiver::spawn(python);
    let queue = Arc::new(Unreliable { inner: b.queue.clone(), lost: AtomicBool::new(false) });
    let mut rig = Rig::new(b, queue.clone(), |c| {
        c.waits.stuck_after = Duration::from_secs(3600);
        c.waits.publish_poll.after = Duration::from_millis(300);
        c.waits.publish_poll.interval = Duration::from_millis(500);
    });
    rig.engine.notifications = Some(Arc::new(Notifications {
        endpoints: vec![receiver.endpoint("ok"), receiver.endpoint("down")],
        secret: Some(WebhookSecret::parse(NOTIFY_SECRET).unwrap()),
        sender: Arc::new(HttpNoticeSender::default()),
        retry: RETRY,
        console_url: Some("http://127.0.0.1:8080".into()),
    }));
    rig.workers(b, 2);
    let started = Instant::now();
    let id = rig.start(1).await;
    let within = Duration::from_secs(60);
    rig.wait(&id, within, |r| r.status == RunStatus::AwaitingIdeationApproval).await;
    rig.approve(&id, Gate::Ideation).await;
    rig.wait(&id, within, |r| r.status == RunStatus::AwaitingVideoGeneration).await;
    let moved_on = unix_now();
    for job in rig.fakes.video.take_outbox() {
        assert_eq!(rig.fakes.video.send(&job).await, Ok(200));
    }
    rig.wait(&id, within, |r| r.status == RunStatus::AwaitingRender).await;
    for job in rig.fakes.render.take_outbox() {
        assert_eq!(rig.fakes.render.send(&job).await, Ok(200));
    }
    rig.wait(&id, within, |r| r.status == RunStatus::AwaitingPublishApproval).await;
    rig.approve(&id, Gate::Publish).await;
    rig.wait(&id, within, |r| r.status == RunStatus::Completed).await;
    println!("run completed in {:.1?} with one endpoint down", started.elapsed());
    // The notices follow the completion's checkpoint: the first one's send fails just after.
    let until = Instant::now() + Duration::from_secs(10);
    while !queue.lost.load(Ordering::SeqCst) {
        assert!(Instant::now() < until, "the completion's first notice was never sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The failing endpoint's last attempts come after the run completed: it never waited.
    let all_attempts = Instant::now() + Duration::from_secs(30);
    let want = RETRY.max_attempts as usize;
    loop {
        let down = receiver.by_event("down");
        if down.len() == 3 && down.values().all(|v| v.len() == want) {
            break;
        }
        assert!(Instant::now() < all_attempts, "the failing endpoint's attempts: {down:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await; // anything extra would show up now
    let ok = receiver.by_event("ok");
    let mut kinds: Vec<(f64, String)> =
        ok.values().map(|v| (v[0].at, v[0].kind.clone().unwrap_or_default())).collect();
    kinds.sort_by(|a, b| a.0.total_cmp(&b.0));
    let kinds: Vec<&str> = kinds.iter().map(|(_, k)| k.as_str()).collect();
    assert_eq!(kinds, ["run.awaiting_approval", "run.awaiting_approval", "run.completed"]);
    for (event, requests) in &ok {
        assert_eq!(requests.len(), 1, "{event}: one request per event: {requests:?}");
        assert!(requests[0].verified, "{event}: the library verified it");
    }
    let down = receiver.by_event("down");
    for (event, requests) in &down {
        assert_eq!(requests.len(), want, "{event}: every attempt, no more");
        assert!(requests.iter().all(|r| r.verified), "{event}: signed every time");
        let gaps: Vec<f64> = requests.windows(2).map(|w| w[1].at - w[0].at).collect();
        for (i, gap) in gaps.iter().enumerate() {
            let floor = RETRY.ceiling(i as u32 + 1).as_secs_f64() / 2.0;
            assert!(*gap >= floor - 0.05, "{event}: retry {i} after {gap:.2}s, before {floor}s");
        }
    }
    // The gate's event was still being retried when the run had left the gate and was waiting
    // for its clips: the run never waited for the endpoint.
    let gate_event = down.values().min_by(|a, b| a[0].at.total_cmp(&b[0].at)).unwrap();
    assert!(gate_event.last().unwrap().at > moved_on, "{gate_event:?} vs {moved_on}");
    let log = rig.engine.notice_log(&id).await.unwrap();
    assert_eq!(log.len(), 6, "{log:?}");
    for d in &log {
        let want = if d.endpoint == "ok" {
            (DeliveryState::Delivered, 1)
        } else {
            (DeliveryState::GaveUp, RETRY.max_attempts)
        };
        assert_eq!((d.state, d.attempts), want, "{d:?}");
    }
    let run = rig.run(&id).await;
    assert!(run.error.is_none(), "{run:?}");
}

fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64()
}

const TELEGRAM_TOKEN: &str = "123456:fake-bot-token_for-tests";
const TELEGRAM_CHAT: i64 = -100_200_300;
const TELEGRAM_SECRET: &str = "telegram-secret-token-for-tests";

/// Telegram, end to end over HTTP: the gate's notice reaches the fake Bot API as a message with
/// Approve / Reject buttons (one `sendMessage`), and a press comes back to our webhook as
/// Telegram sends it. A press with a wrong secret token (401) or from another chat changes
/// nothing; Approve decides the gate (audited as the Telegram user); a second press is told it
/// was already decided.
pub async fn telegram_buttons_decide_a_gate(b: &Backend) {
    use myloware::domain::Decision;
    use myloware_http::{ApiKeys, AppState, TelegramInbound, WebhookSecrets, api_router};
    use myloware_providers::server::{FakeConfig, FakeSecrets, FakeServer, Press};

    let mut rig = Rig::new(b, b.queue.clone(), |c| c.waits.stuck_after = Duration::from_secs(3600));
    // The api function's router (Telegram's updates go there on AWS), on a port of its own,
    // taking presses from the one configured chat.
    let secret = WebhookSecret::parse(crate::OPENAI_SECRET).unwrap();
    let verifiers = Arc::new(WebhookSecrets::single(secret.clone(), secret.clone(), 300));
    let inbound = TelegramInbound::new(TELEGRAM_SECRET, &TELEGRAM_CHAT.to_string());
    let state =
        AppState::new(rig.engine.clone(), ApiKeys::default(), verifiers).with_telegram(inbound);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ours = format!("http://{}/v1/webhooks/telegram", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, api_router(state)).await });
    let secrets =
        FakeSecrets { openai: secret.clone(), replicate: secret.clone(), remotion: secret };
    let config = FakeConfig {
        telegram_token: Some(TELEGRAM_TOKEN.into()),
        telegram_webhook_url: Some(ours),
        telegram_secret_token: Some(TELEGRAM_SECRET.into()),
        ..FakeConfig::default()
    };
    let telegram =
        FakeServer::spawn("127.0.0.1:0".parse().unwrap(), secrets, config).await.unwrap();
    let chat = TELEGRAM_CHAT.to_string();
    let endpoint = Endpoint::telegram(&telegram.base_url(), TELEGRAM_TOKEN, &chat).unwrap();
    rig.engine.notifications = Some(Arc::new(Notifications {
        endpoints: vec![endpoint],
        secret: None,
        sender: Arc::new(HttpNoticeSender::default()),
        retry: RETRY,
        console_url: Some("https://console.example.com".into()),
    }));
    rig.workers(b, 2);
    let id = rig.start(1).await;
    let within = Duration::from_secs(30);
    rig.wait(&id, within, |r| r.status == RunStatus::AwaitingIdeationApproval).await;
    let until = Instant::now() + within;
    while telegram.telegram_messages().is_empty() {
        assert!(Instant::now() < until, "no Telegram message");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let msg = &telegram.telegram_messages()[0];
    assert_eq!(msg.chat_id, serde_json::json!(TELEGRAM_CHAT));
    assert!(
        msg.text.contains(&id.to_string()[..8]) && msg.text.contains("ideation gate"),
        "{msg:?}"
    );
    let rows = &msg.reply_markup.as_ref().unwrap()["inline_keyboard"];
    assert_eq!(rows[1][0]["url"], format!("https://console.example.com/console/runs/{id}"));

    let press = |button: &str| Press { button: button.into(), user_id: 4242, ..Press::default() };
    let forged =
        Press { secret_token: Some("guessed-secret-token-000".into()), ..press("Approve") };
    assert_eq!(telegram.telegram_press(&forged).await.unwrap().status, 401);
    let elsewhere = Press { chat_id: Some(999), ..press("Approve") };
    let answer = telegram.telegram_press(&elsewhere).await.unwrap();
    assert_eq!(
        (answer.status, answer.answer["text"].as_str()),
        (200, Some("Not allowed from this chat."))
    );
    assert_eq!(rig.run(&id).await.status, RunStatus::AwaitingIdeationApproval, "nothing changed");

    let approved = telegram.telegram_press(&press("Approve")).await.unwrap();
    assert_eq!(approved.answer["method"], "answerCallbackQuery");
    assert_eq!(approved.answer["text"], "Approved.");
    rig.wait(&id, within, |r| r.status != RunStatus::AwaitingIdeationApproval).await;
    let run = rig.run(&id).await;
    let decision = &run.state.decisions[0];
    assert_eq!(decision.decision, Decision::Approve);
    let again = telegram.telegram_press(&press("Approve")).await.unwrap();
    assert_eq!(again.answer["text"], "Already decided so.");
    let audit = rig.engine.store.audit_log(&id).await.unwrap();
    assert!(audit.iter().any(|a| a.actor == "telegram:4242"), "{audit:?}");
    assert_eq!(telegram.telegram_answers().len(), 3, "Telegram performed each answer");
    assert_eq!(telegram.stats().telegram_requests, 1, "one message for the one event so far");
}
