//! An OpenAI-compatible video provider: jobs `video_…`, Standard Webhooks callbacks with OpenAI's event
//! envelope, idempotent on the submit key.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::{CallbackMode, content::fake_mp4, short_hash};
use crate::domain::JobId;
use crate::ports::{
    CallbackSink, Delivery, InMemory, JobStatus, Media, ProviderError, VideoProvider, VideoRequest,
};
use crate::time::Clock;
use crate::webhooks::WebhookSecret;

#[derive(Default)]
struct State {
    by_key: HashMap<String, JobId>,
    index_of: HashMap<JobId, u32>,
    outbox: Vec<JobId>,
    fail: HashMap<u32, String>,
    early: HashSet<u32>,
    early_pending: Vec<JobId>,
    refuse: Option<String>,
    refuse_index: HashMap<u32, String>,
    silent: bool,
    stuck: bool,
    stateless: bool,
    down_index: HashMap<u32, String>,
    submissions: super::CallCount,
    requests: Vec<VideoRequest>,
    downloads: HashMap<JobId, usize>,
}

/// The fake video provider.
pub struct FakeVideo {
    secret: WebhookSecret,
    sink: Arc<dyn CallbackSink>,
    mode: CallbackMode,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

impl FakeVideo {
    /// A provider that signs with `secret` and calls back through `sink`.
    pub fn new(
        secret: WebhookSecret,
        sink: Arc<dyn CallbackSink>,
        mode: CallbackMode,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { secret, sink, mode, clock, state: Mutex::new(State::default()) }
    }

    /// Jobs started (billed) so far: one per distinct idempotency key.
    pub fn jobs_started(&self) -> usize {
        self.state.lock().unwrap().by_key.len()
    }

    /// Submit calls received (a repeat of a key included), in all and per run.
    pub fn submissions(&self) -> super::CallCount {
        self.state.lock().unwrap().submissions.clone()
    }

    /// Every submit call's request, in order (a repeat included).
    pub fn requests(&self) -> Vec<VideoRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Content downloads so far.
    pub fn downloads(&self) -> usize {
        self.state.lock().unwrap().downloads.values().sum()
    }

    /// Content downloads of one job.
    pub fn downloads_of(&self, job: &JobId) -> usize {
        self.state.lock().unwrap().downloads.get(job).copied().unwrap_or(0)
    }

    /// Make the job for clip `index` fail with `reason`.
    pub fn fail_index(&self, index: u32, reason: &str) {
        self.state.lock().unwrap().fail.insert(index, reason.to_owned());
    }

    /// Send the callback for clip `index` as early as possible: during the next submit call,
    /// i.e. before the submitting step has registered its wait.
    pub fn deliver_early(&self, index: u32) {
        self.state.lock().unwrap().early.insert(index);
    }

    /// Refuse every submission with `reason` (a permanent error), or accept again with `None`.
    pub fn refuse_submissions(&self, reason: Option<&str>) {
        self.state.lock().unwrap().refuse = reason.map(str::to_owned);
    }

    /// Refuse submissions for clip `index` with `reason` (`None`: accept them again).
    pub fn refuse_index(&self, index: u32, reason: Option<&str>) {
        let mut s = self.state.lock().unwrap();
        match reason {
            Some(r) => s.refuse_index.insert(index, r.to_owned()),
            None => s.refuse_index.remove(&index),
        };
    }

    /// Answer submissions for clip `index` with a transient error (`None`: recover).
    pub fn outage_for_index(&self, index: u32, reason: Option<&str>) {
        let mut s = self.state.lock().unwrap();
        match reason {
            Some(r) => s.down_index.insert(index, r.to_owned()),
            None => s.down_index.remove(&index),
        };
    }

    /// Never send callbacks (the status API still answers): the polling fallback's case.
    pub fn silence_callbacks(&self, silent: bool) {
        self.state.lock().unwrap().silent = silent;
    }

    /// Answer status polls for jobs this process did not start (another function's container
    /// started them) from the job id alone: a `video_…` id is finished.
    pub fn stateless(&self) {
        self.state.lock().unwrap().stateless = true;
    }

    /// Jobs never finish: no callback, and the status API says pending forever.
    pub fn never_finish(&self, stuck: bool) {
        self.state.lock().unwrap().stuck = stuck;
    }

    /// Take the jobs whose callbacks wait in the outbox (manual mode), in submission order.
    pub fn take_outbox(&self) -> Vec<JobId> {
        std::mem::take(&mut self.state.lock().unwrap().outbox)
    }

    /// The signed callback for `job`, as the provider would send it now. The `webhook-id` is stable
    /// per job, as in a provider's retries.
    pub fn delivery(&self, job: &JobId) -> Delivery {
        let failure = {
            let s = self.state.lock().unwrap();
            let index = s.index_of.get(job).copied().unwrap_or(0);
            s.fail.get(&index).cloned()
        };
        super::deliveries::openai_video_delivery(
            &self.secret,
            job.as_str(),
            failure.as_deref(),
            self.clock.now().secs(),
        )
    }

    /// Send the callback for `job` now; returns the HTTP status.
    pub async fn send(&self, job: &JobId) -> Result<u16, String> {
        self.sink.deliver(&self.delivery(job)).await
    }
}

#[async_trait]
impl VideoProvider for FakeVideo {
    async fn submit(&self, key: &str, req: &VideoRequest) -> Result<JobId, ProviderError> {
        let early: Vec<JobId> = std::mem::take(&mut self.state.lock().unwrap().early_pending);
        for job in early {
            self.send(&job).await.map_err(ProviderError::Retryable)?;
        }
        let job = {
            let mut s = self.state.lock().unwrap();
            s.submissions.count(req.run_id);
            s.requests.push(req.clone());
            if let Some(reason) = s.refuse.as_ref().or(s.refuse_index.get(&req.index)) {
                return Err(ProviderError::Terminal(reason.clone()));
            }
            if let Some(reason) = s.down_index.get(&req.index) {
                return Err(ProviderError::Retryable(reason.clone()));
            }
            if let Some(job) = s.by_key.get(key) {
                return Ok(job.clone());
            }
            let job = JobId::parse(&format!("video_{}", short_hash(key))).expect("valid id");
            s.by_key.insert(key.to_owned(), job.clone());
            s.index_of.insert(job.clone(), req.index);
            if s.early.contains(&req.index) {
                s.early_pending.push(job.clone());
                return Ok(job);
            }
            if s.silent || s.stuck {
                return Ok(job);
            }
            if self.mode == CallbackMode::Manual {
                s.outbox.push(job.clone());
            }
            job
        };
        if let CallbackMode::After(delay) = self.mode {
            let d = self.delivery(&job);
            let sink = self.sink.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                if let Err(e) = sink.deliver(&d).await {
                    tracing::warn!(error = %e, "fake video callback not delivered");
                }
            });
        }
        Ok(job)
    }

    fn provider(&self) -> crate::domain::Provider {
        crate::domain::Provider::OpenAi
    }

    async fn download(&self, job: &JobId, _url: Option<&str>) -> Result<Media, ProviderError> {
        *self.state.lock().unwrap().downloads.entry(job.clone()).or_default() += 1;
        // The same content for every job, so any process (any Lambda container) can serve it.
        Ok(InMemory::media(fake_mp4()))
    }

    async fn status(&self, job: &JobId) -> Result<JobStatus, ProviderError> {
        let s = self.state.lock().unwrap();
        let Some(index) = s.index_of.get(job) else {
            if s.stateless && job.as_str().starts_with("video_") {
                return Ok(JobStatus::Completed { output_url: None });
            }
            return Ok(JobStatus::Unknown { detail: format!("no such video job {job}") });
        };
        Ok(match s.fail.get(index) {
            _ if s.stuck => JobStatus::Pending,
            Some(reason) => JobStatus::Failed { reason: reason.clone() },
            None => JobStatus::Completed { output_url: None },
        })
    }

    async fn check_media_url(&self, url: &str) -> Result<(), String> {
        // Its callbacks and statuses name no file: content is fetched by job id.
        Err(format!("the fake video provider names no media URLs, not {url}"))
    }
}
