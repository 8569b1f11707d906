//! Why a webhook was refused, with stable codes and the HTTP status each maps to.

/// A refused webhook.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// No secret is configured for a provider that needs one (fail closed).
    #[error("no webhook secret is configured for {0}")]
    NoSecret(&'static str),
    /// A configured secret is unusable.
    #[error("invalid webhook secret: {0}")]
    BadSecret(String),
    /// A signature header is missing.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// The timestamp header is not a unix time.
    #[error("webhook-timestamp is not a unix time in seconds")]
    BadTimestamp,
    /// The timestamp is outside the tolerance window.
    #[error("webhook timestamp is {skew_secs}s away from now (tolerance {tolerance_secs}s)")]
    StaleTimestamp {
        /// Distance from now.
        skew_secs: i64,
        /// Allowed distance.
        tolerance_secs: i64,
    },
    /// No signature matched.
    #[error("no valid signature")]
    BadSignature,
    /// The body is not valid JSON of the expected shape.
    #[error("malformed payload: {0}")]
    Malformed(String),
    /// A required id is missing or of the wrong form.
    #[error("invalid id: {0}")]
    BadId(String),
    /// The callback names a run its job does not belong to.
    #[error("wrong run: {0}")]
    WrongRun(String),
    /// The callback names a media URL that would not be fetched (scheme, host, address).
    #[error("unsafe URL: {0}")]
    UnsafeUrl(String),
}

impl WebhookError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            WebhookError::NoSecret(_) | WebhookError::BadSecret(_) => "webhook_secret_missing",
            WebhookError::MissingHeader(_) => "missing_signature",
            WebhookError::BadTimestamp => "invalid_timestamp",
            WebhookError::StaleTimestamp { .. } => "stale_timestamp",
            WebhookError::BadSignature => "invalid_signature",
            WebhookError::Malformed(_) => "malformed_payload",
            WebhookError::BadId(_) => "invalid_id",
            WebhookError::WrongRun(_) => "wrong_run",
            WebhookError::UnsafeUrl(_) => "unsafe_url",
        }
    }

    /// The HTTP status this error answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            WebhookError::NoSecret(_) | WebhookError::BadSecret(_) => 500,
            WebhookError::MissingHeader(_)
            | WebhookError::BadTimestamp
            | WebhookError::StaleTimestamp { .. }
            | WebhookError::BadSignature => 401,
            WebhookError::Malformed(_)
            | WebhookError::BadId(_)
            | WebhookError::WrongRun(_)
            | WebhookError::UnsafeUrl(_) => 400,
        }
    }
}
