//! Sends provider callbacks over real HTTP to a webhook endpoint (the fakes use it in serve mode
//! and in tests, exactly as a provider would).

use async_trait::async_trait;
use myloware::ports::{CallbackSink, Delivery};

/// POSTs deliveries to `base_url` + their path.
#[derive(Debug, Clone)]
pub struct HttpCallbackSink {
    base_url: String,
    client: reqwest::Client,
}

impl HttpCallbackSink {
    /// A sink for the webhook endpoint at `base_url` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
        }
    }
}

impl HttpCallbackSink {
    /// Where a delivery for `path` goes. A path that already carries the base URL's own path (a
    /// renderer calling back to the full callback URL it was given, when the API lives under a
    /// path prefix) is joined to the origin only.
    fn target(&self, path: &str) -> String {
        let after_scheme = self.base_url.find("://").map(|i| i + 3).unwrap_or(0);
        let (origin, base_path) = match self.base_url[after_scheme..].find('/') {
            Some(i) => self.base_url.split_at(after_scheme + i),
            None => (self.base_url.as_str(), ""),
        };
        if !base_path.is_empty() && path.starts_with(base_path) {
            format!("{origin}{path}")
        } else {
            format!("{}{path}", self.base_url)
        }
    }
}

#[async_trait]
impl CallbackSink for HttpCallbackSink {
    async fn deliver(&self, d: &Delivery) -> Result<u16, String> {
        let mut req = self.client.post(self.target(&d.path)).body(d.body.clone());
        for (k, v) in &d.headers {
            req = req.header(k, v);
        }
        let resp = req.send().await.map_err(|e| e.to_string())?;
        Ok(resp.status().as_u16())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_the_base_once() {
        let plain = HttpCallbackSink::new("http://127.0.0.1:8080/");
        assert_eq!(plain.target("/v1/webhooks/openai"), "http://127.0.0.1:8080/v1/webhooks/openai");
        let prefixed = HttpCallbackSink::new("http://h:1/_aws/execute-api/abc/$default");
        assert_eq!(
            prefixed.target("/v1/webhooks/openai"),
            "http://h:1/_aws/execute-api/abc/$default/v1/webhooks/openai"
        );
        assert_eq!(
            prefixed.target("/_aws/execute-api/abc/$default/v1/webhooks/remotion?run_id=r"),
            "http://h:1/_aws/execute-api/abc/$default/v1/webhooks/remotion?run_id=r"
        );
    }
}
