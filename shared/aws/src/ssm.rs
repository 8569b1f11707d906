//! SSM Parameter Store's `GetParameter`: the one SSM operation MyloWare uses (reading a
//! SecureString secret, decrypted), signed with SigV4 by `aws-sigv4` (the signer the SDK itself
//! uses) with the SDK config's region, endpoint and credentials, and sent with reqwest.
//!
//! Not `aws-sdk-ssm`: that crate compiles all of SSM's API for this one call, and was the largest
//! crate in the build (measured: 160 of the 968 CPU-seconds of the x86_64 release build of the
//! bench and the five functions, ahead of S3's 96, and again in every other profile).

use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use serde_json::{Value, json};

use crate::CallCounter;

/// Attempts per call: throttling, a 5xx or a connection failure is retried (as the SDK's
/// standard retry mode does).
const ATTEMPTS: u32 = 3;

/// A `GetParameter` caller for one SDK config.
#[derive(Debug, Clone)]
pub struct SsmClient {
    conf: SdkConfig,
    endpoint: String,
    http: reqwest::Client,
    counter: Option<CallCounter>,
    /// The signing time (the clock; fixed in tests).
    now: fn() -> SystemTime,
}

impl SsmClient {
    /// A client for `conf`'s region and endpoint (`AWS_ENDPOINT_URL_SSM`, else the config's
    /// endpoint URL, else SSM's regional endpoint: FIPS and dual-stack as the config says); every
    /// attempt counted by `counter` when given.
    pub(crate) fn new(conf: &SdkConfig, counter: Option<CallCounter>) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            .build()
            .expect("a TLS client");
        Self { conf: conf.clone(), endpoint: endpoint(conf), http, counter, now: SystemTime::now }
    }

    /// The decrypted value of parameter `name`.
    pub async fn get_parameter(&self, name: &str) -> Result<String, String> {
        let body = json!({ "Name": name, "WithDecryption": true }).to_string();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.attempt(&body).await {
                Ok(v) => {
                    return v["Parameter"]["Value"]
                        .as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| "no value".to_owned());
                }
                Err((why, retry)) if !retry || attempt >= ATTEMPTS => return Err(why),
                Err(_) => tokio::time::sleep(Duration::from_millis(100 << attempt)).await,
            }
        }
    }

    /// One signed request; `Err((why, retryable))`.
    async fn attempt(&self, body: &str) -> Result<Value, (String, bool)> {
        let fail = |why: String| (why, false);
        let region = self.conf.region().ok_or_else(|| fail("no AWS region is set".into()))?;
        let creds = self
            .conf
            .credentials_provider()
            .ok_or_else(|| fail("no AWS credentials are configured".into()))?
            .provide_credentials()
            .await
            .map_err(|e| fail(format!("AWS credentials: {e}")))?;
        let identity = creds.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region.as_ref())
            .name("ssm")
            .time((self.now)())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| fail(format!("signing: {e}")))?
            .into();
        let headers = [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "AmazonSSM.GetParameter"),
        ];
        let signable = SignableRequest::new(
            "POST",
            &self.endpoint,
            headers.iter().copied(),
            SignableBody::Bytes(body.as_bytes()),
        )
        .map_err(|e| fail(format!("signing: {e}")))?;
        let (signed, _) =
            sign(signable, &params).map_err(|e| fail(format!("signing: {e}")))?.into_parts();
        let mut req = self.http.post(&self.endpoint).body(body.to_owned());
        for (k, v) in headers.into_iter().chain(signed.headers()) {
            req = req.header(k, v);
        }
        if let Some(c) = &self.counter {
            c.record("SSM", "GetParameter");
        }
        let resp = req.send().await.map_err(|e| (format!("{}: {e}", self.endpoint), true))?;
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(v);
        }
        // awsJson1.1 errors: `{"__type": "[namespace#]Code", "message": "…"}`.
        let code = v["__type"].as_str().unwrap_or("").rsplit('#').next().unwrap_or("").to_owned();
        let message = v["message"].as_str().or(v["Message"].as_str()).unwrap_or("");
        let retry = status.is_server_error() || status.as_u16() == 429 || code.contains("Throttl");
        Err((format!("{code} (HTTP {}): {message}", status.as_u16()), retry))
    }
}

/// Where SSM is: `AWS_ENDPOINT_URL_SSM`, the config's endpoint URL (an emulator), or the regional
/// endpoint (FIPS and dual-stack as the config says; `.com.cn` in the China regions).
fn endpoint(conf: &SdkConfig) -> String {
    let set = |v: Option<String>| v.filter(|v| !v.is_empty());
    if let Some(url) = set(std::env::var("AWS_ENDPOINT_URL_SSM").ok())
        .or_else(|| set(conf.endpoint_url().map(str::to_owned)))
    {
        return url;
    }
    let region = conf.region().map(|r| r.as_ref().to_owned()).unwrap_or_default();
    let host = if conf.use_fips().unwrap_or(false) { "ssm-fips" } else { "ssm" };
    let domain = match (region.starts_with("cn-"), conf.use_dual_stack().unwrap_or(false)) {
        (true, _) => "amazonaws.com.cn",
        (false, true) => "api.aws",
        (false, false) => "amazonaws.com",
    };
    format!("https://{host}.{region}.{domain}")
}

#[cfg(test)]
mod tests {
    use aws_config::{BehaviorVersion, Region};

    use super::*;

    fn conf(region: &str, fips: bool, dual: bool) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .use_fips(fips)
            .use_dual_stack(dual)
            .build()
    }

    /// What went over the wire verifies: the server side recomputes the signature from the
    /// request it received (its signed headers as received, its body) and gets the same one.
    #[tokio::test]
    async fn the_request_on_the_wire_carries_a_signature_that_verifies() {
        use aws_credential_types::Credentials;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let creds = Credentials::new("AKIDTEST", "secret/key", Some("session".into()), None, "t");
        let conf = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .endpoint_url(&url)
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
                creds.clone(),
            ))
            .build();
        let counter = CallCounter::default();
        let mut client = SsmClient::new(&conf, Some(counter.clone()));
        client.now = || SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_000_000);
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut raw = Vec::new();
            let mut buf = [0u8; 4096];
            while !String::from_utf8_lossy(&raw).contains("WithDecryption") {
                let n = s.read(&mut buf).await.unwrap();
                raw.extend_from_slice(&buf[..n]);
            }
            let body = r#"{"Parameter":{"Name":"/p","Value":"the value"}}"#;
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
            s.write_all((head + body).as_bytes()).await.unwrap();
            String::from_utf8(raw).unwrap()
        });
        assert_eq!(client.get_parameter("/p").await.unwrap(), "the value");
        let raw = server.await.unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        let headers: Vec<(String, String)> = head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let header = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let auth = header("authorization").expect("signed");
        let signed_names = auth.split("SignedHeaders=").nth(1).unwrap().split(',').next().unwrap();
        assert_eq!(signed_names, "content-type;host;x-amz-date;x-amz-security-token;x-amz-target");
        assert_eq!(header("x-amz-target").as_deref(), Some("AmazonSSM.GetParameter"));
        assert_eq!(header("x-amz-security-token").as_deref(), Some("session"));
        assert_eq!(
            serde_json::from_str::<Value>(body).unwrap(),
            json!({"Name": "/p", "WithDecryption": true})
        );

        // Sign again from what arrived; host and the rest as received.
        let received: Vec<(String, String)> = signed_names
            .split(';')
            .filter(|n| !n.starts_with("x-amz-date") && !n.starts_with("x-amz-security"))
            .map(|n| (n.to_owned(), header(n).unwrap()))
            .collect();
        let identity = creds.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("eu-west-1")
            .name("ssm")
            .time(SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_000_000))
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let again = SignableRequest::new(
            "POST",
            format!("{url}/"),
            received.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body.as_bytes()),
        )
        .unwrap();
        let (_, signature) = sign(again, &params).unwrap().into_parts();
        assert!(auth.ends_with(&format!("Signature={signature}")), "{auth} vs {signature}");
        assert_eq!(counter.total(), 1, "the attempt was counted");
    }

    #[test]
    fn the_regional_endpoint_follows_the_config() {
        assert_eq!(
            endpoint(&conf("eu-west-1", false, false)),
            "https://ssm.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            endpoint(&conf("us-east-1", true, false)),
            "https://ssm-fips.us-east-1.amazonaws.com"
        );
        assert_eq!(endpoint(&conf("us-west-2", false, true)), "https://ssm.us-west-2.api.aws");
        assert_eq!(
            endpoint(&conf("cn-north-1", false, false)),
            "https://ssm.cn-north-1.amazonaws.com.cn"
        );
        let emulator = SdkConfig::builder().endpoint_url("http://127.0.0.1:4566").build();
        assert_eq!(endpoint(&emulator), "http://127.0.0.1:4566");
    }
}
