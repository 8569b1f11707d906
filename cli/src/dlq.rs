//! `myloware dlq list|show|replay|redrive|resolve`: the step queue's dead letters, through the
//! admin API (either backend).

use std::time::Duration;

use anyhow::bail;
use clap::{Args, Subcommand};
use myloware::engine::{DeadLetterView, DlqAction};
use myloware_http::api::{DlqList, ResolveBody, TaskFound, TaskView};

use crate::client::ApiArgs;

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

fn line(m: &DeadLetterView) {
    println!(
        "{}  run {}  {:<16} attempts {:<3} age {:>6}s  {}",
        m.message_id,
        m.run_id.map_or_else(|| "(unparseable)".to_owned(), |r| r.to_string()),
        m.step.map(|s| s.to_string()).unwrap_or_default(),
        m.attempts.map_or_else(|| "-".to_owned(), |a| a.to_string()),
        m.age_secs.unwrap_or(0),
        m.error.as_ref().map(|e| format!("{}: {}", e.code, e.message)).unwrap_or_default()
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
                let list: DlqList = serde_json::from_value(body)?;
                list.messages.iter().for_each(line);
                println!("{} message(s)", list.messages.len());
            }
        }
        DlqCommand::Show { message_id } => {
            let body = api.call(http.get(api.url(&format!("/v1/admin/dlq/{message_id}")))).await?;
            if !api.json {
                let m: DeadLetterView = serde_json::from_value(body)?;
                line(&m);
                println!("body: {}", m.body);
            }
        }
        DlqCommand::Replay { message_id } | DlqCommand::Resolve { message_id, .. } => {
            let (verb, payload) = match &args.command {
                DlqCommand::Resolve { reason, .. } => {
                    ("resolve", ResolveBody { reason: reason.clone() })
                }
                _ => ("replay", ResolveBody::default()),
            };
            let url = api.url(&format!("/v1/admin/dlq/{message_id}/{verb}"));
            let body = api.call(http.post(url).json(&payload)).await?;
            if !api.json {
                let done: DlqAction = serde_json::from_value(body)?;
                let run = done.run_id.map(|r| r.to_string()).unwrap_or_default();
                println!("{} {} (run {run})", done.message_id, done.action);
            }
        }
        DlqCommand::Redrive { no_wait } => {
            let task: TaskView = serde_json::from_value(
                api.call(http.post(api.url("/v1/admin/dlq/redrive"))).await?,
            )?;
            let handle = task.handle;
            if *no_wait {
                println!("redrive started: {handle}");
                return Ok(());
            }
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            for _ in 0..1200 {
                let url = api.url("/v1/admin/dlq/redrive");
                let found: TaskFound = serde_json::from_value(
                    api.call(http.get(url).query(&[("handle", &handle)])).await?,
                )?;
                let t = found.task;
                let (status, moved) = (t.status.as_str(), t.moved);
                match t.total {
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
                        bail!("redrive {status}: {}", t.failure.as_deref().unwrap_or(""));
                    }
                    _ => tokio::time::sleep(Duration::from_millis(250)).await,
                }
            }
            bail!("redrive still running after 5 minutes; check `dlq redrive --no-wait` later");
        }
    }
    Ok(())
}
