//! `myloware`: the operator and developer CLI.

mod client;
mod config_check;
mod demo;
mod dlq;
mod embedded;
mod eval;
mod fake_providers;
mod infra;
mod projects;
mod run_report;
mod runs;
mod serve;
mod sweep;
mod watch;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "myloware", version, about = "MyloWare: durable, webhook-driven AI video runs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check the configuration in the environment: provider modes, real providers' settings,
    /// webhook secrets; refuses as `serve` and the functions would.
    Config {
        #[command(subcommand)]
        command: config_check::ConfigCommand,
    },
    /// Run one whole video run in this process (no AWS, no keys) and print a summary.
    Demo(demo::DemoArgs),
    /// Measure quality: score a project's ideation over a dataset with a judge.
    Eval {
        #[command(subcommand)]
        command: eval::EvalCommand,
    },
    /// Manage the AWS resources (table, queues, bucket).
    Infra {
        #[command(subcommand)]
        command: infra::InfraCommand,
    },
    /// List, show and validate projects (what goes into a video).
    Projects {
        #[command(subcommand)]
        command: projects::ProjectsCommand,
    },
    /// Run the API + webhook HTTP surfaces and the step runner in one long-lived process.
    Serve(serve::ServeArgs),
    /// Run the fake provider server (OpenAI-, Remotion- and Upload-Post-style APIs).
    FakeProviders(fake_providers::FakeProvidersArgs),
    /// Start, show, list, decide, resume, cancel and fork runs through a running API.
    Runs(runs::RunsArgs),
    /// Inspect, replay, redrive and resolve the step queue's dead letters (admin API).
    Dlq(dlq::DlqArgs),
    /// One sweeper pass: restart runs that stopped moving, time out overdue waits.
    Sweep(sweep::SweepArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match &cli.command {
        // The demo talks to a person: quiet, readable logs unless asked otherwise.
        Command::Demo(_)
        | Command::Runs(_)
        | Command::Dlq(_)
        | Command::Config { .. }
        | Command::Projects { .. }
        | Command::Eval { .. } => myloware_runtime::telemetry::init_with("warn", true),
        _ => myloware_runtime::telemetry::init(),
    }
    match cli.command {
        Command::Config { command } => config_check::run(command),
        Command::Demo(args) => demo::run(args).await,
        Command::Eval { command } => eval::run(command).await,
        Command::Infra { command } => infra::run(command).await,
        Command::Projects { command } => projects::run(command),
        Command::Serve(args) => serve::run(args).await,
        Command::FakeProviders(args) => fake_providers::run(args).await,
        Command::Runs(args) => runs::run(args).await,
        Command::Dlq(args) => dlq::run(args).await,
        Command::Sweep(args) => sweep::run(args).await,
    }
}
