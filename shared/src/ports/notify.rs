//! The notification port: POST a signed event to an endpoint the operator configured.

use async_trait::async_trait;

/// What an endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostOutcome {
    /// It answered with this HTTP status (2xx: delivered).
    Answered(u16),
    /// No answer: connection refused, timed out, TLS failed (the reason, without secrets).
    Unreachable(String),
}

/// Sends notification requests. Implementations follow no redirect and read no more of the
/// answer than its status.
#[async_trait]
pub trait NoticeSender: Send + Sync {
    /// `POST url` with `headers` and the JSON `body`.
    async fn post(&self, url: &str, headers: &[(&str, String)], body: &str) -> PostOutcome;
}
