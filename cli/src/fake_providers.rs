//! `myloware fake-providers`: the fake provider server as its own process.

use std::net::SocketAddr;

use anyhow::Context;
use clap::Args;
use myloware::webhooks::WebhookSecret;
use myloware_providers::server::{FakeConfig, FakeSecrets, FakeServer};

#[derive(Args)]
pub struct FakeProvidersArgs {
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1:9090")]
    addr: SocketAddr,
    /// Where video events go (the webhook function's `/v1/webhooks/openai`).
    #[arg(long, env = "MYLOWARE_FAKE_OPENAI_WEBHOOK_URL")]
    openai_webhook_url: Option<String>,
    /// Secret video callbacks are signed with.
    #[arg(long, env = "MYLOWARE_FAKE_OPENAI_SECRET")]
    openai_secret: String,
    /// Secret Replicate-style prediction webhooks are signed with (also served as the
    /// account's secret at `GET /v1/webhooks/default/secret`).
    #[arg(
        long,
        env = "MYLOWARE_FAKE_REPLICATE_SECRET",
        default_value = "whsec_ZmFrZS1yZXBsaWNhdGUtc2VjcmV0LTAxMjM0NTY3ODk="
    )]
    replicate_secret: String,
    /// Secret render callbacks are signed with.
    #[arg(long, env = "MYLOWARE_FAKE_REMOTION_SECRET")]
    remotion_secret: String,
    /// Milliseconds from job start to callback.
    #[arg(long, default_value_t = 300)]
    delay_ms: u64,
    /// Up to this many extra random milliseconds per callback (reorders them).
    #[arg(long, default_value_t = 0)]
    jitter_ms: u64,
    /// Send every callback twice.
    #[arg(long)]
    duplicate: bool,
    /// Fail every video job with this reason.
    #[arg(long)]
    fail_videos: Option<String>,
    /// Fail every render with this reason.
    #[arg(long)]
    fail_renders: Option<String>,
}

pub async fn run(args: FakeProvidersArgs) -> anyhow::Result<()> {
    let config = FakeConfig {
        openai_webhook_url: args.openai_webhook_url,
        callback_delay_ms: args.delay_ms,
        reorder_jitter_ms: args.jitter_ms,
        duplicate: args.duplicate,
        video_failure: args.fail_videos,
        render_failure: args.fail_renders,
        ..Default::default()
    };
    let secrets = FakeSecrets {
        openai: WebhookSecret::parse(&args.openai_secret).context("--openai-secret")?,
        replicate: WebhookSecret::parse(&args.replicate_secret).context("--replicate-secret")?,
        remotion: WebhookSecret::parse(&args.remotion_secret).context("--remotion-secret")?,
    };
    let server = FakeServer::spawn(args.addr, secrets, config)
        .await
        .with_context(|| format!("binding {}", args.addr))?;
    eprintln!(
        "fake providers listening on {} (stats: {}/_fake/stats)",
        server.base_url(),
        server.base_url()
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
