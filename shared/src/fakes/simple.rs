//! Fakes without callbacks: LLM, safety, publish.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use crate::domain::{Ideas, ProjectName};
use crate::ports::{
    LlmProvider, ProviderError, PublishProvider, PublishRequest, Published, SafetyProvider,
    SafetyVerdict,
};

/// A deterministic ideator: prompts derived from the brief.
#[derive(Debug, Default)]
pub struct FakeLlm {
    calls: AtomicUsize,
}

impl FakeLlm {
    /// Ideation calls so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl LlmProvider for FakeLlm {
    async fn ideate(
        &self,
        project: &ProjectName,
        brief: &str,
        clips: u32,
    ) -> Result<Ideas, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let topic: String = brief.chars().take(60).collect();
        Ok(Ideas {
            title: format!("{}: {topic}", project.as_str()),
            prompts: (0..clips).map(|i| format!("Scene {} of {clips}: {topic}", i + 1)).collect(),
            caption: format!("{topic} #{}", project.as_str()),
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

/// A publisher that posts once per idempotency key.
#[derive(Debug, Default)]
pub struct FakePublish {
    posts: Mutex<HashMap<String, String>>,
}

impl FakePublish {
    /// Distinct publications so far.
    pub fn jobs_started(&self) -> usize {
        self.posts.lock().unwrap().len()
    }
}

#[async_trait]
impl PublishProvider for FakePublish {
    async fn publish(&self, key: &str, req: &PublishRequest) -> Result<Published, ProviderError> {
        let mut posts = self.posts.lock().unwrap();
        let url = posts
            .entry(key.to_owned())
            .or_insert_with(|| {
                format!("https://tiktok.example/@myloware/video/{}", super::short_hash(key))
            })
            .clone();
        tracing::debug!(run_id = %req.run_id, url, "fake publish");
        Ok(Published { url })
    }
}
