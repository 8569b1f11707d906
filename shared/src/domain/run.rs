//! The run record (the one source of truth per run), its checkpoint history and audit entries, and
//! the rendezvous records that meet provider callbacks with waits.

use serde::{Deserialize, Serialize};

use super::{Decision, Gate, IdempotencyKey, JobId, ProjectName, Provider, RunId, RunStatus, Step};
use crate::time::Timestamp;

/// A run: status, current step, workflow state, version and open wait. Every change is a
/// conditional write on `version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run's id.
    pub run_id: RunId,
    /// Project (workflow) name.
    pub project: ProjectName,
    /// The creative brief.
    pub brief: String,
    /// How many clips production submits.
    pub clip_count: u32,
    /// Status for readers.
    pub status: RunStatus,
    /// The step the run is at.
    pub step: Step,
    /// Monotonic version; bumped by every checkpoint.
    pub version: u64,
    /// What the steps produced so far.
    pub state: WorkflowState,
    /// The wait the run is parked on, if any.
    pub open_wait: Option<OpenWait>,
    /// Why the run failed, if it did.
    pub error: Option<RunError>,
    /// The start request's idempotency key, if the client sent one.
    pub start_key: Option<IdempotencyKey>,
    /// The principal that started it (`None` for runs from before owners, and runs started
    /// without the API): a plain API key sees and acts only on its principal's runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// A digest of the start request (project, brief, clips), so a reused idempotency key
    /// with another request is told apart from a retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_hash: Option<String>,
    /// When the run was created.
    pub created_at: Timestamp,
    /// When the run was last checkpointed.
    pub updated_at: Timestamp,
    /// The id of the step message whose delivery wrote this checkpoint (`None` for API and
    /// operator writes). Its redelivery re-sends the next message at once: the send that should
    /// have followed this checkpoint may have failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_by: Option<String>,
    // Control attributes: stored beside the body (top-level attributes, columns), changed by
    // single conditional writes without a checkpoint, never part of the checkpointed body.
    /// The lease held by an executing step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<Lease>,
    /// Executions of the active step started at this version (leases taken), crashed ones
    /// included: when it passes the step's attempt limit the run stalls.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempts: u32,
    /// The wait timer's chain position at this version (see `engine/timers.rs`).
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub timer_seq: u64,
    /// The id of the timer link (or wait check) whose delivery last moved `timer_seq` without
    /// a checkpoint. Its redelivery re-sends the link that should have followed: that send may
    /// have failed, and every other copy of the chain is dropped by now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timer_by: Option<String>,
    /// When the sweeper should look at the run if nothing moved it by then; `None` for runs
    /// that ended or stalled (they are not swept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<Timestamp>,
}

impl RunRecord {
    /// The generation of the current step (see [`WorkflowState::step_generation`]).
    pub fn generation(&self) -> u64 {
        self.state.step_generation.unwrap_or(self.version)
    }

    /// Record that `self` (already at its new version) entered its step now, if the step changed.
    pub fn note_step_entry(&mut self, previous: Step) {
        if self.step != previous {
            self.state.step_generation = Some(self.version);
        }
    }

    /// The record as stored in a checkpoint body: without the control attributes.
    pub fn body(&self) -> RunRecord {
        let mut body = self.clone();
        body.clear_control();
        body
    }

    /// Reset the control attributes (lease, attempts, timer chain, due time), as a new version
    /// starts with them and a checkpoint body stores them.
    pub fn clear_control(&mut self) {
        self.lease = None;
        self.attempts = 0;
        self.timer_seq = 0;
        self.timer_by = None;
        self.due_at = None;
    }

    /// Whether `viewer` may see and act on this run: its owner, an operator or admin, or anyone
    /// for a run without an owner.
    pub fn visible_to(&self, viewer: &Viewer) -> bool {
        viewer.all || self.owner.as_ref().is_none_or(|o| *o == viewer.principal)
    }

    /// A new run at version 1, pending at ideation.
    pub fn new(
        project: ProjectName,
        brief: String,
        clip_count: u32,
        start_key: Option<IdempotencyKey>,
        now: Timestamp,
    ) -> Self {
        Self {
            run_id: RunId::new(),
            project,
            brief,
            clip_count,
            status: RunStatus::Pending,
            step: Step::Ideation,
            version: 1,
            state: WorkflowState::default(),
            open_wait: None,
            error: None,
            start_key,
            owner: None,
            start_hash: None,
            created_at: now,
            updated_at: now,
            written_by: None,
            lease: None,
            attempts: 0,
            timer_seq: 0,
            timer_by: None,
            due_at: None,
        }
    }
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

/// Who is looking at runs: a principal, and whether it may see every principal's runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// The principal.
    pub principal: String,
    /// Operators and admins see every run.
    pub all: bool,
}

/// A step's exclusive right to do side effects at one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// Who holds it (one invocation).
    pub owner: String,
    /// When it lapses.
    pub until: Timestamp,
}

/// Why a run failed: a stable code and the human reason (the provider's, where it came from one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunError {
    /// Stable machine-readable code.
    pub code: String,
    /// Human-readable reason.
    pub message: String,
    /// The step that failed.
    pub step: Step,
    /// Deliveries tried before the run stalled (retries exhausted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
}

/// Longest human reason kept on a run (provider and LLM text is outside text: bounded).
pub const MAX_REASON_CHARS: usize = 2000;

/// `text` cut to `max` characters (an ellipsis marks the cut).
pub fn bounded(text: impl Into<String>, max: usize) -> String {
    let text = text.into();
    match text.char_indices().nth(max) {
        None => text,
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

impl RunError {
    /// An error of `step` with a stable code and a human reason (bounded).
    pub fn new(step: Step, code: impl Into<String>, message: impl Into<String>) -> Self {
        let message = bounded(message, MAX_REASON_CHARS);
        Self { code: code.into(), message, step, attempts: None }
    }
}

/// The ideator's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ideas {
    /// A title for the video.
    pub title: String,
    /// One visual prompt per clip.
    pub prompts: Vec<String>,
    /// The publish caption.
    pub caption: String,
    /// One short on-screen text per clip (the render's `texts`/`objects`), or none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overlays: Vec<String>,
}

/// Longest title kept from the LLM (its output is outside text and lives in the run record:
/// bounded, so the record stays far below the store's item limit).
pub const MAX_TITLE_CHARS: usize = 300;
/// Longest clip prompt; video providers take prompts of a few thousand characters.
pub const MAX_PROMPT_CHARS: usize = 4000;
/// Longest caption (TikTok's limit).
pub const MAX_CAPTION_CHARS: usize = 2200;
/// Longest per-clip overlay text (a few words on screen).
pub const MAX_OVERLAY_CHARS: usize = 120;

impl Ideas {
    /// Whether these ideas can be used for a run of `clips` clips: one non-empty prompt per
    /// clip, a title, and every text within its bound. The message says what is wrong.
    pub fn check(&self, clips: u32) -> Result<(), String> {
        if self.prompts.len() != clips as usize {
            return Err(format!("expected {clips} prompts, got {}", self.prompts.len()));
        }
        let bounded = |what: &str, text: &str, max: usize| {
            let n = text.chars().count();
            if text.trim().is_empty() {
                Err(format!("{what} is empty"))
            } else if n > max {
                Err(format!("{what} has {n} characters (at most {max})"))
            } else {
                Ok(())
            }
        };
        bounded("the title", &self.title, MAX_TITLE_CHARS)?;
        bounded("the caption", &self.caption, MAX_CAPTION_CHARS)?;
        for (i, p) in self.prompts.iter().enumerate() {
            bounded(&format!("prompt {}", i + 1), p, MAX_PROMPT_CHARS)?;
        }
        if !self.overlays.is_empty() && self.overlays.len() != clips as usize {
            return Err(format!("expected {clips} overlays or none, got {}", self.overlays.len()));
        }
        for (i, o) in self.overlays.iter().enumerate() {
            bounded(&format!("overlay {}", i + 1), o, MAX_OVERLAY_CHARS)?;
        }
        Ok(())
    }
}

/// One produced clip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClipRef {
    /// Position in the final video.
    pub index: u32,
    /// The provider job that made it.
    pub job_id: JobId,
    /// Where the clip is stored once fetched (blob key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob_key: Option<String>,
    /// Where the provider said the finished video is (its callback or status), until stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_url: Option<String>,
}

/// A recorded human decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateDecision {
    /// Which gate.
    pub gate: Gate,
    /// The verdict.
    pub decision: Decision,
    /// Optional comment.
    pub comment: Option<String>,
    /// When it was taken.
    pub at: Timestamp,
    /// The ideas as the LLM wrote them, when the approval replaced them with an edit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_ideas: Option<Ideas>,
}

#[cfg(test)]
mod caption_tests {
    use super::PublishSpec;

    #[test]
    fn captions_keep_each_platforms_limit() {
        let spec = PublishSpec {
            platforms: vec!["tiktok".into(), "x".into()],
            user: None,
            hashtags: vec!["#asmr".into(), "#zodiac".into()],
            caption_max_chars: [("x".to_owned(), 18)].into(),
        };
        let c = spec.captions("Calm glass");
        assert_eq!(c["tiktok"], "Calm glass #asmr #zodiac");
        assert_eq!(c["x"], "Calm glass #asmr", "the hashtag that does not fit is left out");
        let c = spec.captions("A caption far longer than eighteen");
        assert_eq!(c["x"].chars().count(), 18);
        assert!(c["x"].ends_with('…'), "{}", c["x"]);
        assert_eq!(spec.captions("Already #asmr")["tiktok"], "Already #asmr #zodiac");
    }
}

/// What a run was started with from its project file: kept in the run, so a changed project
/// never changes a run already started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSpec {
    /// The project file's version (a digest of it).
    pub version: String,
    /// Seconds per clip asked of the video provider.
    pub seconds: u32,
    /// The final video's width in pixels.
    pub width: u32,
    /// Its height.
    pub height: u32,
    /// The render template.
    pub template: String,
    /// The composition's length in seconds.
    pub duration_seconds: u32,
    /// How the ideator writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ideation: Option<IdeationGuide>,
    /// Where and as whom the video is published (the configured targets when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<PublishSpec>,
    /// How the template draws the overlays (by template for runs from before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlay_style: Option<OverlayStyle>,
    /// The video API the project needs (any when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_provider: Option<Provider>,
    /// The project's video model on it (the configured one when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_model: Option<VideoModel>,
}

/// How a template draws the per-clip overlays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverlayStyle {
    /// A short label per clip, in the lower third (the render service's `objects`: AISMR's
    /// "Sign: object").
    Label,
    /// Lines of text, centred (the render service's `texts`).
    Lines,
}

/// A project's video model, for whichever video API is configured: the model's name there and,
/// for Replicate, how its input is filled (the shipped model table's when absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoModel {
    /// The model (`owner/name` on Replicate, a Veo model id on Gemini, a gateway's slug).
    pub model: String,
    /// Replicate's input template (`{prompt}`, `{seconds}`, `{index}` filled in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<serde_json::Map<String, serde_json::Value>>,
}

impl RunSpec {
    /// The final video's aspect ratio in lowest terms (`9:16` for 1080x1920).
    pub fn aspect_ratio(&self) -> String {
        fn gcd(a: u32, b: u32) -> u32 {
            if b == 0 { a.max(1) } else { gcd(b, a % b) }
        }
        let g = gcd(self.width, self.height);
        format!("{}:{}", self.width / g, self.height / g)
    }
}

/// A project's publish targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishSpec {
    /// Platforms to post to (`tiktok`, `instagram`, …).
    pub platforms: Vec<String>,
    /// The profile to post as, when not the configured one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Hashtags added to the caption.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hashtags: Vec<String>,
    /// The longest caption per platform.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub caption_max_chars: std::collections::BTreeMap<String, u32>,
}

impl PublishSpec {
    /// The caption for each platform: `caption` and the hashtags, within the platform's limit
    /// (hashtags dropped from the end first, then the text cut with an ellipsis).
    pub fn captions(&self, caption: &str) -> std::collections::BTreeMap<String, String> {
        self.platforms
            .iter()
            .map(|p| {
                let max = self.caption_max_chars.get(p).map_or(MAX_CAPTION_CHARS, |m| *m as usize);
                (p.clone(), fit_caption(caption, &self.hashtags, max))
            })
            .collect()
    }
}

/// `caption` followed by as many of `hashtags` as fit in `max` characters.
fn fit_caption(caption: &str, hashtags: &[String], max: usize) -> String {
    let caption = caption.trim();
    let len = |s: &str| s.chars().count();
    if len(caption) > max {
        let cut: String = caption.chars().take(max.saturating_sub(1)).collect();
        return format!("{}…", cut.trim_end());
    }
    let mut out = caption.to_owned();
    for tag in hashtags {
        let sep = if out.is_empty() { "" } else { " " };
        if out.split_whitespace().any(|w| w.eq_ignore_ascii_case(tag)) {
            continue;
        }
        if len(&out) + sep.len() + len(tag) > max {
            break;
        }
        out.push_str(sep);
        out.push_str(tag);
    }
    out
}

/// How a project's ideator writes: given to the LLM with the brief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdeationGuide {
    /// Who writes.
    pub persona: String,
    /// The system prompt.
    pub system_prompt: String,
    /// The model, when not the configured one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Extra rules the ideas must keep.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// The JSON Schema of the ideas (the default ideas schema when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<serde_json::Value>,
    /// Terms no idea may contain (lower case).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_terms: Vec<String>,
}

/// Everything the steps produced: small by design (large artifacts live in the blob store).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowState {
    /// The project's settings the run started with (absent in records from before projects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<RunSpec>,
    /// Ideation output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ideas: Option<Ideas>,
    /// Submitted / fetched clips, by index.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clips: Vec<ClipRef>,
    /// The provider that made the clips (absent in records from before there were several:
    /// those were made by an OpenAI-compatible API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_provider: Option<Provider>,
    /// The render job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub render_job: Option<JobId>,
    /// Blob key of the rendered video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_video_key: Option<String>,
    /// Where the video was published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_url: Option<String>,
    /// Gate decisions so far.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decisions: Vec<GateDecision>,
    /// For a fork parked at a gate its source had already passed: the step the approval leads
    /// to (the fork's own starting step) instead of the gate's usual next step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_at: Option<Step>,
    /// The version at which the run entered its current step. Paid-call intents and wait
    /// generations are keyed by it, so a retried, redelivered or resumed step reuses the jobs it
    /// already paid for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_generation: Option<u64>,
    /// The no-op workflow's progress (runs of the video workflow have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noop: Option<NoopProgress>,
}

/// How far a run of the no-op workflow is: `done` of `steps` durable steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoopProgress {
    /// Steps checkpointed so far.
    pub done: u32,
    /// Steps the run takes.
    pub steps: u32,
}

/// What an open wait is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitKind {
    /// The video provider's jobs (its callbacks, or polls).
    Videos,
    /// The render callback (`remotion_webhook`).
    Render,
    /// The publication, processed in the background by the publisher and polled.
    Publish,
    /// A human gate (`hitl_<gate>`).
    Gate(Gate),
}

/// One job a callback wait expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedJob {
    /// The provider job.
    pub job_id: JobId,
    /// Its clip index (0 for a render).
    pub index: u32,
}

/// The wait a run is parked on. `generation` scopes correlations: a callback for a job of an
/// older generation does not complete this wait.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenWait {
    /// What it waits for.
    pub kind: WaitKind,
    /// The generation (the run version at which the jobs were submitted).
    pub generation: u64,
    /// The provider whose callbacks complete it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<Provider>,
    /// The distinct jobs that must all arrive (set-based fan-in).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jobs: Vec<ExpectedJob>,
    /// When the wait opened.
    pub since: Timestamp,
    /// When the wait gives up (the run fails with `wait_timeout`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Timestamp>,
    /// Status polls made so far (callback waits only).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub polls: u32,
    /// When the provider was last polled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_poll_at: Option<Timestamp>,
    /// No callback is expected (the provider does not call back): polled from the start.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub polled: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl OpenWait {
    /// A wait opened at `since` that gives up after `limit`.
    pub fn new(
        kind: WaitKind,
        generation: u64,
        provider: Option<Provider>,
        jobs: Vec<ExpectedJob>,
        since: Timestamp,
        limit: std::time::Duration,
    ) -> Self {
        Self {
            kind,
            generation,
            provider,
            jobs,
            since,
            deadline: Some(since.plus(limit)),
            polls: 0,
            last_poll_at: None,
            polled: false,
        }
    }
}

/// One entry of a run's checkpoint history (one per version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointEntry {
    /// The version this checkpoint created.
    pub version: u64,
    /// Step after the checkpoint.
    pub step: Step,
    /// Status after the checkpoint.
    pub status: RunStatus,
    /// When it was written.
    pub at: Timestamp,
    /// Error, if the checkpoint failed the run.
    pub error: Option<RunError>,
    /// The full record as of this version (for history and fork); absent for a wait's tick
    /// (same step and status as the version before), which would only copy the state again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<RunRecord>,
}

impl CheckpointEntry {
    /// The history entry of `run` (already at its new version); `tick` leaves out the snapshot.
    pub fn of(run: &RunRecord, tick: bool) -> Self {
        Self {
            version: run.version,
            step: run.step,
            status: run.status,
            at: run.updated_at,
            error: run.error.clone(),
            snapshot: (!tick).then(|| run.body()),
        }
    }
}

/// An audited action on a run (gate decisions, operator actions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The run.
    pub run_id: RunId,
    /// What happened (`gate_approved`, `gate_rejected`, …).
    pub action: String,
    /// Who did it (an API key's fingerprint, `system`, …).
    pub actor: String,
    /// Free-form detail.
    pub detail: serde_json::Value,
    /// When.
    pub at: Timestamp,
}

/// The link from a provider job to the run and wait generation that submitted it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correlation {
    /// The run.
    pub run_id: RunId,
    /// The wait generation the job belongs to.
    pub generation: u64,
    /// The clip index.
    pub index: u32,
}

/// What a callback reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ArrivalOutcome {
    /// The job finished; the output may be fetched (`output_url` when the provider gave one).
    Completed {
        /// Where the output is, if the callback said.
        output_url: Option<String>,
    },
    /// The job failed at the provider.
    Failed {
        /// The provider's reason.
        reason: String,
    },
}

impl ArrivalOutcome {
    /// A failure with the provider's reason, bounded (it is outside text and lands in records).
    pub fn failed(reason: impl Into<String>) -> Self {
        ArrivalOutcome::Failed { reason: bounded(reason, MAX_REASON_CHARS) }
    }
}

/// Longest output URL a provider may report (longer ones are refused as malformed).
pub const MAX_URL_CHARS: usize = 2048;

/// A recorded callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arrival {
    /// What it reported.
    pub outcome: ArrivalOutcome,
    /// The provider's event / delivery id.
    pub event_id: String,
    /// When we accepted it.
    pub received_at: Timestamp,
}

/// The rendezvous record for one provider job: written by the step (correlation) and by the
/// webhook (arrival), in either order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrelationRecord {
    /// Provider.
    pub provider: Provider,
    /// Job.
    pub job_id: JobId,
    /// Set once the submitting step recorded the job.
    pub correlation: Option<Correlation>,
    /// Set once the callback arrived.
    pub arrival: Option<Arrival>,
}

/// A person's rating of a run: one per caller per run, updated in place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    /// The run.
    pub run_id: RunId,
    /// Who rated it (the API key's fingerprint).
    pub caller: String,
    /// 1 (poor) to 5 (excellent).
    pub rating: u8,
    /// Why, at most [`MAX_FEEDBACK_CHARS`] characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// First given.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// Longest feedback comment.
pub const MAX_FEEDBACK_CHARS: usize = 2000;

/// A content-safety verdict remembered for a run, keyed by the SHA-256 of the checked text, so
/// a replayed or resumed step does not ask the checker again. Errors are never remembered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetyRecord {
    /// Whether the text may be used.
    pub safe: bool,
    /// Why it was blocked.
    pub reason: Option<String>,
}
