//! SDK clients, built once per process from the standard AWS environment (`AWS_ENDPOINT_URL`,
//! `AWS_REGION`, credentials) with a rustls + ring HTTP client.

use std::sync::{Arc, OnceLock};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_http_client::Builder;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

use crate::{CallCounter, SsmClient};

/// The SDK clients the adapters use, each built on first use: a function links (and spends
/// init time on) only the services its code reaches (the webhook never builds S3's, whose
/// endpoint rules and checksums are a megabyte of binary).
#[derive(Clone, Debug)]
pub struct AwsClients(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    conf: SdkConfig,
    /// Counts every request when set (the bench, the call-count tests).
    counter: Option<CallCounter>,
    dynamodb: OnceLock<aws_sdk_dynamodb::Client>,
    sqs: OnceLock<aws_sdk_sqs::Client>,
    s3: OnceLock<aws_sdk_s3::Client>,
    secrets: OnceLock<aws_sdk_secretsmanager::Client>,
    ssm: OnceLock<SsmClient>,
}

/// Load the shared SDK config. Without the explicit HTTP client every call would fail at run
/// time ("No HTTP client was available"), since the default one is not compiled in.
pub async fn load_sdk_config() -> SdkConfig {
    let http = Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    aws_config::defaults(BehaviorVersion::latest()).http_client(http).load().await
}

/// The SDK config inside Lambda, from what Lambda sets for every function: the execution role's
/// credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`),
/// `AWS_REGION`, and `AWS_ENDPOINT_URL` where an emulator stands in. Timeouts, retries and the
/// identity cache are the SDK's defaults for the behaviour version, as [`load_sdk_config`]
/// gives. The default chain's other sources (profiles, web identity through STS, container and
/// instance metadata) never apply there and cost each function about 300 KB of binary.
pub fn lambda_sdk_config() -> SdkConfig {
    let http = Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    let creds = aws_config::environment::EnvironmentVariableCredentialsProvider::new();
    let mut b = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(std::env::var("AWS_REGION").ok().map(aws_config::Region::new))
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .http_client(http);
    if let Some(url) = std::env::var("AWS_ENDPOINT_URL").ok().filter(|u| !u.is_empty()) {
        b = b.endpoint_url(url);
    }
    b.build()
}

/// An accessor building one service's client on first use, counted when the clients are.
macro_rules! client {
    ($(#[$doc:meta])* $name:ident, $sdk:ident $(, $extra:ident($arg:expr))?) => {
        $(#[$doc])*
        pub fn $name(&self) -> &$sdk::Client {
            self.0.$name.get_or_init(|| {
                let mut b = $sdk::config::Builder::from(&self.0.conf);
                $(b = b.$extra($arg(&self.0.conf));)?
                if let Some(c) = &self.0.counter {
                    b = b.interceptor(c.clone());
                }
                $sdk::Client::from_conf(b.build())
            })
        }
    };
}

impl AwsClients {
    /// Clients from an SDK config.
    pub fn new(conf: &SdkConfig) -> Self {
        Self::with(conf, None)
    }

    /// Clients whose every request is counted by `counter`.
    pub fn counted(conf: &SdkConfig, counter: &CallCounter) -> Self {
        Self::with(conf, Some(counter.clone()))
    }

    fn with(conf: &SdkConfig, counter: Option<CallCounter>) -> Self {
        Self(Arc::new(Inner {
            conf: conf.clone(),
            counter,
            dynamodb: OnceLock::new(),
            sqs: OnceLock::new(),
            s3: OnceLock::new(),
            secrets: OnceLock::new(),
            ssm: OnceLock::new(),
        }))
    }

    /// Clients from the environment (the SDK's default chain: profiles, SSO, metadata, …).
    pub async fn from_env() -> Self {
        Self::new(&load_sdk_config().await)
    }

    /// Clients inside a Lambda function ([`lambda_sdk_config`]).
    pub fn from_lambda_env() -> Self {
        Self::new(&lambda_sdk_config())
    }

    client!(/// DynamoDB.
        dynamodb, aws_sdk_dynamodb);
    client!(/// SQS.
        sqs, aws_sdk_sqs);
    client!(/// S3 (path-style when a custom endpoint is set, as emulators need).
        s3, aws_sdk_s3, force_path_style(|c: &SdkConfig| c.endpoint_url().is_some()));
    client!(/// Secrets Manager (webhook secrets, API key hashes).
        secrets, aws_sdk_secretsmanager);

    /// SSM Parameter Store (the alternative secret store): `GetParameter` only (`ssm.rs`).
    pub fn ssm(&self) -> &SsmClient {
        self.0.ssm.get_or_init(|| SsmClient::new(&self.0.conf, self.0.counter.clone()))
    }
}
