//! Fault-point decorators for the providers: a crash before a paid call, or after the provider
//! accepted it and before we recorded the answer (the case intents exist for).

use std::sync::Arc;

use async_trait::async_trait;

use super::{Faults, around, around_about};
use crate::domain::{Ideas, JobId};
use crate::engine::Providers;
use crate::ports::{
    IdeationAsk, JobStatus, LlmProvider, Media, ProviderError, PublishProvider, PublishRequest,
    RenderProvider, RenderRequest, VideoProvider, VideoRequest,
};

struct Faulty<P: ?Sized> {
    inner: Arc<P>,
    faults: Arc<Faults>,
}

/// `providers` with fault points around every call that starts work at a provider.
pub fn faulty_providers(p: Providers, faults: Arc<Faults>) -> Providers {
    Providers {
        llm: Arc::new(Faulty { inner: p.llm, faults: faults.clone() }),
        safety: p.safety,
        video: Arc::new(Faulty { inner: p.video, faults: faults.clone() }),
        render: Arc::new(Faulty { inner: p.render, faults: faults.clone() }),
        publish: Arc::new(Faulty { inner: p.publish, faults }),
    }
}

#[async_trait]
impl LlmProvider for Faulty<dyn LlmProvider> {
    async fn ideate(&self, ask: &IdeationAsk) -> Result<Ideas, ProviderError> {
        around(&self.faults, "llm.ideate.before", "llm.ideate.after", self.inner.ideate(ask)).await
    }
}

#[async_trait]
impl VideoProvider for Faulty<dyn VideoProvider> {
    async fn submit(&self, key: &str, req: &VideoRequest) -> Result<JobId, ProviderError> {
        around_about(
            &self.faults,
            "video.submit.before",
            "video.submit.after",
            Some(&req.run_id.to_string()),
            self.inner.submit(key, req),
        )
        .await
    }
    fn provider(&self) -> crate::domain::Provider {
        self.inner.provider()
    }
    fn calls_back(&self) -> bool {
        self.inner.calls_back()
    }
    async fn download(&self, job: &JobId, url: Option<&str>) -> Result<Media, ProviderError> {
        let (before, after) = ("video.download.before", "video.download.after");
        around_about(&self.faults, before, after, Some(job.as_str()), self.inner.download(job, url))
            .await
    }
    async fn status(&self, job: &JobId) -> Result<JobStatus, ProviderError> {
        self.inner.status(job).await
    }
    async fn check_media_url(&self, url: &str) -> Result<(), String> {
        self.inner.check_media_url(url).await
    }
}

#[async_trait]
impl RenderProvider for Faulty<dyn RenderProvider> {
    async fn submit(&self, key: &str, req: &RenderRequest) -> Result<JobId, ProviderError> {
        around_about(
            &self.faults,
            "render.submit.before",
            "render.submit.after",
            Some(&req.run_id.to_string()),
            self.inner.submit(key, req),
        )
        .await
    }
    async fn fetch_output(&self, job: &JobId, url: Option<&str>) -> Result<Media, ProviderError> {
        self.inner.fetch_output(job, url).await
    }
    async fn status(&self, job: &JobId) -> Result<JobStatus, ProviderError> {
        self.inner.status(job).await
    }
    async fn check_media_url(&self, url: &str) -> Result<(), String> {
        self.inner.check_media_url(url).await
    }
}

#[async_trait]
impl PublishProvider for Faulty<dyn PublishProvider> {
    async fn publish(&self, id: &str, req: &PublishRequest) -> Result<JobStatus, ProviderError> {
        let run = req.run_id.to_string();
        around_about(&self.faults, "publish.before", "publish.after", Some(&run), async {
            self.inner.publish(id, req).await
        })
        .await
    }
    async fn status(&self, id: &str) -> Result<JobStatus, ProviderError> {
        self.inner.status(id).await
    }
}
