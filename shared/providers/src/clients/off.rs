//! A provider that is `off`: every step that needs it fails the run with `provider_off` and the
//! setting to change, instead of anything quietly standing in for it.

use async_trait::async_trait;
use myloware::domain::{Ideas, JobId, Provider};
use myloware::ports::{
    IdeationAsk, JobStatus, LlmProvider, Media, ProviderError, PublishProvider, PublishRequest,
    RenderProvider, RenderRequest, VideoProvider, VideoRequest,
};

/// The `off` provider of one kind.
#[derive(Debug, Clone, Copy)]
pub struct Off {
    kind: &'static str,
    provider: Provider,
}

impl Off {
    /// `kind` (as in `MYLOWARE_PROVIDERS`) is off; `provider` names its rendezvous.
    pub fn new(kind: &'static str, provider: Provider) -> Self {
        Self { kind, provider }
    }

    fn refuse<T>(&self) -> Result<T, ProviderError> {
        Err(ProviderError::Terminal(format!(
            "provider_off: the {} provider is off (MYLOWARE_PROVIDERS)",
            self.kind
        )))
    }
}

#[async_trait]
impl LlmProvider for Off {
    async fn ideate(&self, _: &IdeationAsk) -> Result<Ideas, ProviderError> {
        self.refuse()
    }
}

#[async_trait]
impl VideoProvider for Off {
    fn provider(&self) -> Provider {
        self.provider
    }
    async fn submit(&self, _: &str, _: &VideoRequest) -> Result<JobId, ProviderError> {
        self.refuse()
    }
    async fn download(&self, _: &JobId, _: Option<&str>) -> Result<Media, ProviderError> {
        self.refuse()
    }
    async fn status(&self, _: &JobId) -> Result<JobStatus, ProviderError> {
        self.refuse()
    }
    async fn check_media_url(&self, _: &str) -> Result<(), String> {
        Err(format!("the {} provider is off", self.kind))
    }
}

#[async_trait]
impl RenderProvider for Off {
    async fn submit(&self, _: &str, _: &RenderRequest) -> Result<JobId, ProviderError> {
        self.refuse()
    }
    async fn fetch_output(&self, _: &JobId, _: Option<&str>) -> Result<Media, ProviderError> {
        self.refuse()
    }
    async fn status(&self, _: &JobId) -> Result<JobStatus, ProviderError> {
        self.refuse()
    }
    async fn check_media_url(&self, _: &str) -> Result<(), String> {
        Err(format!("the {} provider is off", self.kind))
    }
}

#[async_trait]
impl PublishProvider for Off {
    async fn publish(&self, _: &str, _: &PublishRequest) -> Result<JobStatus, ProviderError> {
        self.refuse()
    }
    async fn status(&self, _: &str) -> Result<JobStatus, ProviderError> {
        self.refuse()
    }
}
