//! `myloware runs start|get|list|approve|reject|resume|cancel|fork|history|feedback`: talk to a running
//! API.

use clap::{Args, Subcommand};
use myloware_http::api::{
    CancelBody, Decided, FeedbackBody, FeedbackView, ForkBody, Forked, GateBody, History, RunList,
    RunState, RunSummary, RunView, StartBody, Started,
};

use crate::client::ApiArgs;

#[derive(Args)]
pub struct RunsArgs {
    #[command(flatten)]
    api: ApiArgs,
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
    /// Show a run for a reviewer: status, what it waits for, the ideas, clips, final video,
    /// decisions, the last error and how to decide (`--json` for the API's body).
    Get {
        /// Run id.
        id: String,
    },
    /// List runs, newest first.
    List {
        /// Only these statuses: one (`stalled`), several (`stalled,failed`) or a pattern
        /// (`awaiting_*`).
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
    /// Cancel a run: in-flight messages and late callbacks are then ignored.
    Cancel {
        /// Run id.
        id: String,
        /// Why (kept in the run's audit log).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Start a new run from a checkpoint of this one (see `history`); earlier steps are not paid
    /// again.
    Fork {
        /// Run id.
        id: String,
        /// The checkpoint version to start from.
        #[arg(long)]
        from_version: u64,
    },
    /// Rate a run, 1 to 5 (your earlier rating of it is replaced).
    Feedback {
        /// Run id.
        id: String,
        /// 1 (poor) to 5 (excellent).
        #[arg(long)]
        rating: u8,
        /// Why.
        #[arg(long)]
        comment: Option<String>,
    },
    /// Follow a run as it happens until it ends (its event stream; progress bars on a
    /// terminal). Exits 0 when it completed.
    Watch {
        /// Run id.
        id: String,
    },
    /// Every checkpoint of a run: version, step, status, time, error.
    History {
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
    /// Approve the ideation gate with these ideas instead of the LLM's: a JSON file of the
    /// run's `ideas` shape (`{"title", "prompts", "overlays", "caption"}`), `-` for stdin.
    #[arg(long, value_name = "FILE")]
    ideas: Option<std::path::PathBuf>,
}

/// The statuses `pattern` names: `a,b` lists, `*` matches any run of characters.
fn expand_statuses(pattern: &str) -> anyhow::Result<Vec<&'static str>> {
    fn matches(pattern: &str, name: &str) -> bool {
        match pattern.split_once('*') {
            None => pattern == name,
            Some((head, tail)) => {
                name.len() >= head.len() + tail.len()
                    && name.starts_with(head)
                    && name.ends_with(tail)
            }
        }
    }
    let all = myloware::domain::RunStatus::ALL.map(|s| s.as_str());
    let mut out = Vec::new();
    for part in pattern.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let found: Vec<&str> = all.iter().copied().filter(|s| matches(part, s)).collect();
        if found.is_empty() {
            anyhow::bail!("{part:?} names no status (one of: {})", all.join(", "));
        }
        out.extend(found.into_iter().filter(|s| !out.contains(s)).collect::<Vec<_>>());
    }
    Ok(out)
}

/// The newest `limit` runs over several statuses (one page each, merged newest first).
async fn list_several(api: &ApiArgs, statuses: &[&str], limit: u32) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let quiet = ApiArgs { json: false, ..api.clone() };
    let mut runs: Vec<RunSummary> = Vec::new();
    for status in statuses {
        let q = [("limit", limit.to_string()), ("status", (*status).to_owned())];
        let page: RunList =
            serde_json::from_value(quiet.call(http.get(api.url("/v1/runs")).query(&q)).await?)?;
        runs.extend(page.runs);
    }
    runs.sort_by(|a, b| b.created_at.cmp(&a.created_at));
    runs.truncate(limit as usize);
    if api.json {
        let page = RunList { runs, next_cursor: None };
        println!("{}", serde_json::to_string_pretty(&page)?);
        return Ok(());
    }
    runs.iter().for_each(print_row);
    Ok(())
}

/// One run of a list, on one line.
fn print_row(r: &RunSummary) {
    println!("{}  {:<28} {:<18} {}", r.run_id, r.status, r.current_step, r.created_at);
}

/// The edited ideas in `path` (`-`: stdin).
fn read_ideas(path: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    use anyhow::Context as _;
    let text = if path == std::path::Path::new("-") {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

pub async fn run(args: RunsArgs) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let api = &args.api;
    if let RunsCommand::Watch { id } = &args.command {
        return crate::watch::watch(api, id).await;
    }
    if let RunsCommand::List { status: Some(pattern), limit, .. } = &args.command {
        let statuses = expand_statuses(pattern)?;
        if statuses.len() > 1 {
            return list_several(api, &statuses, *limit).await;
        }
    }
    let req = match &args.command {
        RunsCommand::Start { brief, clips, project, idempotency_key } => {
            let body = StartBody { brief: brief.clone(), clips: *clips, project: project.clone() };
            let mut r = http.post(api.url("/v1/runs")).json(&body);
            if let Some(k) = idempotency_key {
                r = r.header("Idempotency-Key", k);
            }
            r
        }
        RunsCommand::Get { id } => http.get(api.url(&format!("/v1/runs/{id}"))),
        RunsCommand::Resume { id } => http.post(api.url(&format!("/v1/runs/{id}/resume"))),
        RunsCommand::Cancel { id, reason } => {
            let body = CancelBody { reason: reason.clone() };
            http.post(api.url(&format!("/v1/runs/{id}/cancel"))).json(&body)
        }
        RunsCommand::Fork { id, from_version } => http
            .post(api.url(&format!("/v1/runs/{id}/fork")))
            .json(&ForkBody { from_version: *from_version }),
        RunsCommand::History { id } => http.get(api.url(&format!("/v1/runs/{id}/history"))),
        RunsCommand::Watch { .. } => unreachable!("watched above"),
        RunsCommand::Feedback { id, rating, comment } => http
            .post(api.url(&format!("/v1/runs/{id}/feedback")))
            .json(&FeedbackBody { rating: *rating, comment: comment.clone() }),
        RunsCommand::List { status, limit, cursor } => {
            let mut q = vec![("limit", limit.to_string())];
            q.extend(status.clone().map(|s| ("status", s)));
            q.extend(cursor.clone().map(|c| ("cursor", c)));
            http.get(api.url("/v1/runs")).query(&q)
        }
        RunsCommand::Approve(d) | RunsCommand::Reject(d) => {
            let verb =
                if matches!(args.command, RunsCommand::Approve(_)) { "approve" } else { "reject" };
            let gate = serde_json::from_value(serde_json::Value::String(d.gate.clone())).map_err(
                |_| anyhow::anyhow!("--gate: say ideation or publish, not {:?}", d.gate),
            )?;
            let ideas = d.ideas.as_deref().map(read_ideas).transpose()?;
            let body = GateBody { gate, comment: d.comment.clone(), ideas };
            http.post(api.url(&format!("/v1/runs/{}/{verb}", d.id))).json(&body)
        }
    };
    let body = api.call(req).await?;
    if api.json {
        return Ok(());
    }
    match &args.command {
        RunsCommand::List { .. } => {
            let page: RunList = serde_json::from_value(body)?;
            page.runs.iter().for_each(print_row);
            if let Some(c) = page.next_cursor {
                println!("next page: --cursor {c}");
            }
        }
        RunsCommand::History { .. } => {
            let history: History = serde_json::from_value(body)?;
            println!("{:>7}  {:<18} {:<28} {:<24} error", "version", "step", "status", "at");
            for c in &history.checkpoints {
                let err = c
                    .error
                    .as_ref()
                    .map(|e| format!("{}: {}", e.code, e.message))
                    .unwrap_or_default();
                println!("{:>7}  {:<18} {:<28} {:<24} {err}", c.version, c.step, c.status, c.at);
            }
        }
        RunsCommand::Start { .. } => {
            let started: Started = serde_json::from_value(body)?;
            println!("{}  {}", started.run_id, started.status);
        }
        RunsCommand::Get { .. } => {
            let run: RunView = serde_json::from_value(body)?;
            print!("{}", crate::run_report::render(&run));
        }
        RunsCommand::Approve(_) | RunsCommand::Reject(_) => {
            let d: Decided = serde_json::from_value(body)?;
            println!("{}  {}  {}", d.run_id, d.status, d.current_step);
        }
        RunsCommand::Fork { .. } => {
            let f: Forked = serde_json::from_value(body)?;
            println!(
                "{}  {}  {}  (from {} v{})",
                f.run_id, f.status, f.current_step, f.forked_from.run_id, f.forked_from.version
            );
        }
        RunsCommand::Feedback { .. } => {
            let f: FeedbackView = serde_json::from_value(body)?;
            println!("{}  rated {} by {}", f.run_id, f.rating, f.caller);
        }
        RunsCommand::Resume { .. } | RunsCommand::Cancel { .. } => {
            let r: RunState = serde_json::from_value(body)?;
            println!("{}  {}  {}", r.run_id, r.status, r.current_step);
        }
        RunsCommand::Watch { .. } => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::expand_statuses;

    #[test]
    fn status_patterns_expand() {
        assert_eq!(expand_statuses("stalled").unwrap(), ["stalled"]);
        assert_eq!(expand_statuses("stalled, failed").unwrap(), ["stalled", "failed"]);
        let awaiting = expand_statuses("awaiting_*").unwrap();
        assert_eq!(awaiting.len(), 5, "{awaiting:?}");
        assert!(awaiting.iter().all(|s| s.starts_with("awaiting_")));
        assert_eq!(expand_statuses("*_approval").unwrap().len(), 2);
        assert!(expand_statuses("bogus").unwrap_err().to_string().contains("names no status"));
    }
}
