//! Reading secret values from AWS Secrets Manager or SSM Parameter Store (SecureString).

use crate::AwsClients;

/// Where a secret lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// The value itself (from the environment).
    Literal(String),
    /// A Secrets Manager secret id or ARN (`secretsmanager:<id>`).
    SecretsManager(String),
    /// An SSM parameter name (`ssm:<name>`), decrypted.
    Ssm(String),
}

impl SecretRef {
    /// Parse a configured value: `secretsmanager:<id>`, `ssm:<name>`, or a literal.
    pub fn parse(raw: &str) -> Self {
        if let Some(id) = raw.strip_prefix("secretsmanager:") {
            SecretRef::SecretsManager(id.to_owned())
        } else if let Some(name) = raw.strip_prefix("ssm:") {
            SecretRef::Ssm(name.to_owned())
        } else {
            SecretRef::Literal(raw.to_owned())
        }
    }

    /// Read the current value.
    pub async fn fetch(&self, clients: &AwsClients) -> Result<String, String> {
        match self {
            SecretRef::Literal(v) => Ok(v.clone()),
            SecretRef::SecretsManager(id) => clients
                .secrets()
                .get_secret_value()
                .secret_id(id)
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "Secrets Manager {id}: {}",
                        aws_sdk_secretsmanager::error::DisplayErrorContext(e)
                    )
                })?
                .secret_string
                .ok_or_else(|| format!("Secrets Manager {id}: no string value")),
            SecretRef::Ssm(name) => {
                clients.ssm().get_parameter(name).await.map_err(|e| format!("SSM {name}: {e}"))
            }
        }
    }
}
