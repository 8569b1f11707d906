//! Notifications: when a checkpoint enters a gate, `stalled`, `failed` or `completed`, every
//! configured endpoint is sent a signed event (Standard Webhooks: `webhook-id`,
//! `webhook-timestamp`, `webhook-signature`), at least once, without ever holding up the run.
//!
//! - **Emission.** What follows such a checkpoint includes one step-queue message per endpoint
//!   carrying the event ([`Notice`]), sent after the checkpoint like the next step's message.
//!   A crash before the send is repaired the same way: the redelivery of the message that wrote
//!   the version re-sends what followed it, notices included ([`NoticeKind::at_version`]). The
//!   event id is the run and the checkpoint's version, so every copy carries one `webhook-id`.
//! - **Delivery.** A notice message never touches the run record. The worker reads the run's
//!   delivery log; a delivery already settled (or a copy of an attempt already made) is acked
//!   without a request. Otherwise it POSTs once; 2xx settles it, anything else schedules the
//!   next attempt as a new message delayed by the backoff, until the attempts run out (`gave
//!   up`, logged). A failing endpoint costs the run nothing: the run's messages are others.
//! - **What can still repeat.** A crash between an endpoint's 2xx and the log write, or two
//!   copies delivered at the same instant, POST the same event twice under the same
//!   `webhook-id`: receivers deduplicate by it, as the Standard Webhooks spec asks.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tracing::{info, warn};

use super::{Disposition, Engine, EngineError, RetryPolicy};
use crate::domain::{
    DeliveryState, Notice, NoticeDelivery, NoticeKind, NoticeWrite, RunRecord, StepMessage,
};
use crate::ports::{NoticeSender, PostOutcome};
use crate::webhooks::{WebhookSecret, sign_standard};

/// How long a delivery owns the attempt it claimed: longer than any request may take
/// (`HttpNoticeSender` gives up after 5 s), shorter than the queue's visibility timeout.
pub const NOTICE_CLAIM: Duration = Duration::from_secs(30);

/// The longest delay a queue message can carry (SQS: 15 minutes).
pub const MAX_NOTICE_DELAY: Duration = Duration::from_secs(900);

/// What an endpoint is.
#[derive(Clone, PartialEq, Eq)]
pub enum Target {
    /// A Standard Webhooks receiver: the event, signed with our secret.
    Webhook,
    /// A Telegram chat: the event as a message, with decision buttons at a gate (`telegram.rs`).
    Telegram {
        /// The chat's id (or `@channel`).
        chat_id: String,
    },
}

/// A configured endpoint: a name (shown in the delivery log), where to POST, and what it is.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    name: String,
    url: String,
    target: Target,
}

/// Only the scheme and host: a Telegram endpoint's URL holds the bot token, and a webhook's
/// query string may hold one too.
impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let origin = url::Url::parse(&self.url).map(|u| u.origin().ascii_serialization());
        let kind = match self.target {
            Target::Webhook => "webhook",
            Target::Telegram { .. } => "telegram",
        };
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .field("kind", &kind)
            .field("origin", &origin.unwrap_or_default())
            .finish()
    }
}

/// `url`, if it is `https`, or `http` to a loopback host (local development); no credentials.
fn outbound_url(url: &str) -> Result<url::Url, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(format!("{url:?} has no host")),
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(format!("{url:?}: notifications go over https (http only to loopback)")),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("put no credentials in the URL; requests are signed".into());
    }
    Ok(parsed)
}

impl Endpoint {
    /// A webhook endpoint at `url` ([`outbound_url`]'s rules). `name` (letters, digits, `-`,
    /// `_`, `.`) defaults to the host.
    pub fn parse(name: Option<&str>, url: &str) -> Result<Self, String> {
        let parsed = outbound_url(url)?;
        let host = parsed.host_str().unwrap_or_default();
        let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        let name = match name {
            Some(n) => n.to_owned(),
            None => host
                .chars()
                .filter(|c| ok(*c) || *c == ':')
                .map(|c| if c == ':' { '-' } else { c })
                .collect(),
        };
        if name.is_empty() || name.len() > 64 || !name.chars().all(ok) {
            return Err(format!("{name:?}: an endpoint name is 1-64 of [A-Za-z0-9._-]"));
        }
        Ok(Self { name, url: parsed.into(), target: Target::Webhook })
    }

    /// The Telegram chat `chat_id`, messaged by the bot `token` through the Bot API at
    /// `api_base` (`https://api.telegram.org`); named `telegram`. The token goes only there.
    pub fn telegram(api_base: &str, token: &str, chat_id: &str) -> Result<Self, String> {
        let base = outbound_url(api_base)?;
        let (id, secret) = token.split_once(':').unwrap_or_default();
        let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_');
        if id.is_empty()
            || !id.bytes().all(|b| b.is_ascii_digit())
            || secret.is_empty()
            || !secret.chars().all(ok)
        {
            return Err("a bot token looks like 123456:ABC-DEF... (from @BotFather)".into());
        }
        let chat_ok = chat_id.parse::<i64>().is_ok()
            || chat_id.strip_prefix('@').is_some_and(|c| !c.is_empty() && c.chars().all(ok));
        if !chat_ok {
            return Err(format!("{chat_id:?}: a chat id is a number or an @channel name"));
        }
        let url = format!("{}/bot{token}/sendMessage", base.as_str().trim_end_matches('/'));
        let target = Target::Telegram { chat_id: chat_id.to_owned() };
        Ok(Self { name: "telegram".into(), url, target })
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What it is.
    pub fn target(&self) -> &Target {
        &self.target
    }
}

/// Where and how notifications go.
#[derive(Clone)]
pub struct Notifications {
    /// The endpoints; every event goes to each.
    pub endpoints: Vec<Endpoint>,
    /// Our signing secret (`whsec_…`), shared with the webhook endpoints (required with any).
    pub secret: Option<WebhookSecret>,
    /// Sends the requests.
    pub sender: Arc<dyn NoticeSender>,
    /// Attempts per event and endpoint, and the backoff between them (capped at
    /// [`MAX_NOTICE_DELAY`]).
    pub retry: RetryPolicy,
    /// Public base URL of the review console, for links in the events.
    pub console_url: Option<String>,
}

impl fmt::Debug for Notifications {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notifications")
            .field("endpoints", &self.endpoints.iter().map(Endpoint::name).collect::<Vec<_>>())
            .field("retry", &self.retry)
            .field("console_url", &self.console_url)
            .finish_non_exhaustive()
    }
}

impl Notifications {
    /// The default retry policy: 8 attempts, 5 s doubling to 15 minutes (about 40 minutes).
    pub const DEFAULT_RETRY: RetryPolicy =
        RetryPolicy { max_attempts: 8, base: Duration::from_secs(5), cap: MAX_NOTICE_DELAY };

    /// The delay before attempt `attempt + 1`: half the doubling ceiling plus a random half,
    /// so delays never shrink from one attempt to the next and endpoints hit by many runs at
    /// once are not hit in step.
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let ceiling = self.retry.ceiling(attempt).min(MAX_NOTICE_DELAY).as_millis() as u64;
        Duration::from_millis(ceiling / 2 + rand::rng().random_range(0..=ceiling / 2))
    }
}

impl Engine {
    /// The notice messages for the checkpoint `run` entering `kind` (none when notifications
    /// are off).
    pub(crate) fn notices(&self, run: &RunRecord, kind: Option<NoticeKind>) -> Vec<StepMessage> {
        let (Some(n), Some(kind)) = (self.notifications.as_deref(), kind) else { return vec![] };
        let body = Notice::payload(kind, run, n.console_url.as_deref());
        let event_id = Notice::event_id(&run.run_id, run.version);
        n.endpoints
            .iter()
            .map(|e| {
                let notice = Notice {
                    event_id: event_id.clone(),
                    kind,
                    endpoint: e.name.clone(),
                    body: body.clone(),
                    attempt: 1,
                };
                StepMessage::notice(run.run_id, run.version, notice)
            })
            .collect()
    }

    /// Send notice messages (after their checkpoint).
    pub(crate) async fn send_notices(&self, msgs: &[StepMessage]) -> Result<(), EngineError> {
        if !msgs.is_empty() {
            self.queue.send_batch(msgs, Duration::ZERO).await?;
        }
        Ok(())
    }

    /// A redelivery of the message that wrote `run`'s current version, on a run that stopped
    /// moving (ended or stalled): re-send the notices that followed that checkpoint.
    pub(crate) async fn repair_notices(
        &self,
        run: &RunRecord,
        msg: &StepMessage,
    ) -> Result<(), EngineError> {
        if msg.is(run.written_by.as_deref()) {
            self.send_notices(&self.notices(run, NoticeKind::at_version(run))).await?;
        }
        Ok(())
    }

    /// Deliver one notice to its endpoint (one attempt): claim the attempt in the log, POST,
    /// schedule the next attempt if this one failed, record how it went.
    pub(crate) async fn deliver_notice(
        &self,
        msg: &StepMessage,
        notice: &Notice,
    ) -> Result<Disposition, EngineError> {
        let now = self.clock.now();
        let mut row = match self.claimable(msg, notice, now).await? {
            Ok(row) => row,
            Err(busy) => return Ok(busy),
        };
        let n = self.notifications.as_deref();
        let Some((n, target)) =
            n.and_then(|n| Some((n, n.endpoints.iter().find(|e| e.name == notice.endpoint)?)))
        else {
            return self.drop_notice(row, "the endpoint is no longer configured").await;
        };
        if !self.store.put_notice_delivery(&row, NoticeWrite::Claim { now }).await? {
            return Ok(Disposition::Retry { after: Duration::from_secs(1) });
        }
        let Some((headers, body)) = request(n, target, notice, now) else {
            return self.drop_notice(row, "no signing secret is configured").await;
        };
        let (status, error) = match n.sender.post(&target.url, &headers, &body).await {
            PostOutcome::Answered(s) if (200..300).contains(&s) => (Some(s), None),
            PostOutcome::Answered(s) => (Some(s), Some(format!("HTTP {s}"))),
            PostOutcome::Unreachable(why) => (None, Some(why)),
        };
        (row.last_status, row.last_error) = (status, error);
        (row.claimed_until, row.updated_at) = (None, self.clock.now());
        self.settle_notice(n, msg, notice, row).await
    }

    /// The delivery row this attempt would write (`Sending`, claimed from `now`), or what to do
    /// with the message when the attempt is not to be made: it was settled, a later attempt is
    /// under way, or another copy holds the claim (then look again when the claim could lapse:
    /// its holder may have died; that copy stays queued until it settles, so this one can go
    /// otherwise).
    async fn claimable(
        &self,
        msg: &StepMessage,
        notice: &Notice,
        now: crate::time::Timestamp,
    ) -> Result<Result<NoticeDelivery, Disposition>, EngineError> {
        let log = self.store.notice_deliveries(&msg.run_id).await?;
        let old = log
            .into_iter()
            .find(|d| d.event_id == notice.event_id && d.endpoint == notice.endpoint);
        let mut row = old.clone().unwrap_or(NoticeDelivery {
            run_id: msg.run_id,
            event_id: notice.event_id.clone(),
            kind: notice.kind,
            endpoint: notice.endpoint.clone(),
            state: DeliveryState::Sending,
            attempts: notice.attempt,
            last_status: None,
            last_error: None,
            next_attempt_at: None,
            claimed_until: None,
            first_at: now,
            updated_at: now,
        });
        (row.state, row.attempts, row.updated_at) = (DeliveryState::Sending, notice.attempt, now);
        (row.next_attempt_at, row.claimed_until) = (None, Some(now.plus(NOTICE_CLAIM)));
        if (NoticeWrite::Claim { now }).allows(old.as_ref(), &row) {
            return Ok(Ok(row));
        }
        let (event_id, endpoint, attempt) = (&notice.event_id, &notice.endpoint, notice.attempt);
        info!(%event_id, %endpoint, attempt, "notice already handled or being sent");
        let held = old.as_ref().and_then(|r| {
            let this_attempt = r.state == DeliveryState::Sending && r.attempts == attempt;
            this_attempt.then_some(r.claimed_until?.since(now))
        });
        Ok(Err(match held {
            Some(left) => Disposition::Retry { after: left + Duration::from_millis(100) },
            None => Disposition::Ack,
        }))
    }

    /// Give a notice up without a request (`why`), in the log.
    async fn drop_notice(
        &self,
        mut row: NoticeDelivery,
        why: &str,
    ) -> Result<Disposition, EngineError> {
        warn!(endpoint = %row.endpoint, event_id = %row.event_id, why, "notice dropped");
        (row.state, row.claimed_until) = (DeliveryState::Dropped, None);
        row.last_error = Some(why.into());
        self.store.put_notice_delivery(&row, NoticeWrite::Settle).await?;
        Ok(Disposition::Ack)
    }

    /// Record how the attempt in `row` went (`last_error` says), scheduling the next one if it
    /// failed and attempts are left.
    async fn settle_notice(
        &self,
        n: &Notifications,
        msg: &StepMessage,
        notice: &Notice,
        mut row: NoticeDelivery,
    ) -> Result<Disposition, EngineError> {
        let (event_id, endpoint, attempt) = (&notice.event_id, &notice.endpoint, notice.attempt);
        let retry = row.last_error.is_some() && !n.retry.exhausted(attempt);
        row.state = match (&row.last_error, retry) {
            (None, _) => DeliveryState::Delivered,
            (Some(_), true) => DeliveryState::Retrying,
            (Some(_), false) => DeliveryState::GaveUp,
        };
        match &row.last_error {
            None => info!(%event_id, %endpoint, attempt, "notice delivered"),
            Some(why) if retry => {
                // The next attempt is sent before the log records this one: a crash in between
                // repeats this attempt rather than losing the chain.
                let after = n.delay_after(attempt);
                row.next_attempt_at = Some(row.updated_at.plus(after));
                warn!(%event_id, %endpoint, attempt, error = %why, retry_in_ms = after.as_millis() as u64, "notice not delivered; will retry");
                let again = Notice { attempt: attempt + 1, ..notice.clone() };
                let version = msg.version.unwrap_or_default();
                self.queue.send(&StepMessage::notice(msg.run_id, version, again), after).await?;
            }
            Some(why) => {
                warn!(%event_id, %endpoint, attempt, error = %why, "notice not delivered; gave up")
            }
        }
        self.store.put_notice_delivery(&row, NoticeWrite::Settle).await?;
        Ok(Disposition::Ack)
    }
}

/// The request of `notice` to `target`: a webhook's signed event (none without a secret: nothing
/// goes out unsigned), or a Telegram message.
fn request(
    n: &Notifications,
    target: &Endpoint,
    notice: &Notice,
    now: crate::time::Timestamp,
) -> Option<(Vec<(&'static str, String)>, String)> {
    match (&target.target, &n.secret) {
        (Target::Webhook, Some(secret)) => {
            let (id, ts) = (&notice.event_id, now.secs());
            let signature = sign_standard(secret, id, ts, notice.body.as_bytes());
            let headers = vec![
                ("webhook-id", id.clone()),
                ("webhook-timestamp", ts.to_string()),
                ("webhook-signature", signature),
            ];
            Some((headers, notice.body.clone()))
        }
        (Target::Webhook, None) => None,
        (Target::Telegram { chat_id }, _) => {
            Some((vec![], super::telegram::send_message(chat_id, &notice.body)))
        }
    }
}

impl Engine {
    /// A run's notification delivery log, oldest first.
    pub async fn notice_log(
        &self,
        run_id: &crate::domain::RunId,
    ) -> Result<Vec<NoticeDelivery>, EngineError> {
        Ok(self.store.notice_deliveries(run_id).await?)
    }
}
