//! Typed identifiers, parsed once at the edge (parse, don't validate).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why an identifier was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    /// The value is not of the expected form.
    #[error("{kind} {value:?} is not valid: {why}")]
    Invalid {
        /// What kind of id it was meant to be.
        kind: &'static str,
        /// The offending value (truncated).
        value: String,
        /// What is wrong with it.
        why: &'static str,
    },
}

fn invalid(kind: &'static str, value: &str, why: &'static str) -> IdError {
    IdError::Invalid { kind, value: value.chars().take(80).collect(), why }
}

/// A run's id: a lower-case UUID v4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RunId(uuid::Uuid);

impl RunId {
    /// A fresh random id.
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4())
    }
}

impl Default for RunId {
    fn default() -> Self {
        Self::new()
    }
}

impl FromStr for RunId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        uuid::Uuid::parse_str(s).map(Self).map_err(|_| invalid("run id", s, "expected a UUID"))
    }
}

impl TryFrom<String> for RunId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        s.parse()
    }
}

impl From<RunId> for String {
    fn from(id: RunId) -> String {
        id.to_string()
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// The external providers whose jobs the engine waits for; the rendezvous is keyed by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// An OpenAI-compatible Videos API (`/v1/videos`): the gateways that kept the shape after
    /// OpenAI shut Sora down. Standard Webhooks callbacks (`video.completed|failed`).
    #[serde(rename = "openai")]
    OpenAi,
    /// Replicate predictions (hosted Veo, Kling, Wan, Hailuo, Seedance …): a per-request
    /// webhook signed with Standard Webhooks.
    Replicate,
    /// Google Veo through the Gemini API: a long-running operation, polled (its webhooks are
    /// in beta and optional).
    Gemini,
    /// Remotion-style rendering (HMAC-SHA512 callbacks).
    Remotion,
    /// Upload-Post publishing: no callbacks, the upload's status is polled by our request id.
    UploadPost,
}

impl Provider {
    /// The video providers, in the order they are documented.
    pub const VIDEO: [Provider; 3] = [Provider::OpenAi, Provider::Replicate, Provider::Gemini];

    /// Stable lower-case name, used in keys, routes (`/v1/webhooks/<name>`) and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Replicate => "replicate",
            Provider::Gemini => "gemini",
            Provider::Remotion => "remotion",
            Provider::UploadPost => "upload_post",
        }
    }
}

impl FromStr for Provider {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        [
            Provider::OpenAi,
            Provider::Replicate,
            Provider::Gemini,
            Provider::Remotion,
            Provider::UploadPost,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
        .ok_or_else(|| {
            invalid("provider", s, "one of openai, replicate, gemini, remotion, upload_post")
        })
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A provider's job id (`video_…` at an OpenAI-compatible API, a prediction id at Replicate, an
/// encoded operation name at Gemini, a render id): 1–128 chars of
/// `[A-Za-z0-9_-]`, so it is safe inside storage keys and URLs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct JobId(String);

impl JobId {
    /// Parse a job id.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if s.is_empty() || s.len() > 128 {
            return Err(invalid("job id", s, "length must be 1..=128"));
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(invalid("job id", s, "only letters, digits, '_' and '-' are allowed"));
        }
        Ok(Self(s.to_owned()))
    }
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for JobId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<JobId> for String {
    fn from(id: JobId) -> String {
        id.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A project (workflow) name: `^[a-z0-9_]{1,64}$`, as the original validates it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProjectName(String);

impl ProjectName {
    /// Parse a project name.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if s.is_empty() || s.len() > 64 {
            return Err(invalid("project", s, "length must be 1..=64"));
        }
        if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            return Err(invalid("project", s, "only a-z, 0-9 and '_' are allowed"));
        }
        Ok(Self(s.to_owned()))
    }
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProjectName {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<ProjectName> for String {
    fn from(p: ProjectName) -> String {
        p.0
    }
}

/// A client-chosen idempotency key (`Idempotency-Key` header): 1–255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Parse a key.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if s.is_empty() || s.len() > 255 {
            return Err(invalid("idempotency key", s, "length must be 1..=255"));
        }
        if !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid("idempotency key", s, "only visible ASCII is allowed"));
        }
        Ok(Self(s.to_owned()))
    }
    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<IdempotencyKey> for String {
    fn from(k: IdempotencyKey) -> String {
        k.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_at_the_edge() {
        let id = RunId::new();
        assert_eq!(id.to_string().parse::<RunId>().unwrap(), id);
        assert!("not-a-uuid".parse::<RunId>().is_err());
        assert!(JobId::parse("video_abc-123").is_ok());
        assert!(JobId::parse("").is_err());
        assert!(JobId::parse("a/b").is_err());
        assert!(JobId::parse(&"x".repeat(129)).is_err());
        assert!(ProjectName::parse("aismr").is_ok());
        assert!(ProjectName::parse("AISMR").is_err());
        assert!(IdempotencyKey::parse("k 1").is_err());
        let j: Result<JobId, _> = serde_json::from_str("\"bad id\"");
        assert!(j.is_err());
    }
}
