//! The pages and what they show, built from the engine's records. Every string here is printed
//! by a template that escapes it: briefs, ideas and errors come from outside and are hostile.

use askama::Template;
use myloware::domain::{CheckpointEntry, NoticeDelivery, RunRecord, RunStatus, StepKind};
use myloware::time::Timestamp;
use myloware_http::Scope;

use crate::session::Session;

/// The header's sign-out form and who is signed in.
pub(crate) struct Nav {
    pub principal: String,
    pub fingerprint: String,
    pub scope: &'static str,
    pub operator: bool,
    pub csrf: String,
}

impl Nav {
    pub fn of(session: &Session, csrf: String) -> Self {
        Nav {
            principal: session.caller.principal.clone(),
            fingerprint: session.caller.fingerprint.clone(),
            scope: session.caller.scope.name(),
            operator: session.caller.scope >= Scope::Operator,
            csrf,
        }
    }
}

/// A message after an action, or why it was refused.
pub(crate) struct Flash {
    pub kind: &'static str,
    pub text: String,
}

impl Flash {
    pub fn error(text: impl Into<String>) -> Self {
        Flash { kind: "error", text: text.into() }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    pub nav: Option<Nav>,
    pub csrf: String,
    pub next: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct MessagePage {
    pub nav: Option<Nav>,
    pub heading: String,
    pub detail: String,
    pub link: String,
    pub link_text: String,
}

/// A run in a list.
pub(crate) struct RunRow {
    pub id: String,
    pub short_id: String,
    pub project: String,
    pub status: &'static str,
    pub step: &'static str,
    pub age: String,
    pub updated: String,
    pub waiting: bool,
}

impl RunRow {
    pub fn of(r: &RunRecord, now: Timestamp) -> Self {
        RunRow {
            id: r.run_id.to_string(),
            short_id: short(&r.run_id.to_string()),
            project: r.project.as_str().to_owned(),
            status: r.status.as_str(),
            step: r.step.as_str(),
            age: age(now, r.created_at),
            updated: r.updated_at.rfc3339(),
            waiting: matches!(r.step.kind(), StepKind::Gate(_)) && !r.status.is_terminal(),
        }
    }
}

#[derive(Template)]
#[template(path = "runs.html")]
pub(crate) struct RunsPage {
    pub nav: Option<Nav>,
    pub filter: Option<String>,
    pub statuses: Vec<&'static str>,
    pub rows: Vec<RunRow>,
}

/// One clip's idea, as shown and as edited.
pub(crate) struct IdeaClip {
    pub index: usize,
    pub number: usize,
    pub prompt: String,
    pub overlay: String,
}

/// The ideas, as shown and as edited.
pub(crate) struct IdeasView {
    pub title: String,
    pub caption: String,
    pub clips: Vec<IdeaClip>,
}

impl IdeasView {
    pub fn of(i: &myloware::domain::Ideas) -> Self {
        IdeasView {
            title: i.title.clone(),
            caption: i.caption.clone(),
            clips: i
                .prompts
                .iter()
                .enumerate()
                .map(|(n, p)| IdeaClip {
                    index: n,
                    number: n + 1,
                    prompt: p.clone(),
                    overlay: i.overlays.get(n).cloned().unwrap_or_default(),
                })
                .collect(),
        }
    }

    /// As the API takes an edit (`{title, prompts, caption, overlays}`).
    pub fn to_json(&self) -> serde_json::Value {
        let prompts: Vec<&str> = self.clips.iter().map(|c| c.prompt.as_str()).collect();
        let overlays: Vec<&str> = self.clips.iter().map(|c| c.overlay.as_str()).collect();
        let any_overlay = overlays.iter().any(|o| !o.is_empty());
        let mut v = serde_json::json!({
            "title": self.title, "prompts": prompts, "caption": self.caption,
        });
        if any_overlay {
            v["overlays"] = overlays.into();
        }
        v
    }
}

pub(crate) struct ErrorView {
    pub code: String,
    pub message: String,
    pub step: &'static str,
    pub attempts: Option<u32>,
}

pub(crate) struct ClipRow {
    pub index: u32,
    pub number: u32,
    pub job_id: String,
    pub stored: bool,
}

pub(crate) struct JobRow {
    pub what: String,
    pub id: String,
}

pub(crate) struct DecisionRow {
    pub at: String,
    pub gate: &'static str,
    pub decision: &'static str,
    pub comment: Option<String>,
    pub edited: bool,
}

pub(crate) struct TimelineRow {
    pub version: u64,
    pub step: &'static str,
    pub status: &'static str,
    pub at: String,
    pub error: String,
}

pub(crate) struct NoticeRow {
    pub kind: &'static str,
    pub endpoint: String,
    pub state: &'static str,
    pub attempts: u32,
    pub last: String,
}

/// Everything the run page shows of a run.
pub(crate) struct RunView {
    pub id: String,
    pub short_id: String,
    pub project: String,
    pub status: &'static str,
    pub step: &'static str,
    pub version: u64,
    pub created: String,
    pub updated: String,
    pub age: String,
    pub owner: Option<String>,
    pub brief: String,
    pub gate: Option<String>,
    pub ideas: Option<IdeasView>,
    pub edited: bool,
    pub error: Option<ErrorView>,
    pub clips: Vec<ClipRow>,
    pub final_video: bool,
    pub published_url: Option<String>,
    pub jobs: Vec<JobRow>,
    pub decisions: Vec<DecisionRow>,
    pub timeline: Vec<TimelineRow>,
    pub notices: Vec<NoticeRow>,
    pub can_resume: bool,
    pub live: bool,
}

impl RunView {
    pub fn of(
        r: &RunRecord,
        history: &[CheckpointEntry],
        notices: &[NoticeDelivery],
        operator: bool,
        now: Timestamp,
    ) -> Self {
        let gate = match (r.step.kind(), r.status) {
            (StepKind::Gate(g), s) if s == g.waiting_status() => Some(g.as_str().to_owned()),
            _ => None,
        };
        let mut jobs: Vec<JobRow> = r
            .state
            .clips
            .iter()
            .map(|c| JobRow {
                what: format!("video, clip {}", c.index + 1),
                id: c.job_id.to_string(),
            })
            .collect();
        if let Some(j) = &r.state.render_job {
            jobs.push(JobRow { what: "render".into(), id: j.to_string() });
        }
        RunView {
            id: r.run_id.to_string(),
            short_id: short(&r.run_id.to_string()),
            project: r.project.as_str().to_owned(),
            status: r.status.as_str(),
            step: r.step.as_str(),
            version: r.version,
            created: r.created_at.rfc3339(),
            updated: r.updated_at.rfc3339(),
            age: age(now, r.created_at),
            owner: r.owner.clone(),
            brief: r.brief.clone(),
            gate,
            ideas: r.state.ideas.as_ref().map(IdeasView::of),
            edited: r.state.decisions.iter().any(|d| d.original_ideas.is_some()),
            error: r.error.as_ref().map(|e| ErrorView {
                code: e.code.clone(),
                message: e.message.clone(),
                step: e.step.as_str(),
                attempts: e.attempts,
            }),
            clips: r
                .state
                .clips
                .iter()
                .map(|c| ClipRow {
                    index: c.index,
                    number: c.index + 1,
                    job_id: c.job_id.to_string(),
                    stored: c.blob_key.is_some(),
                })
                .collect(),
            final_video: r.state.final_video_key.is_some(),
            // Only a web address becomes a link (a `javascript:` URL would run on click).
            published_url: r
                .state
                .published_url
                .clone()
                .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
            jobs,
            decisions: r
                .state
                .decisions
                .iter()
                .map(|d| DecisionRow {
                    at: d.at.rfc3339(),
                    gate: d.gate.as_str(),
                    decision: d.decision.as_str(),
                    comment: d.comment.clone(),
                    edited: d.original_ideas.is_some(),
                })
                .collect(),
            timeline: history
                .iter()
                .map(|c| TimelineRow {
                    version: c.version,
                    step: c.step.as_str(),
                    status: c.status.as_str(),
                    at: c.at.rfc3339(),
                    error: c
                        .error
                        .as_ref()
                        .map(|e| format!("{}: {}", e.code, e.message))
                        .unwrap_or_default(),
                })
                .collect(),
            notices: notices
                .iter()
                .map(|n| NoticeRow {
                    kind: n.kind.as_str(),
                    endpoint: n.endpoint.clone(),
                    state: n.state.as_str(),
                    attempts: n.attempts,
                    last: match (n.last_status, &n.last_error) {
                        (Some(s), _) => format!("HTTP {s}"),
                        (None, Some(e)) => e.clone(),
                        (None, None) => String::new(),
                    },
                })
                .collect(),
            can_resume: operator && matches!(r.status, RunStatus::Stalled | RunStatus::Failed),
            live: !r.status.is_terminal(),
        }
    }
}

#[derive(Template)]
#[template(path = "run.html")]
pub(crate) struct RunPage {
    pub nav: Option<Nav>,
    pub r: RunView,
    /// The ideas form's values (the run's, or what was submitted when it was refused).
    pub ideas_form: Option<IdeasView>,
    pub csrf: String,
    pub flash: Option<Flash>,
}

/// A stalled or failed run on the operations page.
pub(crate) struct ProblemRow {
    pub id: String,
    pub short_id: String,
    pub project: String,
    pub status: &'static str,
    pub step: &'static str,
    pub error: String,
    pub age: String,
}

/// A dead letter on the operations page.
pub(crate) struct DlqRow {
    pub message_id: String,
    pub run_id: Option<String>,
    pub step: String,
    pub status: String,
    pub error: String,
    pub age: String,
}

#[derive(Template)]
#[template(path = "ops.html")]
pub(crate) struct OpsPage {
    pub nav: Option<Nav>,
    pub csrf: String,
    pub flash: Option<Flash>,
    pub problems: Vec<ProblemRow>,
    pub dlq: Vec<DlqRow>,
    pub dlq_note: Option<String>,
}

/// The first eight characters of an id.
pub(crate) fn short(id: &str) -> String {
    id.chars().take(8).collect()
}

/// How long ago `then` was, roughly (`3m`, `2h`, `5d`).
pub(crate) fn age(now: Timestamp, then: Timestamp) -> String {
    let s = now.since(then).as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}
