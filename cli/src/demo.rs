//! `myloware demo`: one whole video run in this process, with no AWS, no Docker and no keys.
//!
//! The engine runs on the in-memory adapters (the SQLite embedded store replaces them in issue
//! #3); the API and webhook routes listen on a free local port; the fake providers call back over
//! real HTTP with real signatures after a short delay; a local loop plays the step queue's
//! consumer. Gates are approved automatically with `--auto-approve`, otherwise asked on stdin.

use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use myloware::Engine;
use myloware::adapters::{MemoryBackend, MemoryQueue};
use myloware::domain::{Decision, Gate, ProjectName, RunRecord, RunStatus};
use myloware::engine::{Disposition, StartRequest};
use myloware::fakes::{CallbackMode, FakeSet};
use myloware::time::SystemClock;
use myloware::webhooks::WebhookSecret;
use myloware_runtime::{HttpCallbackSink, RuntimeConfig, app_state};

#[derive(Args)]
pub struct DemoArgs {
    /// Clips to produce.
    #[arg(long, default_value_t = 3)]
    clips: u32,
    /// Approve both gates without asking.
    #[arg(long)]
    auto_approve: bool,
    /// The brief.
    #[arg(long, default_value = "a calm ocean at dawn, waves in slow motion")]
    brief: String,
    /// Print the final run as JSON.
    #[arg(long)]
    json: bool,
}

const DEMO_SORA_SECRET: &str = "whsec_ZGVtby1zb3JhLXNlY3JldC0wMTIzNDU2Nzg5YWJjZGVm";
const DEMO_REMOTION_SECRET: &str = "demo-remotion-secret";
const DEMO_API_KEY: &str = "demo-key";

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let listener =
        tokio::net::TcpListener::bind("127.0.0.1:0").await.context("binding a local port")?;
    let base = format!("http://{}", listener.local_addr()?);
    let mut cfg = RuntimeConfig::from_env()?;
    cfg.sora_secrets = vec![WebhookSecret::parse(DEMO_SORA_SECRET)?];
    cfg.remotion_secrets = vec![WebhookSecret::parse(DEMO_REMOTION_SECRET)?];
    cfg.api_keys = vec![DEMO_API_KEY.into()];
    cfg.engine.webhook_base_url = base.clone();
    let backend = MemoryBackend::default();
    let fakes = FakeSet::new(
        cfg.sora_secrets[0].clone(),
        cfg.remotion_secrets[0].clone(),
        Arc::new(HttpCallbackSink::new(&base)),
        CallbackMode::After(Duration::from_millis(400)),
        Arc::new(SystemClock),
    );
    let engine = backend.engine(fakes.providers(), Arc::new(SystemClock), cfg.engine.clone());
    let router = myloware_http::local_router(app_state(engine.clone(), &cfg));
    tokio::spawn(async move { axum::serve(listener, router).await });
    tokio::spawn(consume(engine.clone(), backend.queue.clone()));
    eprintln!("MyloWare demo: API and webhooks on {base}; fake providers call back over HTTP");

    let started = Instant::now();
    let out = engine
        .start_run(StartRequest {
            project: ProjectName::parse("aismr")?,
            brief: args.brief.clone(),
            clips: Some(args.clips),
            idempotency_key: None,
            request_id: None,
        })
        .await?;
    let id = out.run.run_id;
    eprintln!("run {id} started ({} clips)", args.clips);
    let mut last = (out.run.status, out.run.step);
    let mut timeline = vec![(started.elapsed(), format!("{} / {}", last.0, last.1))];
    loop {
        let run = engine.store.get_run(&id).await?.context("run vanished")?;
        if (run.status, run.step) != last {
            last = (run.status, run.step);
            timeline.push((started.elapsed(), format!("{} / {}", run.status, run.step)));
            eprintln!(
                "  {:>7.2}s  {:<28} step {}",
                started.elapsed().as_secs_f64(),
                run.status.as_str(),
                run.step
            );
        }
        match run.status {
            RunStatus::AwaitingIdeationApproval => {
                decide(&engine, &run, Gate::Ideation, args.auto_approve).await?
            }
            RunStatus::AwaitingPublishApproval => {
                decide(&engine, &run, Gate::Publish, args.auto_approve).await?
            }
            s if s.is_terminal() => return summary(&run, &fakes, &timeline, args.json),
            _ => {}
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!("the run did not finish within 2 minutes (status {})", run.status);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Plays the step queue's consumer: handle each message; leave failures for a later retry.
async fn consume(engine: Engine, queue: Arc<MemoryQueue>) {
    loop {
        let Some(msg) = queue.pop() else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        match engine.handle_message(&msg, "demo").await {
            Ok(Disposition::Ack) => {}
            Ok(Disposition::Retry) | Err(_) => {
                let q = queue.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    q.push(msg);
                });
            }
        }
    }
}

async fn decide(engine: &Engine, run: &RunRecord, gate: Gate, auto: bool) -> anyhow::Result<()> {
    let approve = auto || {
        eprint!("approve the {} gate of run {}? [y/N] ", gate.as_str(), run.run_id);
        std::io::stderr().flush()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim().eq_ignore_ascii_case("y")
    };
    let decision = if approve { Decision::Approve } else { Decision::Reject };
    engine.decide(&run.run_id, gate, decision, None, "demo", None).await?;
    Ok(())
}

fn summary(
    run: &RunRecord,
    fakes: &FakeSet,
    timeline: &[(Duration, String)],
    json: bool,
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(run)?);
    } else {
        println!("\nrun {}: {}", run.run_id, run.status);
        for (t, what) in timeline {
            println!("  {:>7.2}s  {what}", t.as_secs_f64());
        }
        for c in &run.state.clips {
            println!("  clip {} ← {}: {}", c.index, c.job_id, c.blob_key.as_deref().unwrap_or("-"));
        }
        if let Some(k) = &run.state.final_video_key {
            println!("  rendered video: {k}");
        }
        if let Some(u) = &run.state.published_url {
            println!("  published at: {u}");
        }
        if let Some(e) = &run.error {
            println!("  error: {} ({}) at {}", e.message, e.code, e.step);
        }
        println!(
            "  paid jobs: {} video, {} render, {} publish",
            fakes.video.jobs_started(),
            fakes.render.jobs_started(),
            fakes.publish.jobs_started()
        );
    }
    if run.status != RunStatus::Completed {
        bail!("run ended {}", run.status);
    }
    Ok(())
}
