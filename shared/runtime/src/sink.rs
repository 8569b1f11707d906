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

#[async_trait]
impl CallbackSink for HttpCallbackSink {
    async fn deliver(&self, d: &Delivery) -> Result<u16, String> {
        let mut req = self.client.post(format!("{}{}", self.base_url, d.path)).body(d.body.clone());
        for (k, v) in &d.headers {
            req = req.header(k, v);
        }
        let resp = req.send().await.map_err(|e| e.to_string())?;
        Ok(resp.status().as_u16())
    }
}
