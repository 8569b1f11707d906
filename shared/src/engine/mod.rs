//! The engine: start runs, run one step per message, take gate decisions, accept callbacks.
//!
//! Every state change is a versioned checkpoint (`RunStore::checkpoint`), followed by the send of
//! the next message, followed by the ack (the caller deletes the message only on `Ack`).

mod callbacks;
mod cancel;
mod dlq;
mod error;
mod feedback;
mod fork;
mod gates;
mod guards;
pub(crate) mod ideas;
mod intake;
mod limits;
pub mod meter;
mod notify;
mod resume;
mod retry;
mod runner;
mod safety;
mod stall;
mod start;
mod sweep;
pub mod telegram;
mod timers;
mod watch;
mod worker;

use std::sync::Arc;

use crate::config::EngineConfig;
use crate::ports::{
    BlobStore, LlmProvider, PublishProvider, RenderProvider, RunStore, SafetyProvider, StepCommit,
    StepQueue, VideoProvider,
};
use crate::time::Clock;

pub use callbacks::CallbackAck;
pub use dlq::{DeadLetterView, DlqAction};
pub use error::EngineError;
pub use gates::GateOutcome;
pub use ideas::IdeasProblem;
pub use intake::{IntakeAck, IntakeError, StandardHeaders};
pub use limits::MAX_RECORD_BYTES;
pub use notify::{Endpoint, MAX_NOTICE_DELAY, Notifications, Target};
pub use retry::{RetryPolicies, RetryPolicy};
pub use runner::Disposition;
pub use safety::SafetyOutcome;
pub use start::{StartOutcome, StartRequest};
pub use sweep::{SweepError, SweepReport};
pub use watch::{RunEvent, RunWatch};
pub use worker::{run_worker, settle};

/// The providers a run calls.
#[derive(Clone)]
pub struct Providers {
    /// Ideation.
    pub llm: Arc<dyn LlmProvider>,
    /// Content safety (fails closed).
    pub safety: Arc<dyn SafetyProvider>,
    /// Video generation (paid).
    pub video: Arc<dyn VideoProvider>,
    /// Rendering (paid).
    pub render: Arc<dyn RenderProvider>,
    /// Publishing.
    pub publish: Arc<dyn PublishProvider>,
}

/// The engine with its ports. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    /// Run records, history, intents, rendezvous.
    pub store: Arc<dyn RunStore>,
    /// Step messages.
    pub queue: Arc<dyn StepQueue>,
    /// Artifacts.
    pub blobs: Arc<dyn BlobStore>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// External providers.
    pub providers: Providers,
    /// Knobs.
    pub config: EngineConfig,
    /// Where the backend can: a step's checkpoint, next message and ack in one transaction
    /// (`None`: written one after another, as on AWS).
    pub step_commit: Option<Arc<dyn StepCommit>>,
    /// Where notifications about runs go (`None`: nowhere).
    pub notifications: Option<Arc<Notifications>>,
}
