//! `myloware infra bootstrap`: create the table, step queue + DLQ and bucket from the one
//! definition in `myloware_aws::resources`, and print the env vars that point functions at them.

use clap::Subcommand;
use myloware_aws::AwsClients;
use myloware_aws::resources::{ResourceNames, bootstrap};

#[derive(Subcommand)]
pub enum InfraCommand {
    /// Create the resources (idempotent) and print `export` lines for them.
    Bootstrap {
        /// Name prefix of every resource.
        #[arg(long, default_value = "myloware")]
        prefix: String,
    },
    /// Print the entry for an API key in `MYLOWARE_API_KEY_HASHES` / the api-key-hashes secret
    /// (its SHA-256 digest; the key itself is never stored).
    HashKey {
        /// The API key.
        key: String,
        /// Give the key the admin scope (`/v1/admin/*`, and everything operators may).
        #[arg(long)]
        admin: bool,
        /// Give the key the operator scope (resume and fork runs).
        #[arg(long, conflicts_with = "admin")]
        operator: bool,
    },
}

pub async fn run(cmd: InfraCommand) -> anyhow::Result<()> {
    match cmd {
        InfraCommand::Bootstrap { prefix } => {
            let clients = AwsClients::from_env().await;
            let res =
                bootstrap(&clients, &ResourceNames::with_prefix(&prefix)).await.map_err(|e| {
                    anyhow::anyhow!("bootstrap failed: {e} (is AWS_ENDPOINT_URL / LocalStack up?)")
                })?;
            for (k, v) in res.env() {
                println!("export {k}={v}");
            }
            Ok(())
        }
        InfraCommand::HashKey { key, admin, operator } => {
            anyhow::ensure!(key.len() >= 16, "use a key of at least 16 characters");
            let scope = match (admin, operator) {
                (true, _) => myloware_http::Scope::Admin,
                (_, true) => myloware_http::Scope::Operator,
                _ => myloware_http::Scope::Runs,
            };
            println!("{}", myloware_http::hash_entry(&key, scope));
            Ok(())
        }
    }
}
