//! The HTTP client side of `runs` and `dlq`: connection flags and error reporting.

use anyhow::{Context, bail};
use clap::Args;
use serde_json::Value;

/// Where the API is and how to call it.
#[derive(Args, Clone)]
pub struct ApiArgs {
    /// The API's base URL.
    #[arg(long, env = "MYLOWARE_API_URL", default_value = "http://127.0.0.1:8080", global = true)]
    pub api_url: String,
    /// API key (the DLQ commands need one with the admin scope).
    #[arg(
        long,
        env = "MYLOWARE_API_KEY",
        default_value = "",
        hide_env_values = true,
        global = true
    )]
    pub api_key: String,
    /// Print the API's JSON answer.
    #[arg(long, global = true)]
    pub json: bool,
}

impl ApiArgs {
    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api_url.trim_end_matches('/'))
    }

    /// Send with the key; a non-success answer becomes an error naming the API's code.
    pub async fn call(&self, req: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let resp = req
            .header("x-api-key", &self.api_key)
            .send()
            .await
            .with_context(|| format!("calling {}", self.api_url))?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!(
                "{status}: {} ({})",
                body["error"].as_str().unwrap_or("error"),
                body["detail"].as_str().unwrap_or_default()
            );
        }
        if self.json {
            println!("{}", serde_json::to_string_pretty(&body)?);
        }
        Ok(body)
    }
}

/// A JSON string field or "".
pub fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_default()
}
