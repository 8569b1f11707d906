//! Fakes without callbacks: LLM, safety, publish.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use crate::domain::Ideas;
use crate::ports::{
    IdeationAsk, JobStatus, LlmProvider, ProviderError, PublishProvider, PublishRequest,
    SafetyProvider, SafetyVerdict,
};

/// A deterministic ideator: prompts derived from the brief.
#[derive(Debug, Default)]
pub struct FakeLlm {
    calls: AtomicUsize,
    padding: AtomicUsize,
    last: Mutex<Option<IdeationAsk>>,
}

impl FakeLlm {
    /// Ideation calls so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
    /// What the last call asked.
    pub fn last_ask(&self) -> Option<IdeationAsk> {
        self.last.lock().unwrap().clone()
    }
    /// Answer with prompts `chars` characters longer (an LLM that rambles).
    pub fn ramble(&self, chars: usize) {
        self.padding.store(chars, Ordering::SeqCst);
    }
}

#[async_trait]
impl LlmProvider for FakeLlm {
    async fn ideate(&self, ask: &IdeationAsk) -> Result<Ideas, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        *self.last.lock().unwrap() = Some(ask.clone());
        let (project, brief, clips) = (&ask.project, ask.brief.as_str(), ask.clips);
        let topic: String = brief.chars().take(60).collect();
        let pad = "~".repeat(self.padding.load(Ordering::SeqCst));
        Ok(Ideas {
            title: format!("{}: {topic}", project.as_str()),
            prompts: (0..clips)
                .map(|i| format!("Scene {} of {clips}: {topic}{pad}", i + 1))
                .collect(),
            caption: format!("{topic} #{}", project.as_str()),
            overlays: (0..clips).map(|i| format!("Part {}", i + 1)).collect(),
        })
    }
}

/// A keyword safety checker (blocks `kill` by default, as the original's tests pin down). It can
/// be told to block more words, to fail, or to be slow, and it counts its calls.
#[derive(Debug)]
pub struct FakeSafety {
    blocked: Mutex<Vec<String>>,
    failure: Mutex<Option<String>>,
    delay: Mutex<std::time::Duration>,
    calls: AtomicUsize,
}

impl Default for FakeSafety {
    fn default() -> Self {
        Self {
            blocked: Mutex::new(vec!["kill".into()]),
            failure: Mutex::new(None),
            delay: Mutex::new(std::time::Duration::ZERO),
            calls: AtomicUsize::new(0),
        }
    }
}

impl FakeSafety {
    /// Checks so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
    /// Also block texts containing `word` (case-insensitive).
    pub fn block(&self, word: &str) {
        self.blocked.lock().unwrap().push(word.to_lowercase());
    }
    /// Fail every check with `reason` (`None`: answer again).
    pub fn fail_with(&self, reason: Option<&str>) {
        *self.failure.lock().unwrap() = reason.map(str::to_owned);
    }
    /// Take this long to answer.
    pub fn delay(&self, d: std::time::Duration) {
        *self.delay.lock().unwrap() = d;
    }
}

#[async_trait]
impl SafetyProvider for FakeSafety {
    async fn check(&self, text: &str) -> Result<SafetyVerdict, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let delay = *self.delay.lock().unwrap();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if let Some(reason) = self.failure.lock().unwrap().clone() {
            return Err(ProviderError::Retryable(reason));
        }
        let lower = text.to_lowercase();
        let blocked =
            self.blocked.lock().unwrap().iter().find(|w| lower.contains(w.as_str())).cloned();
        Ok(match blocked {
            Some(w) => SafetyVerdict::Blocked(format!("blocked keyword {w:?}")),
            None => SafetyVerdict::Safe,
        })
    }
}

/// An Upload-Post-style publisher: uploads are asynchronous, named by the caller's request id,
/// and awaited through their status. It counts every POST it receives, per run too, so tests
/// can assert "published once" in calls. A repeated request id is counted and answered with the
/// existing upload's status (what the real service does then is not documented).
#[derive(Debug, Default)]
pub struct FakePublish {
    state: Mutex<PublishState>,
}

#[derive(Debug, Default)]
struct PublishState {
    uploads: HashMap<String, Upload>,
    posts: super::CallCount,
    requests: Vec<PublishRequest>,
    pending_polls: u32,
    failure: Option<String>,
    stateless: bool,
}

#[derive(Debug, Clone)]
struct Upload {
    url: String,
    polls_left: u32,
    failure: Option<String>,
}

impl FakePublish {
    /// Distinct uploads so far.
    pub fn jobs_started(&self) -> usize {
        self.state.lock().unwrap().uploads.len()
    }
    /// Upload POSTs received (a repeated request id included), in all and per run.
    pub fn posts(&self) -> super::CallCount {
        self.state.lock().unwrap().posts.clone()
    }
    /// Every upload POST's request, in order (a repeat included).
    pub fn requests(&self) -> Vec<PublishRequest> {
        self.state.lock().unwrap().requests.clone()
    }
    /// New uploads answer "pending" to this many status polls before they complete.
    pub fn processing_polls(&self, n: u32) {
        self.state.lock().unwrap().pending_polls = n;
    }
    /// Answer status polls for uploads this process did not take (another function's container
    /// took them) from the request id alone: one of ours (`mw-…`) is published.
    pub fn stateless(&self) {
        self.state.lock().unwrap().stateless = true;
    }

    /// New uploads fail with `reason` (`None`: they succeed again).
    pub fn fail_with(&self, reason: Option<&str>) {
        self.state.lock().unwrap().failure = reason.map(str::to_owned);
    }
}

#[async_trait]
impl PublishProvider for FakePublish {
    async fn publish(&self, id: &str, req: &PublishRequest) -> Result<JobStatus, ProviderError> {
        let mut s = self.state.lock().unwrap();
        s.posts.count(req.run_id);
        s.requests.push(req.clone());
        let (polls_left, failure) = (s.pending_polls, s.failure.clone());
        s.uploads.entry(id.to_owned()).or_insert_with(|| Upload {
            url: format!("https://tiktok.example/@myloware/video/{}", super::short_hash(id)),
            polls_left,
            failure,
        });
        tracing::debug!(run_id = %req.run_id, request_id = id, "fake upload accepted");
        Ok(JobStatus::Pending)
    }

    async fn status(&self, id: &str) -> Result<JobStatus, ProviderError> {
        let mut s = self.state.lock().unwrap();
        let stateless = s.stateless;
        let Some(u) = s.uploads.get_mut(id) else {
            if stateless && id.starts_with("mw-") {
                let url =
                    format!("https://tiktok.example/@myloware/video/{}", super::short_hash(id));
                return Ok(JobStatus::Completed { output_url: Some(url) });
            }
            return Ok(JobStatus::Unknown { detail: format!("request_id {id} not found") });
        };
        if u.polls_left > 0 {
            u.polls_left -= 1;
            return Ok(JobStatus::Pending);
        }
        Ok(match &u.failure {
            Some(reason) => JobStatus::Failed { reason: reason.clone() },
            None => JobStatus::Completed { output_url: Some(u.url.clone()) },
        })
    }
}
