//! `myloware dlq list|show|replay|redrive|resolve`: the step queue's dead letters, through the
//! admin API (either backend).

use std::time::Duration;

use anyhow::bail;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::client::{ApiArgs, s};

#[derive(Args)]
pub struct DlqArgs {
    #[command(flatten)]
    api: ApiArgs,
    #[command(subcommand)]
    command: DlqCommand,
}

#[derive(Subcommand)]
enum DlqCommand {
    /// Messages in the DLQ, oldest first: run, step, error, attempts, age.
    List {
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// One message with its body and its run's error.
    Show {
        /// DLQ message id.
        message_id: String,
    },
    /// Send one message back to the step queue and delete it from the DLQ.
    Replay {
        /// DLQ message id.
        message_id: String,
    },
    /// Move every message back to the step queue, showing progress until done.
    Redrive {
        /// Return once the move started.
        #[arg(long)]
        no_wait: bool,
    },
    /// Delete one message without running it (audited on its run).
    Resolve {
        /// DLQ message id.
        message_id: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
}

fn line(m: &Value) {
    let err = &m["error"];
    println!(
        "{}  run {}  {:<16} attempts {:<3} age {:>6}s  {}",
        s(m, "message_id"),
        m["run_id"].as_str().unwrap_or("(unparseable)"),
        s(m, "step"),
        m["attempts"].as_u64().map(|a| a.to_string()).unwrap_or_else(|| "-".into()),
        m["age_secs"].as_u64().unwrap_or(0),
        if err.is_null() {
            String::new()
        } else {
            format!("{}: {}", s(err, "code"), s(err, "message"))
        }
    );
}

pub async fn run(args: DlqArgs) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let api = &args.api;
    match &args.command {
        DlqCommand::List { limit } => {
            let body =
                api.call(http.get(api.url("/v1/admin/dlq")).query(&[("limit", limit)])).await?;
            if !api.json {
                let msgs = body["messages"].as_array().cloned().unwrap_or_default();
                msgs.iter().for_each(line);
                println!("{} message(s)", msgs.len());
            }
        }
        DlqCommand::Show { message_id } => {
            let body = api.call(http.get(api.url(&format!("/v1/admin/dlq/{message_id}")))).await?;
            if !api.json {
                line(&body);
                println!("body: {}", s(&body, "body"));
            }
        }
        DlqCommand::Replay { message_id } | DlqCommand::Resolve { message_id, .. } => {
            let (verb, payload) = match &args.command {
                DlqCommand::Resolve { reason, .. } => ("resolve", json!({ "reason": reason })),
                _ => ("replay", json!({})),
            };
            let url = api.url(&format!("/v1/admin/dlq/{message_id}/{verb}"));
            let body = api.call(http.post(url).json(&payload)).await?;
            if !api.json {
                println!(
                    "{} {} (run {})",
                    s(&body, "message_id"),
                    s(&body, "action"),
                    s(&body, "run_id")
                );
            }
        }
        DlqCommand::Redrive { no_wait } => {
            let task = api.call(http.post(api.url("/v1/admin/dlq/redrive"))).await?;
            let handle = s(&task, "handle").to_owned();
            if *no_wait {
                println!("redrive started: {handle}");
                return Ok(());
            }
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            for _ in 0..1200 {
                let url = api.url("/v1/admin/dlq/redrive");
                let found = api.call(http.get(url).query(&[("handle", &handle)])).await?;
                let t = found["task"].clone();
                let (status, moved) = (s(&t, "status"), t["moved"].as_u64().unwrap_or(0));
                match t["total"].as_u64() {
                    Some(total) => bar.set_message(format!("{status}: {moved}/{total} moved")),
                    None => bar.set_message(format!("{status}: {moved} moved")),
                }
                match status {
                    "COMPLETED" => {
                        bar.finish_and_clear();
                        println!("redrive completed: {moved} moved");
                        return Ok(());
                    }
                    "FAILED" | "CANCELLED" => {
                        bar.abandon();
                        bail!("redrive {status}: {}", s(&t, "failure"));
                    }
                    _ => tokio::time::sleep(Duration::from_millis(250)).await,
                }
            }
            bail!("redrive still running after 5 minutes; check `dlq redrive --no-wait` later");
        }
    }
    Ok(())
}
