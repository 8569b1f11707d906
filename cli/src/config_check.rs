//! `myloware config check`: read the environment exactly as `serve` and the Lambda functions
//! do, and say what would run — each provider's mode, where the real ones are, which webhook
//! secrets are set — or, as they would, refuse with the variable to fix (exit status 2).

use clap::Subcommand;
use myloware_runtime::RuntimeConfig;
use myloware_runtime::provider_config::video_secret_var;

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Check the configuration in the environment (no network calls).
    Check,
}

pub fn run(command: ConfigCommand) -> anyhow::Result<()> {
    let ConfigCommand::Check = command;
    let cfg = match RuntimeConfig::from_env() {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("refusing to start: {e}");
            std::process::exit(2);
        }
    };
    let pc = &cfg.providers;
    println!("{}", pc.summary());
    for line in pc.describe() {
        println!("  {line}");
    }
    for (var, who) in pc.needed_secrets() {
        let provider = if var == myloware_runtime::config::ENV_REMOTION_SECRETS {
            &cfg.remotion_secrets
        } else {
            &cfg.video_secrets[&pc.video_adapter]
        };
        let how = match (&provider.stored, provider.literal.len()) {
            (Some(_), _) => "kept in a secret store".to_owned(),
            (None, n) => format!("{n} set"),
        };
        println!("  {var}: {how} ({who})");
    }
    if pc.video_adapter == myloware::domain::Provider::Replicate
        && pc.real.video.is_some()
        && cfg.video_secrets[&pc.video_adapter].is_empty()
    {
        let var = video_secret_var(pc.video_adapter);
        println!(
            "  {var}: not set; read from Replicate (GET /v1/webhooks/default/secret) at start-up"
        );
    }
    let projects: Vec<String> = cfg
        .engine
        .projects
        .iter()
        .map(|e| format!("{} ({})", e.project.name.as_str(), e.version))
        .collect();
    println!("  projects: {}", projects.join(", "));
    println!("config ok");
    Ok(())
}
