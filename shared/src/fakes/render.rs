//! A Remotion-style renderer: one job per idempotency key, a signed callback to the URL given
//! with the job (`X-Remotion-Signature: sha512=<hex>`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::{CallbackMode, content::fake_mp4, path_of, short_hash};
use crate::domain::JobId;
use crate::ports::{
    CallbackSink, Delivery, InMemory, JobStatus, Media, ProviderError, RenderProvider,
    RenderRequest,
};
use crate::webhooks::WebhookSecret;

#[derive(Default)]
struct State {
    by_key: HashMap<String, JobId>,
    jobs: HashMap<JobId, RenderRequest>,
    outbox: Vec<JobId>,
    fail: Option<String>,
    silent: bool,
    stuck: bool,
    stateless: bool,
    submissions: super::CallCount,
}

/// The fake renderer.
pub struct FakeRender {
    secret: WebhookSecret,
    sink: Arc<dyn CallbackSink>,
    mode: CallbackMode,
    state: Mutex<State>,
}

impl FakeRender {
    /// A renderer that signs with `secret` and calls back through `sink`.
    pub fn new(secret: WebhookSecret, sink: Arc<dyn CallbackSink>, mode: CallbackMode) -> Self {
        Self { secret, sink, mode, state: Mutex::new(State::default()) }
    }

    /// Renders started (billed) so far.
    pub fn jobs_started(&self) -> usize {
        self.state.lock().unwrap().by_key.len()
    }

    /// Submit calls received (a repeat of a key included), in all and per run.
    pub fn submissions(&self) -> super::CallCount {
        self.state.lock().unwrap().submissions.clone()
    }

    /// The request of every render started, in no particular order.
    pub fn requests(&self) -> Vec<RenderRequest> {
        self.state.lock().unwrap().jobs.values().cloned().collect()
    }

    /// Make every render fail with `reason`.
    pub fn fail_all(&self, reason: &str) {
        self.state.lock().unwrap().fail = Some(reason.to_owned());
    }

    /// Never send callbacks (the status API still answers): the polling fallback's case.
    pub fn silence_callbacks(&self, silent: bool) {
        self.state.lock().unwrap().silent = silent;
    }

    /// Answer status polls for renders this process did not start from the id alone.
    pub fn stateless(&self) {
        self.state.lock().unwrap().stateless = true;
    }

    /// Renders never finish: no callback, and the status API says pending forever.
    pub fn never_finish(&self, stuck: bool) {
        self.state.lock().unwrap().stuck = stuck;
    }

    /// Take the jobs whose callbacks wait in the outbox (manual mode).
    pub fn take_outbox(&self) -> Vec<JobId> {
        std::mem::take(&mut self.state.lock().unwrap().outbox)
    }

    /// The signed callback for `job`.
    pub fn delivery(&self, job: &JobId) -> Delivery {
        let s = self.state.lock().unwrap();
        let req = s.jobs.get(job);
        let path =
            req.map(|r| path_of(&r.callback_url)).unwrap_or_else(|| "/v1/webhooks/remotion".into());
        let outcome = match &s.fail {
            Some(reason) => Err(reason.as_str()),
            None => Ok(format!("{RENDER_OUTPUT}{job}.mp4")),
        };
        super::deliveries::remotion_delivery(
            &self.secret,
            path,
            job.as_str(),
            req.map(|r| r.run_id.to_string()),
            outcome,
        )
    }

    /// Send the callback for `job` now.
    pub async fn send(&self, job: &JobId) -> Result<u16, String> {
        let d = self.delivery(job);
        self.sink.deliver(&d).await
    }
}

/// Where the fake renderer's outputs are (never fetched: the fake serves them by job id).
const RENDER_OUTPUT: &str = "https://render.example/output/";

#[async_trait]
impl RenderProvider for FakeRender {
    async fn submit(&self, key: &str, req: &RenderRequest) -> Result<JobId, ProviderError> {
        let job = {
            let mut s = self.state.lock().unwrap();
            s.submissions.count(req.run_id);
            if let Some(job) = s.by_key.get(key) {
                return Ok(job.clone());
            }
            let job = JobId::parse(&format!("render_{}", short_hash(key))).expect("valid id");
            s.by_key.insert(key.to_owned(), job.clone());
            s.jobs.insert(job.clone(), req.clone());
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
                    tracing::warn!(error = %e, "fake render callback not delivered");
                }
            });
        }
        Ok(job)
    }

    async fn fetch_output(&self, _job: &JobId, _url: Option<&str>) -> Result<Media, ProviderError> {
        Ok(InMemory::media(fake_mp4()))
    }

    async fn status(&self, job: &JobId) -> Result<JobStatus, ProviderError> {
        let s = self.state.lock().unwrap();
        let known =
            s.jobs.contains_key(job) || (s.stateless && job.as_str().starts_with("render_"));
        if !known {
            return Ok(JobStatus::Unknown { detail: format!("no such render {job}") });
        }
        Ok(match &s.fail {
            _ if s.stuck => JobStatus::Pending,
            Some(reason) => JobStatus::Failed { reason: reason.clone() },
            None => JobStatus::Completed { output_url: Some(format!("{RENDER_OUTPUT}{job}.mp4")) },
        })
    }

    async fn check_media_url(&self, url: &str) -> Result<(), String> {
        match url.strip_prefix(RENDER_OUTPUT) {
            Some(rest) if !rest.contains(['/', '?', '#', '@']) => Ok(()),
            _ => Err(format!("{url} is not the fake renderer's output")),
        }
    }
}
