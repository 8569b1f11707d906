//! Notification requests over HTTP: the engine's [`NoticeSender`].

use std::time::Duration;

use async_trait::async_trait;
use myloware::ports::{NoticeSender, PostOutcome};

/// How long an endpoint may take to answer. Short: a slow endpoint is retried later, and a
/// delivery shares its worker with the runs' steps.
pub const NOTICE_TIMEOUT: Duration = Duration::from_secs(5);

/// Posts notifications with its own client: no redirect followed (a 3xx is a failed attempt),
/// no credential but the signature, and only the answer's status read.
#[derive(Clone)]
pub struct HttpNoticeSender {
    http: reqwest::Client,
}

impl Default for HttpNoticeSender {
    fn default() -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(NOTICE_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("myloware/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("HTTP client");
        Self { http }
    }
}

#[async_trait]
impl NoticeSender for HttpNoticeSender {
    async fn post(&self, url: &str, headers: &[(&str, String)], body: &str) -> PostOutcome {
        let mut req = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_owned());
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        match req.send().await {
            Ok(resp) => PostOutcome::Answered(resp.status().as_u16()),
            // Without the URL: an endpoint's query string may carry a token.
            Err(e) => PostOutcome::Unreachable(describe(&e.without_url())),
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut why = kind.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        why = format!("{why}: {s}");
        source = s.source();
    }
    why
}
