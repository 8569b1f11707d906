//! Deterministic fake providers. They are real implementations of the providers' protocols: the
//! video and render fakes sign their callbacks exactly as Sora (Standard Webhooks) and Remotion
//! (HMAC-SHA512) do and send them through a [`CallbackSink`] (in tests: the webhook HTTP handler).
//! Every fake counts the jobs it was asked to start, so tests can assert "paid once".

mod content;

pub use content::SAMPLE_MP4;
pub mod deliveries;
mod render;
mod simple;
mod video;

pub use render::FakeRender;
pub use simple::{FakeLlm, FakePublish, FakeSafety};
pub use video::FakeVideo;

use std::sync::Arc;

use crate::engine::Providers;
use crate::ports::CallbackSink;

/// When a fake sends the callback of a job it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackMode {
    /// Held in an outbox until the test delivers it.
    Manual,
    /// Sent by a background task after this delay.
    After(std::time::Duration),
}

/// A full set of fakes sharing one callback sink.
#[derive(Clone)]
pub struct FakeSet {
    /// Ideation.
    pub llm: Arc<FakeLlm>,
    /// Safety.
    pub safety: Arc<FakeSafety>,
    /// Video.
    pub video: Arc<FakeVideo>,
    /// Render.
    pub render: Arc<FakeRender>,
    /// Publish.
    pub publish: Arc<FakePublish>,
}

impl FakeSet {
    /// Fakes whose callbacks are signed with these secrets and sent to `sink`.
    pub fn new(
        openai_secret: crate::webhooks::WebhookSecret,
        remotion_secret: crate::webhooks::WebhookSecret,
        sink: Arc<dyn CallbackSink>,
        mode: CallbackMode,
        clock: Arc<dyn crate::time::Clock>,
    ) -> Self {
        Self {
            llm: Arc::new(FakeLlm::default()),
            safety: Arc::new(FakeSafety::default()),
            video: Arc::new(FakeVideo::new(openai_secret, sink.clone(), mode, clock)),
            render: Arc::new(FakeRender::new(remotion_secret, sink, mode)),
            publish: Arc::new(FakePublish::default()),
        }
    }

    /// Fakes that never call back (a test that delivers callbacks itself, or needs none),
    /// signing with `secret` for both providers.
    pub fn silent(secret: crate::webhooks::WebhookSecret) -> Self {
        Self::new(
            secret.clone(),
            secret,
            Arc::new(NullSink),
            CallbackMode::Manual,
            Arc::new(crate::time::SystemClock),
        )
    }

    /// Fakes for a deployment of several processes (the Lambda functions): a status poll in
    /// one container about a job another container started is answered from its id alone.
    pub fn stateless(self) -> Self {
        self.video.stateless();
        self.render.stateless();
        self.publish.stateless();
        self
    }

    /// The fakes as the engine's providers.
    pub fn providers(&self) -> Providers {
        Providers {
            llm: self.llm.clone(),
            safety: self.safety.clone(),
            video: self.video.clone(),
            render: self.render.clone(),
            publish: self.publish.clone(),
        }
    }
}

/// A sink with nowhere to deliver (for tests that never see a callback).
#[derive(Debug, Default)]
pub struct NullSink;

#[async_trait::async_trait]
impl CallbackSink for NullSink {
    async fn deliver(&self, _: &crate::ports::Delivery) -> Result<u16, String> {
        Err("no webhook endpoint is wired to this sink".into())
    }
}

/// Strip scheme and host from a callback URL, keeping path and query.
pub(crate) fn path_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    match rest.find('/') {
        Some(i) => rest[i..].to_owned(),
        None => "/".to_owned(),
    }
}

/// Calls a provider received, in all and per run: what "paid once" and "published once" are
/// asserted on (calls, not distinct keys).
#[derive(Debug, Default, Clone)]
pub struct CallCount {
    total: usize,
    by_run: std::collections::HashMap<crate::domain::RunId, usize>,
}

impl CallCount {
    /// Count one call for `run`.
    pub fn count(&mut self, run: crate::domain::RunId) {
        self.total += 1;
        *self.by_run.entry(run).or_default() += 1;
    }
    /// Every call so far.
    pub fn total(&self) -> usize {
        self.total
    }
    /// Calls for one run.
    pub fn for_run(&self, run: &crate::domain::RunId) -> usize {
        self.by_run.get(run).copied().unwrap_or(0)
    }
}

/// A short deterministic id from a key.
pub(crate) fn short_hash(key: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(key.as_bytes())[..8])
}
