//! `myloware`: the operator and developer CLI.

mod infra;
mod serve;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "myloware",
    version,
    about = "MyloWare: durable, webhook-driven AI video runs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Manage the AWS resources (table, queues, bucket).
    Infra {
        #[command(subcommand)]
        command: infra::InfraCommand,
    },
    /// Run the API + webhook HTTP surfaces and the step runner in one long-lived process.
    Serve(serve::ServeArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    myloware_runtime::telemetry::init();
    match Cli::parse().command {
        Command::Infra { command } => infra::run(command).await,
        Command::Serve(args) => serve::run(args).await,
    }
}
