//! The shared HTTP client, error classification, and fetching a provider's media files.

use std::time::Duration;

use myloware::ports::ProviderError;

/// The longest a provider call may take, answer included. Kept well below the step
/// function's timeout (the template parity test checks it), so a slow provider fails the call,
/// a retryable error, rather than the function being killed mid-answer.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Largest media file fetched from a provider (a clip, a render).
pub const MAX_MEDIA_BYTES: usize = 512 * 1024 * 1024;

/// One client for all providers: rustls with ring and the webpki roots (as the AWS SDK uses).
/// It follows no redirect by itself: [`fetch_media`] decides who gets a provider's key.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client")
}

/// Transport errors are transient.
pub fn transport(e: reqwest::Error) -> ProviderError {
    ProviderError::Retryable(format!("transport: {e}"))
}

/// Turn a non-success response into a classified error.
pub async fn check(
    resp: reqwest::Response,
    what: &str,
) -> Result<reqwest::Response, ProviderError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let body: String = resp.text().await.unwrap_or_default().chars().take(300).collect();
    let msg = format!("{what}: HTTP {status}: {body}");
    if status.as_u16() == 408
        || status.as_u16() == 409
        || status.as_u16() == 429
        || status.is_server_error()
    {
        Err(ProviderError::Retryable(msg))
    } else {
        Err(ProviderError::Terminal(msg))
    }
}

/// Parse a JSON body; an unusable answer is terminal.
pub async fn json<T: serde::de::DeserializeOwned>(
    resp: reqwest::Response,
    what: &str,
) -> Result<T, ProviderError> {
    let bytes = resp.bytes().await.map_err(transport)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ProviderError::Terminal(format!("{what}: unusable answer: {e}")))
}

/// `POST url` with the provider's credential, `extra` headers and a JSON body; the answer
/// classified ([`check`]) and parsed ([`json`]). `what` names the call in errors.
pub async fn post_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: String,
    cred: &Credential,
    extra: &[(&str, &str)],
    body: &serde_json::Value,
    what: &str,
) -> Result<T, ProviderError> {
    let mut req = http.post(url).header(cred.header, &cred.value).json(body);
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.map_err(transport)?;
    json(check(resp, what).await?, what).await
}

/// `GET url` with the provider's credential: the parsed answer, or `None` when the provider
/// answers 404 (it does not know the thing asked about).
pub async fn get_json_or_none<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: String,
    cred: &Credential,
    what: &str,
) -> Result<Option<T>, ProviderError> {
    let resp = http.get(url).header(cred.header, &cred.value).send().await.map_err(transport)?;
    if resp.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    Ok(Some(json(check(resp, what).await?, what).await?))
}

/// A provider's credential header, sent only to the provider's own host.
#[derive(Clone)]
pub struct Credential {
    /// Header name (`Authorization`, `x-goog-api-key`).
    pub header: &'static str,
    /// Its value.
    pub value: String,
    /// The host it may go to (the configured base URL's).
    pub host: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credential({} for {})", self.header, self.host)
    }
}

impl Credential {
    /// `header: value` for the host of `base`.
    pub fn for_base(header: &'static str, value: String, base: &str) -> Self {
        let host = reqwest::Url::parse(base)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        Self { header, value, host }
    }

    fn applies_to(&self, url: &reqwest::Url) -> bool {
        !self.host.is_empty() && url.host_str() == Some(self.host.as_str())
    }
}

/// Download a media file: `http(s)` only, redirects followed by hand (at most three), the
/// credential attached only while the URL is on the provider's own host — a redirect to a
/// storage host gets none — and at most [`MAX_MEDIA_BYTES`].
pub async fn fetch_media(
    http: &reqwest::Client,
    url: &str,
    cred: Option<&Credential>,
    what: &str,
) -> Result<Vec<u8>, ProviderError> {
    let mut url = reqwest::Url::parse(url)
        .map_err(|e| ProviderError::Terminal(format!("{what}: bad URL {url:?}: {e}")))?;
    for _ in 0..4 {
        if !matches!(url.scheme(), "https" | "http") {
            return Err(ProviderError::Terminal(format!("{what}: refusing {} URLs", url.scheme())));
        }
        let mut req = http.get(url.clone());
        if let Some(c) = cred.filter(|c| c.applies_to(&url)) {
            req = req.header(c.header, &c.value);
        }
        let resp = req.send().await.map_err(transport)?;
        if resp.status().is_redirection() {
            let location =
                resp.headers().get("location").and_then(|l| l.to_str().ok()).ok_or_else(|| {
                    ProviderError::Terminal(format!("{what}: redirect without Location"))
                })?;
            url = url
                .join(location)
                .map_err(|e| ProviderError::Terminal(format!("{what}: bad redirect: {e}")))?;
            continue;
        }
        let resp = check(resp, what).await?;
        if resp.content_length().is_some_and(|n| n as usize > MAX_MEDIA_BYTES) {
            return Err(ProviderError::Terminal(format!(
                "{what}: larger than {MAX_MEDIA_BYTES} bytes"
            )));
        }
        let bytes = resp.bytes().await.map_err(transport)?;
        if bytes.len() > MAX_MEDIA_BYTES {
            return Err(ProviderError::Terminal(format!(
                "{what}: larger than {MAX_MEDIA_BYTES} bytes"
            )));
        }
        return Ok(bytes.to_vec());
    }
    Err(ProviderError::Terminal(format!("{what}: too many redirects")))
}
