//! A provider that is `off`: every step that needs it fails the run with `provider_off` and the
//! setting to change, instead of anything quietly standing in for it. The same refusal stands
//! in a function that never calls a provider kind (the api function calls only the safety
//! check): there it says where the calls are made, and the kind's client is not in the binary.

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
    /// The function this stands in, when the kind is on but called elsewhere.
    not_here: Option<&'static str>,
}

impl Off {
    /// `kind` (as in `MYLOWARE_PROVIDERS`) is off; `provider` names its rendezvous.
    pub fn new(kind: &'static str, provider: Provider) -> Self {
        Self { kind, provider, not_here: None }
    }

    /// `kind` (`provider`) is called by the step function, never by `function`.
    pub fn elsewhere(kind: &'static str, provider: Provider, function: &'static str) -> Self {
        Self { kind, provider, not_here: Some(function) }
    }

    fn why(&self) -> String {
        match self.not_here {
            Some(f) => format!(
                "provider_not_here: the {} provider is called by the step function, not the {f} \
                 function",
                self.kind
            ),
            None => format!("provider_off: the {} provider is off (MYLOWARE_PROVIDERS)", self.kind),
        }
    }

    fn refuse<T>(&self) -> Result<T, ProviderError> {
        Err(ProviderError::Terminal(self.why()))
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
        Err(self.why())
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
        Err(self.why())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn off_and_elsewhere_refuse_every_call_and_say_why() {
        let off = Off::new("video", Provider::Gemini);
        let err = VideoProvider::status(&off, &JobId::parse("j1").unwrap()).await.unwrap_err();
        assert!(err.to_string().contains("provider_off: the video provider is off"), "{err}");
        let api = Off::elsewhere("video", Provider::Replicate, "api");
        assert_eq!(api.provider(), Provider::Replicate, "a start still checks the configured API");
        let err = VideoProvider::status(&api, &JobId::parse("j1").unwrap()).await.unwrap_err();
        assert!(err.to_string().contains("called by the step function, not the api function"));
        assert!(VideoProvider::check_media_url(&api, "https://x.example/a.mp4").await.is_err());
        assert!(PublishProvider::status(&api, "p1").await.is_err());
    }
}
