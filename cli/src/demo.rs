//! `myloware demo`: one whole video run on this machine with no AWS, no Docker and no keys.
//!
//! It starts, in this process: the embedded backend in the data directory (SQLite + files), the
//! API and webhook routes on a free local port, the step runner, and the fake provider server on
//! another free port. The workflow calls the fake providers through the real HTTP clients, and
//! they call back over HTTP with real signatures. Gates are approved with `--auto-approve`;
//! otherwise the demo prints the review console's page of the run and waits for the person's
//! decision there.
//!
//! With ffmpeg on this machine the video is real: the fake video APIs hand out distinct
//! test-pattern clips and the built-in renderer cuts them into the final video, whose summary
//! and contact sheet end the demo. Without it the run is the same with placeholder files.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use myloware::Engine;
use myloware::config::EngineConfig;
use myloware::domain::Provider;
use myloware::domain::{Decision, Gate, ProjectName, RunRecord, RunStatus};
use myloware::engine::StartRequest;
use myloware::webhooks::WebhookSecret;
use myloware_media::{Ffmpeg, HOW_TO_GET};
use myloware_providers::clients::{FfmpegRenderSettings, Kind, Mode};
use myloware_providers::server::{FakeConfig, FakeServer};
use myloware_runtime::wiring::{Fakes, providers};
use myloware_runtime::{RuntimeConfig, app_state, with_console};
use myloware_sqlite::Embedded;

use crate::embedded;

#[derive(Args)]
pub struct DemoArgs {
    /// Clips to produce (the project's count when not given).
    #[arg(long)]
    clips: Option<u32>,
    /// The project (`myloware projects list`).
    #[arg(long, default_value = "demo")]
    project: String,
    /// Approve both gates without asking (otherwise decide them in the review console).
    #[arg(long)]
    auto_approve: bool,
    /// The brief.
    #[arg(long, default_value = "a calm ocean at dawn, waves in slow motion")]
    brief: String,
    /// Data directory.
    #[arg(long, default_value = embedded::DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// Print the final run as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Which video API the fake provider plays: an OpenAI-compatible gateway (webhooks),
    /// Replicate (a webhook per prediction) or Gemini's Veo (polled, no callback).
    #[arg(long, value_enum, default_value = "openai")]
    video_provider: VideoAdapter,
}

/// The video adapters.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum VideoAdapter {
    /// An OpenAI-compatible Videos API.
    Openai,
    /// Replicate predictions.
    Replicate,
    /// Veo through the Gemini API.
    Gemini,
}

impl VideoAdapter {
    fn provider(self) -> Provider {
        match self {
            VideoAdapter::Openai => Provider::OpenAi,
            VideoAdapter::Replicate => Provider::Replicate,
            VideoAdapter::Gemini => Provider::Gemini,
        }
    }
}

const OPENAI_SECRET: &str = "whsec_ZGVtby1zb3JhLXNlY3JldC0wMTIzNDU2Nzg5YWJjZGVm";
const REPLICATE_SECRET: &str = "whsec_ZGVtby1yZXBsaWNhdGUtc2VjcmV0LTAxMjM0NTY3ODk=";
const REMOTION_SECRET: &str = "demo-remotion-secret";

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let listener =
        tokio::net::TcpListener::bind("127.0.0.1:0").await.context("binding a local port")?;
    let base = format!("http://{}", listener.local_addr()?);
    // Every provider fake, said so: the demo needs no keys.
    let mut cfg = RuntimeConfig::all_fake(EngineConfig::from_env()?);
    cfg.providers.video_adapter = args.video_provider.provider();
    cfg.set_secret(Provider::OpenAi, WebhookSecret::parse(OPENAI_SECRET)?);
    cfg.set_secret(Provider::Replicate, WebhookSecret::parse(REPLICATE_SECRET)?);
    cfg.set_secret(Provider::Remotion, WebhookSecret::parse(REMOTION_SECRET)?);
    // A key of this demo's own, printed with the console's address: nobody else on this
    // machine can act on the run.
    let key = format!("demo-{}", uuid::Uuid::new_v4().simple());
    cfg.api_keys = vec![format!("{key}:admin@demo")];
    cfg.engine.webhook_base_url = base.clone();
    // The fake upload is done in under a second, and Veo is polled: ask soon.
    cfg.engine.waits.publish_poll.after = Duration::from_millis(500);
    cfg.engine.waits.publish_poll.interval = Duration::from_millis(500);
    cfg.engine.waits.polled.after = Duration::from_millis(500);
    cfg.engine.waits.polled.interval = Duration::from_millis(500);
    // A real video when ffmpeg is here: real test clips, and the built-in renderer (a real
    // renderer, so render is real).
    // Not found: placeholders, said so below; configured but broken: an error.
    let ffmpeg = match Ffmpeg::locate() {
        Ok(f) => Some(f.with_preset("ultrafast")),
        Err(e) if std::env::var_os(myloware_media::ENV_FFMPEG).is_some() => return Err(e.into()),
        Err(_) => None,
    };
    if let Some(ff) = &ffmpeg {
        cfg.providers.modes.set(Kind::Render, Mode::Real);
        let settings = FfmpegRenderSettings { dir: args.data_dir.join("renders"), concurrency: 1 };
        cfg.providers.real.ffmpeg_render = Some((ff.clone(), settings));
    }
    let config = FakeConfig {
        callback_delay_ms: 400,
        reorder_jitter_ms: 300,
        clips: ffmpeg.clone(),
        ..Default::default()
    };
    let fake = embedded::fake_server(&cfg, None, "127.0.0.1:0".parse()?, config).await?;
    let providers = providers(&cfg, Fakes::Server(fake.base_url()))?;
    let (backend, engine) = embedded::engine(&args.data_dir, &mut cfg, providers)?;
    embedded::spawn_worker(&engine, &backend, "demo");
    let state = app_state(engine.clone(), &cfg, None)?.with_dlq(backend.queue.clone());
    let router = with_console(myloware_http::local_router(state.clone()), state, None).await?;
    tokio::spawn(async move { axum::serve(listener, router).await });
    eprintln!("MyloWare demo");
    eprintln!("  API + webhooks   {base}");
    eprintln!(
        "  fake providers   {} (video: {})",
        fake.base_url(),
        cfg.providers.video_adapter.as_str()
    );
    match &ffmpeg {
        Some(ff) => eprintln!("  renderer         built in (ffmpeg at {})", ff.path().display()),
        None => eprintln!(
            "  renderer         fake: ffmpeg not found, so the clips and the video are \
             placeholders; for a real video, {HOW_TO_GET}"
        ),
    }
    eprintln!("  data directory   {}", args.data_dir.display());
    eprintln!("  review console   {base}/console (sign in with the API key {key})");

    let out = engine
        .start_run(StartRequest {
            project: ProjectName::parse(&args.project)?,
            brief: args.brief.clone(),
            clips: args.clips,
            idempotency_key: None,
            request_id: None,
            caller: None,
            owner: None,
        })
        .await?;
    let console = format!("{base}/console/runs/{}", out.run.run_id);
    let run = follow(&engine, out.run.run_id, args.auto_approve, &console).await?;
    summary(&engine, &backend, &run, &fake, ffmpeg.as_ref(), args.json).await
}

/// Show live progress until the run ends. With `auto`, approve the gates on the way;
/// otherwise point at the run's console page and wait there for the person's decision.
async fn follow(
    engine: &Engine,
    id: myloware::RunId,
    auto: bool,
    console: &str,
) -> anyhow::Result<RunRecord> {
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {elapsed:>3} {msg}")?);
    bar.enable_steady_tick(Duration::from_millis(100));
    let mut working_since = Instant::now();
    let mut told = None;
    loop {
        let run = engine.store.get_run(&id).await?.context("the run vanished")?;
        let mut msg = format!("run {} · step {} · {}", &id.to_string()[..8], run.step, run.status);
        if let Ok(Some((arrived, expected))) = myloware::workflow::wait_progress(engine, &run).await
        {
            msg.push_str(&format!(" · callbacks {arrived}/{expected}"));
        }
        let gate = match run.status {
            RunStatus::AwaitingIdeationApproval => Some(Gate::Ideation),
            RunStatus::AwaitingPublishApproval => Some(Gate::Publish),
            s if s.is_terminal() => {
                bar.finish_and_clear();
                return Ok(run);
            }
            _ => None,
        };
        match gate {
            Some(gate) if auto => {
                engine.decide(&id, gate, Decision::Approve, None, "demo", None).await?;
            }
            Some(gate) => {
                msg.push_str(" · waiting for your decision in the console");
                if told != Some(gate) {
                    told = Some(gate);
                    bar.suspend(|| {
                        eprintln!(
                            "\nThe run waits at the {} gate. Look and decide at",
                            gate.as_str()
                        );
                        eprintln!("  {console}");
                    });
                }
            }
            None => {}
        }
        bar.set_message(msg);
        // A person may take their time at a gate; the machine may not between gates.
        if gate.is_some() {
            working_since = Instant::now();
        } else if working_since.elapsed() > Duration::from_secs(180) {
            bar.finish_and_clear();
            bail!("the run did not move on within 3 minutes (status {})", run.status);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn summary(
    engine: &Engine,
    backend: &Embedded,
    run: &RunRecord,
    fake: &FakeServer,
    ffmpeg: Option<&Ffmpeg>,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(run)?);
    } else {
        println!("run {}: {}", run.run_id, run.status);
        println!("timeline:");
        let history = engine.store.history(&run.run_id).await?;
        for (i, cp) in history.iter().enumerate() {
            let took = history
                .get(i + 1)
                .map(|n| n.at.since(cp.at))
                .map(|d| format!("{:>7.2}s", d.as_secs_f64()));
            println!(
                "  v{:<3} {:<18} {:<28} {}",
                cp.version,
                cp.step.as_str(),
                cp.status.as_str(),
                took.unwrap_or_default()
            );
        }
        println!("artifacts:");
        for c in &run.state.clips {
            if let Some(k) = &c.blob_key {
                println!("  clip {}  {}", c.index, backend.blobs.path_of(k)?.display());
            }
        }
        if let Some(k) = &run.state.final_video_key {
            let video = backend.blobs.path_of(k)?;
            println!("  video   {}", video.display());
            if let Some(ff) = ffmpeg {
                look_at(ff, backend, run, &video).await?;
            }
        }
        if let Some(u) = &run.state.published_url {
            println!("  posted  {u}");
        }
        if let Some(e) = &run.error {
            println!("error: {} ({}) at {}", e.message, e.code, e.step);
        }
        let s = fake.stats();
        let render = match ffmpeg {
            Some(_) => "render built in".to_owned(),
            None => format!("{} render ({} job)", s.render_submissions, s.render_jobs),
        };
        println!(
            "provider calls: {} video submissions ({} jobs), {render}, {} upload POST(s) \
             · callbacks delivered {}",
            s.video_submissions, s.video_jobs, s.publish_posts, s.callbacks_delivered
        );
    }
    if run.status != RunStatus::Completed {
        bail!("the run ended {}", run.status);
    }
    Ok(())
}

/// The final video's ffprobe summary, and a contact sheet beside it: one frame from the middle
/// of each clip's interval.
async fn look_at(
    ff: &Ffmpeg,
    backend: &Embedded,
    run: &RunRecord,
    video: &std::path::Path,
) -> anyhow::Result<()> {
    let probe = ff.probe(&video.to_string_lossy()).await.context("probing the final video")?;
    println!("          {probe}");
    let mut start = 0.0;
    let mut mids = Vec::new();
    for c in &run.state.clips {
        if let Some(k) = &c.blob_key {
            let clip = ff.probe(&backend.blobs.path_of(k)?.to_string_lossy()).await?;
            mids.push(start + clip.duration / 2.0);
            start += clip.duration;
        }
    }
    let sheet = video.with_file_name("contact-sheet.png");
    let work = video.with_file_name("contact-sheet.work");
    ff.contact_sheet(video, &mids, 240, &sheet, &work).await.context("the contact sheet")?;
    let _ = std::fs::remove_dir_all(work);
    println!("  sheet   {} (one frame per clip)", sheet.display());
    Ok(())
}
