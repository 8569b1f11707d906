//! The console over HTTP on the in-memory engine: sign-in, sessions (stale and revoked ones
//! refused), CSRF on every form, the API's owner rules (another principal's run is 404),
//! escaping of hostile text, decisions with edited ideas (validated, audited with the
//! principal), operator scope, and the security headers.

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{send, sign_in};
use myloware::Engine;
use myloware::adapters::MemoryBackend;
use myloware::config::EngineConfig;
use myloware::domain::{ProjectName, RunId, RunStatus};
use myloware::engine::{Disposition, StartRequest};
use myloware::fakes::{CallbackMode, FakeSet};
use myloware::ports::{CallbackSink, Delivery, RunStore};
use myloware::time::{ManualClock, Timestamp};
use myloware::webhooks::WebhookSecret;
use myloware_console::Sessions;
use myloware_http::{ApiKeys, AppState, WebhookSecrets};
use tower::ServiceExt;

struct NoCallbacks;

#[async_trait]
impl CallbackSink for NoCallbacks {
    async fn deliver(&self, _: &Delivery) -> Result<u16, String> {
        Err("callbacks are not delivered in these tests".into())
    }
}

const TTL: Duration = Duration::from_secs(3600);
const HOSTILE: &str = "<script>alert('brief')</script> & \"quotes\"";

struct Rig {
    engine: Engine,
    backend: MemoryBackend,
    clock: ManualClock,
    sessions: Sessions,
}

impl Rig {
    fn new() -> Self {
        let backend = MemoryBackend::default();
        let clock = ManualClock::new(Timestamp(1_800_000_000_000));
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let remotion = WebhookSecret::parse("remotion-secret").unwrap();
        let fakes = FakeSet::new(
            secret,
            remotion,
            Arc::new(NoCallbacks),
            CallbackMode::Manual,
            Arc::new(clock.clone()),
        );
        let engine =
            backend.engine(fakes.providers(), Arc::new(clock.clone()), EngineConfig::default());
        Self { engine, backend, clock, sessions: Sessions::ephemeral(TTL) }
    }

    fn router(&self, keys: &[&str]) -> Router {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let verifiers = WebhookSecrets::single(secret.clone(), secret, 300);
        let state = AppState::new(self.engine.clone(), ApiKeys::new(keys), Arc::new(verifiers));
        myloware_console::router(state, self.sessions.clone())
    }

    /// A run of `owner` with a hostile brief, taken to the ideation gate.
    async fn run_at_gate(&self, owner: &str) -> RunId {
        let req = StartRequest {
            project: ProjectName::parse("aismr").unwrap(),
            brief: HOSTILE.into(),
            clips: Some(2),
            idempotency_key: None,
            request_id: None,
            caller: None,
            owner: Some(owner.into()),
        };
        let id = self.engine.start_run(req).await.unwrap().run.run_id;
        while let Some(m) = self.backend.queue.pop() {
            assert_eq!(self.engine.handle_message(&m, "t").await.unwrap(), Disposition::Ack);
        }
        assert_eq!(self.status(&id).await, RunStatus::AwaitingIdeationApproval);
        id
    }

    async fn status(&self, id: &RunId) -> RunStatus {
        self.backend.store.get_run(id).await.unwrap().unwrap().status
    }
}

const KEYS: &[&str] = &["alice-key@alice", "bob-key@bob", "ops-key:operator@ops"];

#[tokio::test]
async fn a_reviewer_sees_the_hostile_brief_as_text_and_approves_with_an_edit() {
    let rig = Rig::new();
    let router = rig.router(KEYS);
    let id = rig.run_at_gate("alice").await;
    let alice = sign_in(&router, "alice-key").await;

    let list = send(&router, "GET", "/console/runs", &alice, &[]).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains(&id.to_string()[..8]), "her run is listed");
    let page = send(&router, "GET", &format!("/console/runs/{id}"), &alice, &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("<script>alert"), "no hostile markup reaches the page");
    assert!(
        page.body.contains("&#60;script&#62;alert(&#39;brief&#39;)&#60;/script&#62;"),
        "shown as text"
    );
    let csp = page.headers.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers.get("cache-control").unwrap(), "no-store");
    let csrf = page.field("csrf");
    let approve = format!("/console/runs/{id}/approve");

    // No token, another session's token, and a token of hers for a form of invalid ideas.
    let refused = send(&router, "POST", &approve, &alice, &[("gate", "ideation")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let bob = sign_in(&router, "bob-key").await;
    let bobs = send(&router, "GET", "/console/runs", &bob, &[]).await.field("csrf");
    let forged =
        send(&router, "POST", &approve, &alice, &[("csrf", &bobs), ("gate", "ideation")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let one_prompt = [
        ("csrf", csrf.as_str()),
        ("gate", "ideation"),
        ("title", "t"),
        ("prompt_0", "only one"),
        ("caption", "c"),
    ];
    let invalid = send(&router, "POST", &approve, &alice, &one_prompt).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", invalid.body);
    assert!(
        invalid.body.contains("invalid_ideas") && invalid.body.contains("only one"),
        "why, and what was sent"
    );
    assert_eq!(rig.status(&id).await, RunStatus::AwaitingIdeationApproval, "nothing was done");

    let edited = [
        ("csrf", csrf.as_str()),
        ("gate", "ideation"),
        ("title", "A <b>new</b> title"),
        ("prompt_0", "a lighthouse at dusk"),
        ("overlay_0", "one"),
        ("prompt_1", "waves on rocks"),
        ("overlay_1", "two"),
        ("caption", "caption"),
        ("comment", "looks good"),
    ];
    let done = send(&router, "POST", &approve, &alice, &edited).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), format!("/console/runs/{id}"));
    let run = rig.backend.store.get_run(&id).await.unwrap().unwrap();
    assert_ne!(run.status, RunStatus::AwaitingIdeationApproval);
    let ideas = run.state.ideas.unwrap();
    assert_eq!(
        (ideas.title.as_str(), ideas.prompts[0].as_str()),
        ("A <b>new</b> title", "a lighthouse at dusk")
    );
    let audit = rig.backend.store.audit_log(&id).await.unwrap();
    let decision = audit.iter().find(|a| a.action.contains("approv")).expect("audited");
    assert!(decision.actor.starts_with("alice (key:"), "audited with the principal: {decision:?}");
    let after = send(&router, "GET", &format!("/console/runs/{id}"), &alice, &[]).await;
    assert!(after.body.contains("A &#60;b&#62;new&#60;/b&#62; title"), "the edit, escaped");
}

#[tokio::test]
async fn another_principals_run_is_not_found_anywhere() {
    let rig = Rig::new();
    let router = rig.router(KEYS);
    let id = rig.run_at_gate("alice").await;
    let bob = sign_in(&router, "bob-key").await;
    let csrf = send(&router, "GET", "/console/runs", &bob, &[]).await.field("csrf");
    let list = send(&router, "GET", "/console/runs", &bob, &[]).await;
    assert!(!list.body.contains(&id.to_string()[..8]), "not listed");
    for path in ["", "/version", "/events", "/media/final", "/media/clip/0"] {
        let a = send(&router, "GET", &format!("/console/runs/{id}{path}"), &bob, &[]).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "GET {path}");
    }
    for action in ["approve", "reject"] {
        let form = [("csrf", csrf.as_str()), ("gate", "ideation")];
        let a = send(&router, "POST", &format!("/console/runs/{id}/{action}"), &bob, &form).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "POST {action}");
    }
    assert_eq!(rig.status(&id).await, RunStatus::AwaitingIdeationApproval);
    let unknown = send(&router, "GET", &format!("/console/runs/{}", RunId::new()), &bob, &[]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "the same answer as an unknown run");
    // An operator sees every run.
    let ops = sign_in(&router, "ops-key").await;
    let seen = send(&router, "GET", &format!("/console/runs/{id}"), &ops, &[]).await;
    assert_eq!(seen.status, StatusCode::OK);
}

#[tokio::test]
async fn stale_revoked_and_missing_sessions_are_refused() {
    let rig = Rig::new();
    let router = rig.router(KEYS);
    let id = rig.run_at_gate("alice").await;
    let alice = sign_in(&router, "alice-key").await;
    let page = format!("/console/runs/{id}");
    let csrf = send(&router, "GET", &page, &alice, &[]).await.field("csrf");
    let form = [("csrf", csrf.as_str()), ("gate", "ideation")];
    let approve = format!("{page}/approve");

    // No session: a page asks to sign in (and comes back), a form is refused.
    let anon = send(&router, "GET", &page, "", &[]).await;
    assert_eq!(anon.status, StatusCode::SEE_OTHER);
    assert_eq!(anon.location(), format!("/console/login?next={page}"));
    assert_eq!(send(&router, "POST", &approve, "", &form).await.status, StatusCode::UNAUTHORIZED);
    // A tampered cookie.
    let tampered = alice.replacen("v1.", "v1.x", 1);
    assert_eq!(
        send(&router, "POST", &approve, &tampered, &form).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Its key removed: every session of it ends.
    let without = rig.router(&["bob-key@bob"]);
    assert_eq!(
        send(&without, "POST", &approve, &alice, &form).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Stale: past its lifetime.
    rig.clock.advance(TTL + Duration::from_secs(1));
    let stale = send(&router, "POST", &approve, &alice, &form).await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED);
    assert!(stale.body.contains("session has ended"), "{}", stale.body);
    assert_eq!(send(&router, "GET", &page, &alice, &[]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(rig.status(&id).await, RunStatus::AwaitingIdeationApproval, "nothing was done");
}

#[tokio::test]
async fn sign_in_is_bound_to_its_form_and_cookies_are_locked_down() {
    let rig = Rig::new();
    let router = rig.router(KEYS);
    let form = send(&router, "GET", "/console/login", "", &[]).await;
    let (login, csrf) = (form.cookie("mw_login").unwrap(), form.field("csrf"));
    // Without the form's cookie (a sign-in forged from another site) or with a wrong key.
    let forged =
        send(&router, "POST", "/console/login", "", &[("csrf", &csrf), ("api_key", "alice-key")])
            .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let wrong =
        send(&router, "POST", "/console/login", &login, &[("csrf", &csrf), ("api_key", "nope")])
            .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong.cookie("mw_session").is_none() && !wrong.body.contains("nope"),
        "the key is not echoed"
    );
    // `next` never leaves the console.
    let fields =
        [("csrf", csrf.as_str()), ("api_key", "alice-key"), ("next", "https://evil.example/")];
    let ok = send(&router, "POST", "/console/login", &login, &fields).await;
    assert_eq!((ok.status, ok.location()), (StatusCode::SEE_OTHER, "/console/runs"));
    let set = ok
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    let session = set.iter().find(|c| c.starts_with("mw_session=")).unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age=3600"] {
        assert!(session.contains(attr), "{attr}: {session}");
    }
    assert!(!session.contains("Secure"), "plain http on loopback");
    // Off loopback the cookie is Secure.
    let req = Request::get("/console/login")
        .header("host", "console.example.com")
        .body(Body::empty())
        .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let c = resp.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(c.ends_with("; Secure"), "{c}");
}

#[tokio::test]
async fn operations_need_the_operator_scope() {
    let rig = Rig::new();
    let router = rig.router(KEYS);
    let id = rig.run_at_gate("alice").await;
    let alice = sign_in(&router, "alice-key").await;
    assert_eq!(
        send(&router, "GET", "/console/ops", &alice, &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let csrf = send(&router, "GET", "/console/runs", &alice, &[]).await.field("csrf");
    let resume =
        send(&router, "POST", &format!("/console/runs/{id}/resume"), &alice, &[("csrf", &csrf)])
            .await;
    assert_eq!(resume.status, StatusCode::FORBIDDEN);
    let ops = sign_in(&router, "ops-key").await;
    let page = send(&router, "GET", "/console/ops", &ops, &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("admin scope"), "the DLQ is for admins");
    // Resuming a run that is not stalled is refused as the API refuses it; nothing changes.
    let csrf = page.field("csrf");
    let not_stalled =
        send(&router, "POST", &format!("/console/runs/{id}/resume"), &ops, &[("csrf", &csrf)])
            .await;
    assert_eq!(not_stalled.status, StatusCode::CONFLICT);
    assert_eq!(rig.status(&id).await, RunStatus::AwaitingIdeationApproval);
}
