//! JSON logs through `tracing` (one line per event, span fields such as `run_id`, `step` and
//! `request_id` included). `RUST_LOG` filters; `MYLOWARE_LOG_FORMAT=text` gives human output.

use tracing_subscriber::EnvFilter;

/// Install the global JSON subscriber at `info` (idempotent: later calls are ignored).
pub fn init() {
    init_with("info", false);
}

/// Install the global subscriber with a default level (when `RUST_LOG` is unset) and format
/// (`MYLOWARE_LOG_FORMAT=json|text` overrides `text_default`).
pub fn init_with(default_level: &str, text_default: bool) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let text = match std::env::var("MYLOWARE_LOG_FORMAT").as_deref() {
        Ok("text") => true,
        Ok("json") => false,
        _ => text_default,
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if text {
        builder.try_init()
    } else {
        builder.json().with_current_span(true).with_span_list(true).flatten_event(true).try_init()
    };
}
