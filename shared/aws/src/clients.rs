//! SDK clients, built once per process from the standard AWS environment (`AWS_ENDPOINT_URL`,
//! `AWS_REGION`, credentials) with a rustls + ring HTTP client.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::Builder;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

/// The three clients the adapters use.
#[derive(Clone, Debug)]
pub struct AwsClients {
    /// DynamoDB.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
    /// S3 (path-style when a custom endpoint is set, as emulators need).
    pub s3: aws_sdk_s3::Client,
    /// Secrets Manager (webhook secrets, API key hashes).
    pub secrets: aws_sdk_secretsmanager::Client,
    /// SSM Parameter Store (the alternative secret store).
    pub ssm: aws_sdk_ssm::Client,
}

/// Load the shared SDK config. Without the explicit HTTP client every call would fail at run
/// time ("No HTTP client was available"), since the default one is not compiled in.
pub async fn load_sdk_config() -> SdkConfig {
    let http = Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    aws_config::defaults(BehaviorVersion::latest()).http_client(http).load().await
}

impl AwsClients {
    /// Clients from an SDK config.
    pub fn new(conf: &SdkConfig) -> Self {
        let s3_conf = aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(conf.endpoint_url().is_some())
            .build();
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(conf),
            sqs: aws_sdk_sqs::Client::new(conf),
            s3: aws_sdk_s3::Client::from_conf(s3_conf),
            secrets: aws_sdk_secretsmanager::Client::new(conf),
            ssm: aws_sdk_ssm::Client::new(conf),
        }
    }

    /// Clients whose every request is counted by `counter`.
    pub fn counted(conf: &SdkConfig, counter: &crate::CallCounter) -> Self {
        let c = counter.clone();
        let s3_conf = aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(conf.endpoint_url().is_some())
            .interceptor(c.clone())
            .build();
        Self {
            dynamodb: aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(conf).interceptor(c.clone()).build(),
            ),
            sqs: aws_sdk_sqs::Client::from_conf(
                aws_sdk_sqs::config::Builder::from(conf).interceptor(c.clone()).build(),
            ),
            s3: aws_sdk_s3::Client::from_conf(s3_conf),
            secrets: aws_sdk_secretsmanager::Client::from_conf(
                aws_sdk_secretsmanager::config::Builder::from(conf).interceptor(c.clone()).build(),
            ),
            ssm: aws_sdk_ssm::Client::from_conf(
                aws_sdk_ssm::config::Builder::from(conf).interceptor(c).build(),
            ),
        }
    }

    /// Clients from the environment.
    pub async fn from_env() -> Self {
        Self::new(&load_sdk_config().await)
    }
}
