//! `myloware sweep`: one sweeper pass (what the scheduled sweeper Lambda does), against the
//! embedded data directory or the AWS resources in the environment.

use std::path::PathBuf;

use clap::Args;
use myloware_aws::{AwsClients, Resources};
use myloware_runtime::wiring::{Fakes, providers};
use myloware_runtime::{RuntimeConfig, aws_engine};

use crate::embedded;
use crate::serve::Backend;

#[derive(Args)]
pub struct SweepArgs {
    /// Storage backend.
    #[arg(long, value_enum, default_value = "embedded")]
    backend: Backend,
    /// Data directory (embedded backend).
    #[arg(long, default_value = embedded::DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// Stop after this long (a later pass goes on where this one stopped), e.g. `30s`.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    budget: std::time::Duration,
}

pub async fn run(args: SweepArgs) -> anyhow::Result<()> {
    let mut cfg = RuntimeConfig::from_env()?;
    // Fakes here answer status polls from the job ids alone (the jobs live in another process).
    let providers = providers(&cfg, Fakes::InProcess)?;
    let engine = match args.backend {
        Backend::Embedded => embedded::engine(&args.data_dir, &mut cfg, providers)?.1,
        Backend::Aws => {
            let resources = Resources::from_env().map_err(anyhow::Error::msg)?;
            aws_engine(&AwsClients::from_env().await, &resources, &cfg, providers)?
        }
    };
    let report = engine.sweep(args.budget).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
