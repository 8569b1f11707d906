//! JSON logs through `tracing` (one line per event, span fields such as `run_id`, `step` and
//! `request_id` included). `RUST_LOG` filters; `MYLOWARE_LOG_FORMAT=text` gives human output.

use tracing_subscriber::EnvFilter;

/// Install the global subscriber (idempotent: later calls are ignored).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let text = std::env::var("MYLOWARE_LOG_FORMAT").is_ok_and(|v| v == "text");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if text {
        builder.try_init()
    } else {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .flatten_event(true)
            .try_init()
    };
}
