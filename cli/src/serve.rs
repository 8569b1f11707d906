//! `myloware serve --backend aws`: both HTTP functions on one listener plus the local SQS
//! event-source driver calling the step handler, against real (or emulated) AWS.

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Args, ValueEnum};
use myloware_aws::{AwsClients, Resources, SqsDriver};
use myloware_runtime::{RuntimeConfig, app_state, aws_engine, wiring::fake_providers};

#[derive(Clone, Copy, ValueEnum)]
pub enum Backend {
    /// DynamoDB + SQS + S3 (set AWS_ENDPOINT_URL for LocalStack).
    Aws,
}

#[derive(Args)]
pub struct ServeArgs {
    /// Storage backend.
    #[arg(long, value_enum, default_value = "aws")]
    backend: Backend,
    /// Listen address for the API and webhook routes.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let Backend::Aws = args.backend;
    let mut cfg = RuntimeConfig::from_env()?;
    if std::env::var("MYLOWARE_WEBHOOK_BASE_URL").is_err() {
        cfg.engine.webhook_base_url = format!("http://{}", args.addr);
    }
    let resources = Resources::from_env().map_err(anyhow::Error::msg)?;
    let clients = AwsClients::from_env().await;
    let (_fakes, providers) = fake_providers(&cfg)?;
    let engine = aws_engine(&clients, &resources, &cfg, providers);
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("binding {}", args.addr))?;
    tracing::info!(addr = %args.addr, "serving API and webhooks");
    let router = myloware_http::local_router(app_state(engine.clone(), &cfg));
    let driver = SqsDriver::new(clients.sqs.clone(), &resources.queue_url);
    let handler = |ev| {
        let engine = engine.clone();
        async move { myloware_step::handle_batch(&engine, ev, "local").await }
    };
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    tokio::select! {
        r = axum::serve(listener, router) => r.context("http server")?,
        _ = driver.run(handler, shutdown) => {}
    }
    Ok(())
}
