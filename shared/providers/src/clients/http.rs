//! The shared HTTP client for provider APIs and its error classification (media files from
//! URLs that came from outside: `media.rs`).

use std::time::Duration;

use myloware::ports::ProviderError;

/// The longest a provider call may take, answer included. Kept well below the step
/// function's timeout (the template parity test checks it), so a slow provider fails the call,
/// a retryable error, rather than the function being killed mid-answer.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// One client for all providers: rustls with ring and the webpki roots (as the AWS SDK uses).
/// It follows no redirect: an API that answers one is not followed anywhere.
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
    cred: &super::media::Credential,
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
    cred: &super::media::Credential,
    what: &str,
) -> Result<Option<T>, ProviderError> {
    let resp = http.get(url).header(cred.header, &cred.value).send().await.map_err(transport)?;
    if resp.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    Ok(Some(json(check(resp, what).await?, what).await?))
}
