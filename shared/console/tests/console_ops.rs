//! The console's operator views on the embedded backend (a real DLQ): a run whose retries ran
//! out shows on the operations page with its error and its message in the DLQ; an admin
//! resolves the message and resumes the run from the page, each action audited with the
//! principal, and a form without its token does nothing.

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::http::StatusCode;
use common::{send, sign_in};
use myloware::config::EngineConfig;
use myloware::domain::{ProjectName, RunStatus, StepMessage};
use myloware::engine::{Disposition, StartRequest, settle};
use myloware::fakes::{CallbackMode, FakeSet};
use myloware::ports::{CallbackSink, DeadLetters, Delivery, QueueConsumer, RunStore};
use myloware::time::{ManualClock, Timestamp};
use myloware::webhooks::WebhookSecret;
use myloware_console::Sessions;
use myloware_http::{ApiKeys, AppState, WebhookSecrets};
use myloware_sqlite::{Embedded, QueueSettings};

struct NoCallbacks;

#[async_trait]
impl CallbackSink for NoCallbacks {
    async fn deliver(&self, _: &Delivery) -> Result<u16, String> {
        Err("callbacks are not delivered in these tests".into())
    }
}

#[tokio::test]
async fn an_admin_resolves_the_dead_letter_and_resumes_the_stalled_run() {
    let dir = std::env::temp_dir().join(format!("console-ops-{}", uuid_like()));
    let clock = ManualClock::new(Timestamp(1_800_000_000_000));
    let settings =
        QueueSettings { visibility_timeout: Duration::from_secs(30), max_receive_count: 20 };
    let backend = Embedded::open(&dir, Arc::new(clock.clone()), settings).unwrap();
    let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let fakes = FakeSet::new(
        secret.clone(),
        secret.clone(),
        Arc::new(NoCallbacks),
        CallbackMode::Manual,
        Arc::new(clock.clone()),
    );
    let mut config = EngineConfig::default();
    config.retries = config.retries.with_max_attempts(2);
    let engine = backend.engine(fakes.providers(), Arc::new(clock.clone()), config);
    let verifiers = WebhookSecrets::single(secret.clone(), secret, 300);
    let keys = ApiKeys::new(["alice-key@alice", "root-key:admin@root"]);
    let state =
        AppState::new(engine.clone(), keys, Arc::new(verifiers)).with_dlq(backend.queue.clone());
    let router = myloware_console::router(state, Sessions::ephemeral(Duration::from_secs(600)));

    // A run whose ideation cannot pass the safety check: delivered until it stalls.
    let req = StartRequest {
        project: ProjectName::parse("aismr").unwrap(),
        brief: "a calm ocean".into(),
        clips: Some(1),
        idempotency_key: None,
        request_id: None,
        caller: None,
        owner: Some("alice".into()),
    };
    let id = engine.start_run(req).await.unwrap().run.run_id;
    fakes.safety.fail_with(Some("moderation API is down"));
    let queue = backend.queue.clone();
    loop {
        let got = queue.receive(1, Duration::from_secs(1)).await.unwrap();
        let Some(m) = got.into_iter().next() else { panic!("the message vanished") };
        let msg: StepMessage = serde_json::from_str(&m.body).unwrap();
        let d = engine.handle_delivery(&msg, "w", m.receive_count).await.unwrap();
        settle(queue.as_ref(), queue.as_ref(), &m, d).await.unwrap();
        match d {
            Disposition::DeadLetter { .. } => break,
            Disposition::Retry { after } => clock.advance(after + Duration::from_millis(1)),
            Disposition::Ack => panic!("the step cannot pass"),
        }
    }
    assert_eq!(engine.get(&id).await.unwrap().status, RunStatus::Stalled);
    let buried = queue.list(10).await.unwrap();
    assert_eq!(buried.len(), 1);
    let message_id = buried[0].message_id.clone();

    let root = sign_in(&router, "root-key").await;
    let page = send(&router, "GET", "/console/ops", &root, &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&id.to_string()[..8]), "the stalled run is listed");
    assert!(page.body.contains("moderation API is down"), "with its error");
    assert!(page.body.contains(&message_id), "and its dead letter");
    let csrf = page.field("csrf");

    // Without the form's token nothing happens.
    let resolve = format!("/console/dlq/{message_id}/resolve");
    let refused = send(&router, "POST", &resolve, &root, &[("reason", "x")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(queue.list(10).await.unwrap().len(), 1);
    let done =
        send(&router, "POST", &resolve, &root, &[("csrf", &csrf), ("reason", "checker fixed")])
            .await;
    assert_eq!(
        (done.status, done.location()),
        (StatusCode::SEE_OTHER, "/console/ops?done=resolved")
    );
    assert!(queue.list(10).await.unwrap().is_empty(), "resolved: out of the DLQ");

    fakes.safety.fail_with(None);
    let resume = format!("/console/runs/{id}/resume");
    let resumed = send(&router, "POST", &resume, &root, &[("csrf", &csrf)]).await;
    assert_eq!(resumed.status, StatusCode::SEE_OTHER, "{}", resumed.body);
    let run = engine.get(&id).await.unwrap();
    assert_ne!(run.status, RunStatus::Stalled, "reopened at its step");
    let audit = backend.store.audit_log(&id).await.unwrap();
    for action in ["dlq_resolved", "run_resumed"] {
        let entry = audit
            .iter()
            .find(|a| a.action == action)
            .unwrap_or_else(|| panic!("{action}: {audit:?}"));
        assert!(
            entry.actor.starts_with("root (key:"),
            "{action} audited with the principal: {entry:?}"
        );
    }
    // Alice, a plain key, may not.
    let alice = sign_in(&router, "alice-key").await;
    let token = send(&router, "GET", "/console/runs", &alice, &[]).await.field("csrf");
    let plain = send(&router, "POST", &resume, &alice, &[("csrf", &token)]).await;
    assert_eq!(plain.status, StatusCode::FORBIDDEN);
    let _ = std::fs::remove_dir_all(&dir);
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    )
}
