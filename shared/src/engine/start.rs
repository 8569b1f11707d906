//! Starting a run: validate, answer a retry of an earlier start (its idempotency key, scoped to
//! the principal, with the same request) before any guard, pass the guards, create at version 1
//! (claiming the key), enqueue.

use sha2::{Digest, Sha256};
use tracing::info;

use super::{Engine, EngineError};
use crate::domain::{
    IdempotencyKey, NoopProgress, ProjectName, RunId, RunRecord, RunStatus, Step, StepMessage,
};
use crate::ports::CreateOutcome;

/// Longest accepted brief, as in the original.
pub const MAX_BRIEF_CHARS: usize = 10_000;

/// A parsed start request.
#[derive(Debug, Clone)]
pub struct StartRequest {
    /// Project (workflow) name.
    pub project: ProjectName,
    /// The brief.
    pub brief: String,
    /// Clips to produce, or the configured default.
    pub clips: Option<u32>,
    /// Makes a retried start return the same run.
    pub idempotency_key: Option<IdempotencyKey>,
    /// The HTTP request that asked.
    pub request_id: Option<String>,
    /// Who asked (an API key fingerprint), for the per-caller rate limit.
    pub caller: Option<String>,
    /// The principal the run will belong to; idempotency keys are scoped to it.
    pub owner: Option<String>,
}

/// `key` as stored: scoped to `owner` (one principal's key never finds another's run).
fn scoped_key(owner: Option<&str>, key: IdempotencyKey) -> IdempotencyKey {
    match owner {
        None => key,
        Some(o) => {
            let digest = Sha256::digest(format!("{o}\n{}", key.as_str()).as_bytes());
            IdempotencyKey::parse(&format!("p-{}", hex::encode(digest))).expect("hex is a key")
        }
    }
}

/// A digest of what a start asks for: a retry asks for the same, a reused key for another.
fn request_hash(project: &ProjectName, brief: &str, clips: Option<u32>) -> String {
    let canonical =
        serde_json::json!({ "project": project.as_str(), "brief": brief, "clips": clips });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// The result of a start.
#[derive(Debug, Clone)]
pub struct StartOutcome {
    /// The run (new, or the one the idempotency key created before).
    pub run: RunRecord,
    /// True when the key was seen before and no new run was created.
    pub replayed: bool,
}

impl Engine {
    /// Create a run and enqueue its first step.
    pub async fn start_run(&self, req: StartRequest) -> Result<StartOutcome, EngineError> {
        let brief = req.brief.trim();
        if brief.is_empty() {
            return Err(EngineError::invalid("invalid_brief", "brief must not be empty"));
        }
        if brief.chars().count() > MAX_BRIEF_CHARS {
            return Err(EngineError::invalid(
                "invalid_brief",
                format!("brief is longer than {MAX_BRIEF_CHARS} characters"),
            ));
        }
        // The project file says what goes into the video; the run keeps it (its spec).
        let Some(project) = self.config.projects.get(req.project.as_str()) else {
            return Err(EngineError::invalid(
                "unknown_project",
                format!("no project {:?} (myloware projects list)", req.project.as_str()),
            ));
        };
        let spec = project.project.spec(&project.version);
        let configured = self.providers.video.provider();
        if let Some(wanted) = spec.video_provider.filter(|p| *p != configured) {
            return Err(EngineError::invalid(
                "project_needs_another_video_api",
                format!(
                    "project {:?} makes its clips with {wanted} (video.provider), but this \
                     deployment's video API is {configured} (MYLOWARE_VIDEO_ADAPTER)",
                    req.project.as_str()
                ),
            ));
        }
        let clips = req
            .clips
            .unwrap_or_else(|| self.config.clips_for(&req.project, project.project.video.clips.0));
        if clips == 0 || clips > self.config.max_clip_count {
            return Err(EngineError::invalid(
                "invalid_clips",
                format!("clips must be 1..={}", self.config.max_clip_count),
            ));
        }
        // A retry (the same key, the same request) is answered before any guard: it costs no
        // rate-limit slot, no safety check and no budget; the same key with another request is
        // refused with nothing written.
        let key = req.idempotency_key.clone().map(|k| scoped_key(req.owner.as_deref(), k));
        let hash = request_hash(&req.project, brief, req.clips);
        if let Some(k) = &key
            && let Some(id) = self.store.start_key_run(k, self.clock.now()).await?
        {
            return self.replay_start(id, &hash, req.request_id).await;
        }
        if let Some(caller) = &req.caller {
            self.rate_limit(caller).await?;
        }
        // Safety before anything is stored (fail closed), then the budget.
        match self.check_safety(None, brief).await? {
            super::SafetyOutcome::Safe => {}
            super::SafetyOutcome::Blocked(reason) => {
                return Err(EngineError::ContentBlocked(reason));
            }
            super::SafetyOutcome::Unavailable(why) => {
                return Err(EngineError::SafetyUnavailable(why));
            }
        }
        self.reserve_run_start().await?;
        let mut run = RunRecord::new(req.project, brief.to_owned(), clips, key, self.clock.now());
        run.owner = req.owner;
        run.start_hash = Some(hash.clone());
        run.state.spec = Some(spec);
        run.due_at = self.due_at(&run);
        let msg = StepMessage::at(run.run_id, 1)
            .for_step(run.step)
            .with_request_id(req.request_id.clone());
        let key_expires_at = run.created_at.plus(self.config.start_key_ttl);
        match self.store.create_run(&run, key_expires_at).await? {
            CreateOutcome::Created => {
                self.queue.send(&msg, Default::default()).await?;
                info!(run_id = %run.run_id, request_id = req.request_id.as_deref(), clips, "run started");
                Ok(StartOutcome { run, replayed: false })
            }
            // A concurrent first request with the same key won the create.
            CreateOutcome::Existing(id) => self.replay_start(id, &hash, req.request_id).await,
        }
    }

    /// Start a run of the no-op workflow (`workflow/noop.rs`): `steps` durable steps that
    /// compute nothing, run by the same runner as any other. It has no project and passes no
    /// guard, since nothing in it costs anything; it is how the engine's own cost is measured.
    pub async fn start_noop(
        &self,
        steps: u32,
        owner: Option<String>,
    ) -> Result<RunRecord, EngineError> {
        if steps == 0 {
            return Err(EngineError::invalid("invalid_steps", "a no-op run takes at least 1 step"));
        }
        let now = self.clock.now();
        let project = ProjectName::parse("noop").expect("a valid project name");
        let mut run = RunRecord::new(project, format!("{steps} no-op steps"), 0, None, now);
        run.step = Step::Noop;
        run.status = RunStatus::Running;
        run.owner = owner;
        run.state.noop = Some(NoopProgress { done: 0, steps });
        run.due_at = self.due_at(&run);
        self.store.create_run(&run, now).await?;
        let msg = StepMessage::at(run.run_id, 1).for_step(run.step);
        self.queue.send(&msg, Default::default()).await?;
        Ok(run)
    }

    /// The run an idempotency key created, for a request whose digest is `hash`: the same
    /// request is a replay; another is refused (422 `idempotency_key_reused`).
    async fn replay_start(
        &self,
        id: RunId,
        hash: &str,
        request_id: Option<String>,
    ) -> Result<StartOutcome, EngineError> {
        let existing =
            self.store.get_run(&id).await?.ok_or_else(|| EngineError::NotFound(id.to_string()))?;
        if existing.start_hash.as_deref().is_some_and(|h| h != hash) {
            return Err(EngineError::Unprocessable {
                code: "idempotency_key_reused",
                detail: format!(
                    "this Idempotency-Key started run {id} with another request; use a new key \
                     for a new run"
                ),
            });
        }
        // The first attempt may have died between the create and the send: re-send.
        // A duplicate first message is harmless (version fencing).
        if existing.version == 1 && existing.status == RunStatus::Pending {
            let msg = StepMessage::at(id, 1).with_request_id(request_id);
            self.queue.send(&msg, Default::default()).await?;
        }
        Ok(StartOutcome { run: existing, replayed: true })
    }
}
