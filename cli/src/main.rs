//! `myloware`: the operator and developer CLI.

mod demo;
mod infra;
mod serve;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "myloware", version, about = "MyloWare: durable, webhook-driven AI video runs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one whole video run in this process (no AWS, no keys) and print a summary.
    Demo(demo::DemoArgs),
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
    let cli = Cli::parse();
    match &cli.command {
        // The demo talks to a person: quiet, readable logs unless asked otherwise.
        Command::Demo(_) => myloware_runtime::telemetry::init_with("warn", true),
        _ => myloware_runtime::telemetry::init(),
    }
    match cli.command {
        Command::Demo(args) => demo::run(args).await,
        Command::Infra { command } => infra::run(command).await,
        Command::Serve(args) => serve::run(args).await,
    }
}
