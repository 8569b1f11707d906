//! `myloware serve`: the API and webhook routes on one listener plus the step runner, long-lived.
//! `--backend embedded` keeps everything in a data directory; `--backend aws` uses DynamoDB, SQS
//! and S3 (LocalStack with `AWS_ENDPOINT_URL`) and plays Lambda's SQS trigger locally.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use myloware_aws::{AwsClients, Resources, SqsDriver};
use myloware_http::serve::{ServeLimits, serve};
use myloware_providers::clients::Mode;
use myloware_providers::server::{FakeConfig, FakeServer};
use myloware_runtime::wiring::{Fakes, providers};
use myloware_runtime::{RuntimeConfig, app_state, aws_engine, with_console};

use crate::embedded;

#[derive(Clone, Copy, ValueEnum)]
pub enum Backend {
    /// SQLite and files in the data directory: no AWS needed.
    Embedded,
    /// DynamoDB + SQS + S3 (set AWS_ENDPOINT_URL for LocalStack).
    Aws,
}

#[derive(Args)]
pub struct ServeArgs {
    /// Storage backend.
    #[arg(long, value_enum, default_value = "embedded")]
    backend: Backend,
    /// Listen address for the API and webhook routes.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Data directory (embedded backend).
    #[arg(long, default_value = embedded::DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
}

/// Where the in-process fake providers listen (`MYLOWARE_FAKE_PROVIDERS_ADDR`; by default a free
/// local port, the same one again after a restart when it is free).
const ENV_FAKE_ADDR: &str = "MYLOWARE_FAKE_PROVIDERS_ADDR";

/// The fake provider server for the providers in `fake` mode: kept in the data directory
/// (embedded), in memory next to AWS.
async fn in_process_fakes(args: &ServeArgs, cfg: &RuntimeConfig) -> anyhow::Result<FakeServer> {
    let addr = match std::env::var(ENV_FAKE_ADDR) {
        Ok(a) => a.parse().with_context(|| format!("{ENV_FAKE_ADDR}={a:?}"))?,
        Err(_) => "127.0.0.1:0".parse()?,
    };
    let config = FakeConfig {
        callback_delay_ms: cfg.fake_callback_delay.as_millis() as u64,
        ..Default::default()
    };
    let dir = matches!(args.backend, Backend::Embedded).then_some(args.data_dir.as_path());
    embedded::fake_server(cfg, dir, addr, config).await
}

/// Ctrl-C or SIGTERM (what a process manager sends).
async fn shutdown_signal() {
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let mut cfg = RuntimeConfig::from_env()?;
    let limits = ServeLimits::from_env().map_err(anyhow::Error::msg)?;
    if std::env::var("MYLOWARE_WEBHOOK_BASE_URL").is_err() {
        cfg.engine.webhook_base_url = format!("http://{}", args.addr);
    }
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("binding {}", args.addr))?;
    cfg.resolve_replicate_secret().await?;
    let fakes = if cfg.providers.modes.kinds_in(Mode::Fake).is_empty() {
        Fakes::InProcess
    } else {
        let fake = in_process_fakes(&args, &cfg).await?;
        tracing::info!(addr = %fake.addr(), "fake providers in this process (stats: /_fake/stats)");
        Fakes::Server(fake.base_url())
    };
    let providers = providers(&cfg, fakes)?;
    myloware_runtime::telemetry::init_metrics("serve");
    tokio::spawn(async {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            myloware_runtime::telemetry::flush_metrics(std::io::stdout());
        }
    });
    match args.backend {
        Backend::Embedded => {
            let (backend, engine) = embedded::engine(&args.data_dir, &mut cfg, providers)?;
            let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
            let worker = embedded::spawn_worker_until(&engine, &backend, "serve", async move {
                let _ = stop_rx.wait_for(|stop| *stop).await;
            });
            embedded::spawn_sweeper(&engine, std::time::Duration::from_secs(60));
            tracing::info!(addr = %args.addr, data_dir = %args.data_dir.display(), "serving (embedded)");
            let state = app_state(engine, &cfg, None)?.with_dlq(backend.queue.clone());
            let router =
                with_console(myloware_http::local_router(state.clone()), state, None).await?;
            serve(listener, router, limits, shutdown_signal()).await;
            // The worker finishes the steps it holds (each checkpoints) before the process ends.
            let _ = stop_tx.send(true);
            match tokio::time::timeout(limits.shutdown_grace, worker).await {
                Ok(_) => tracing::info!("the step worker finished its steps in flight"),
                Err(_) => tracing::warn!(
                    "steps still running at the end of the grace period: their messages will be delivered again"
                ),
            }
        }
        Backend::Aws => {
            let resources = Resources::from_env().map_err(anyhow::Error::msg)?;
            let clients = AwsClients::from_env().await;
            cfg.notify.resolve_secret(&clients).await?;
            let engine = aws_engine(&clients, &resources, &cfg, providers)?;
            let driver = SqsDriver::new(clients.sqs().clone(), &resources.queue_url);
            let (consumer, dlq) = myloware_runtime::step_consumers(&clients, &resources);
            let state = app_state(engine.clone(), &cfg, Some(&clients))?.with_dlq(dlq.clone());
            let router =
                with_console(myloware_http::local_router(state.clone()), state, Some(&clients))
                    .await?;
            embedded::spawn_sweeper(&engine, std::time::Duration::from_secs(60));
            let queues = myloware_step::StepQueues { consumer, dlq };
            let handler = |ev| {
                let (engine, queues) = (engine.clone(), queues.clone());
                async move { myloware_step::handle_batch(&engine, &queues, ev, "local").await }
            };
            tracing::info!(addr = %args.addr, "serving (aws)");
            tokio::select! {
                _ = serve(listener, router, limits, shutdown_signal()) => {}
                _ = driver.run(handler, std::future::pending()) => {}
            }
        }
    }
    Ok(())
}
