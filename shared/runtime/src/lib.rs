//! The composition root shared by every binary (Lambda functions, CLI): read configuration, build
//! adapters and providers, set up JSON logs. Function `main`s stay a few lines of wiring.

pub mod config;
pub mod console_config;
pub mod lambda;
pub mod notify_config;
pub mod provider_config;
mod provider_wiring;
pub mod secrets;
pub mod sink;
pub mod telemetry;
pub mod wiring;

pub use config::{ConfigError, RuntimeConfig};
pub use sink::HttpCallbackSink;
pub use wiring::{
    app_state, aws_api_engine_from_env, aws_engine, aws_engine_from_env,
    aws_webhook_engine_from_env, step_consumers, with_console,
};
