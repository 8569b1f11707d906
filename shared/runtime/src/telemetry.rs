//! Logs and metrics. Logs are JSON lines through `tracing` (one per event; the span fields —
//! `run_id`, `step`, `attempt`, `request_id` — ride along under `span`/`spans`). Metrics go out
//! as CloudWatch Embedded Metric Format lines through `metrics_cloudwatch_embedded`, flushed
//! after each Lambda invocation (or periodically in long-lived processes).

use std::sync::OnceLock;

use metrics::Unit;
use metrics_cloudwatch_embedded::Collector;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

/// Install the global JSON subscriber at `info` (idempotent: later calls are ignored).
pub fn init() {
    init_with("info", false);
}

/// Install the global subscriber with a default level (when `RUST_LOG` is unset) and format
/// (`MYLOWARE_LOG_FORMAT=json|text` overrides `text_default`).
pub fn init_with(default_level: &str, text_default: bool) {
    let text = match std::env::var("MYLOWARE_LOG_FORMAT").as_deref() {
        Ok("text") => true,
        Ok("json") => false,
        _ => text_default,
    };
    if text {
        let fmt = tracing_subscriber::fmt().with_writer(std::io::stderr).finish();
        let _ = fmt.with(filter(default_level)).try_init();
    } else {
        init_json(default_level, std::io::stderr);
    }
}

/// `RUST_LOG`'s directives (`level`, `target=level`, comma-separated), else `default_level`.
/// (`Targets`, not `EnvFilter`: its span and field filters need a regex engine in every
/// function's binary, and nobody filters logs by field values here.)
fn filter(default_level: &str) -> Targets {
    let parse = |s: &str| s.parse::<Targets>().ok();
    std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| parse(&v))
        .or_else(|| parse(default_level))
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

/// Install the JSON subscriber writing to `writer` (tests capture logs this way).
pub fn init_json<W>(default_level: &str, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let fmt = tracing_subscriber::fmt()
        .with_writer(writer)
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .flatten_event(true)
        .finish();
    let _ = fmt.with(filter(default_level)).try_init();
}

static METRICS: OnceLock<&'static Collector> = OnceLock::new();

/// Install the EMF recorder (namespace `MyloWare`, dimension `Function`); idempotent.
pub fn init_metrics(function: &'static str) {
    if METRICS.get().is_some() {
        return;
    }
    match metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace("MyloWare")
        .with_dimension("Function", function)
        .init()
    {
        Ok(c) => {
            let _ = METRICS.set(c);
            metrics::describe_histogram!(
                "StepDuration",
                Unit::Milliseconds,
                "time to run one step"
            );
            metrics::describe_histogram!(
                "ProviderLatency",
                Unit::Milliseconds,
                "time of one provider call"
            );
            metrics::describe_counter!("StepsRun", Unit::Count, "steps completed");
            metrics::describe_counter!("StepRetries", Unit::Count, "steps left for a retry");
            metrics::describe_counter!("StalledRuns", Unit::Count, "runs whose retries ran out");
            metrics::describe_counter!("Webhooks", Unit::Count, "webhook answers by result");
        }
        Err(e) => tracing::warn!(error = %e, "metrics recorder not installed"),
    }
}

/// Write the metrics gathered since the last flush as EMF lines (no-op without a recorder).
///
/// The collector writes each line in many small pieces; they are gathered first and handed to
/// `writer` in one `write_all`, so a log line written by another thread at the same moment
/// cannot land in the middle of an EMF line (seen in CI: the pair was neither JSON).
pub fn flush_metrics(mut writer: impl std::io::Write) {
    let Some(c) = METRICS.get() else { return };
    let mut lines = Vec::new();
    let written = c.flush(&mut lines).and_then(|()| {
        writer.write_all(&lines)?;
        writer.flush()
    });
    if let Err(e) = written {
        tracing::warn!(error = %e, "metrics flush failed");
    }
}
