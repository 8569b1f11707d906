//! `myloware runs start|get|list|approve|reject`: talk to a running API.

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

#[derive(Args)]
pub struct RunsArgs {
    /// The API's base URL.
    #[arg(long, env = "MYLOWARE_API_URL", default_value = "http://127.0.0.1:8080", global = true)]
    api_url: String,
    /// API key.
    #[arg(
        long,
        env = "MYLOWARE_API_KEY",
        default_value = "",
        hide_env_values = true,
        global = true
    )]
    api_key: String,
    /// Print the API's JSON answer.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: RunsCommand,
}

#[derive(Subcommand)]
enum RunsCommand {
    /// Start a run.
    Start {
        /// The brief.
        #[arg(long)]
        brief: String,
        /// Clips to produce.
        #[arg(long)]
        clips: Option<u32>,
        /// Project (workflow) name.
        #[arg(long)]
        project: Option<String>,
        /// Makes a retried start return the same run.
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// Show a run.
    Get {
        /// Run id.
        id: String,
    },
    /// List runs, newest first.
    List {
        /// Only this status.
        #[arg(long)]
        status: Option<String>,
        /// Page size.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Cursor from the previous page.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Approve a gate.
    Approve(Decide),
    /// Reject a gate.
    Reject(Decide),
    /// Continue a failed or stalled run from the step that failed.
    Resume {
        /// Run id.
        id: String,
    },
}

#[derive(Args)]
struct Decide {
    /// Run id.
    id: String,
    /// `ideation` or `publish`.
    #[arg(long)]
    gate: String,
    /// Optional comment.
    #[arg(long)]
    comment: Option<String>,
}

pub async fn run(args: RunsArgs) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let base = args.api_url.trim_end_matches('/');
    let req = match &args.command {
        RunsCommand::Start { brief, clips, project, idempotency_key } => {
            let mut r = http
                .post(format!("{base}/v1/runs"))
                .json(&json!({ "brief": brief, "clips": clips, "project": project }));
            if let Some(k) = idempotency_key {
                r = r.header("Idempotency-Key", k);
            }
            r
        }
        RunsCommand::Get { id } => http.get(format!("{base}/v1/runs/{id}")),
        RunsCommand::Resume { id } => http.post(format!("{base}/v1/runs/{id}/resume")),
        RunsCommand::List { status, limit, cursor } => {
            let mut q = vec![("limit", limit.to_string())];
            q.extend(status.clone().map(|s| ("status", s)));
            q.extend(cursor.clone().map(|c| ("cursor", c)));
            http.get(format!("{base}/v1/runs")).query(&q)
        }
        RunsCommand::Approve(d) | RunsCommand::Reject(d) => {
            let verb =
                if matches!(args.command, RunsCommand::Approve(_)) { "approve" } else { "reject" };
            http.post(format!("{base}/v1/runs/{}/{verb}", d.id))
                .json(&json!({ "gate": d.gate, "comment": d.comment }))
        }
    };
    let resp = req
        .header("x-api-key", &args.api_key)
        .send()
        .await
        .with_context(|| format!("calling {base}"))?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!(
            "{status}: {} ({})",
            body["error"].as_str().unwrap_or("error"),
            body["detail"].as_str().unwrap_or_default()
        );
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&body)?);
        return Ok(());
    }
    match &args.command {
        RunsCommand::List { .. } => {
            for r in body["runs"].as_array().into_iter().flatten() {
                println!(
                    "{}  {:<28} {:<18} {}",
                    r["run_id"].as_str().unwrap_or_default(),
                    r["status"].as_str().unwrap_or_default(),
                    r["current_step"].as_str().unwrap_or_default(),
                    r["created_at"].as_str().unwrap_or_default()
                );
            }
            if let Some(c) = body["next_cursor"].as_str() {
                println!("next page: --cursor {c}");
            }
        }
        _ => println!(
            "{}  {}  {}",
            body["run_id"].as_str().unwrap_or_default(),
            body["status"].as_str().unwrap_or_default(),
            body["current_step"].as_str().unwrap_or_default()
        ),
    }
    Ok(())
}
