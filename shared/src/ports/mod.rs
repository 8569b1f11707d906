//! Ports: the traits the engine runs on. Adapters implement them (DynamoDB/SQS/S3, in-memory).

mod blobs;
mod media;
mod notify;
mod providers;
mod queue;
mod step_commit;
mod store;

pub use blobs::{BlobError, BlobStore, next_within};
pub use media::{ByteSource, FileSource, InMemory, Media, collect, read_all};
pub use notify::{NoticeSender, PostOutcome};
pub use providers::{
    BUILTIN_RENDER_OUTPUT, CallbackSink, Delivery, IdeationAsk, JobStatus, LlmProvider,
    ProviderError, PublishProvider, PublishRequest, RenderProvider, RenderRequest, SafetyProvider,
    SafetyVerdict, VideoProvider, VideoRequest, builtin_render_job, builtin_render_output,
    builtin_render_output_job,
};
pub use queue::{
    DeadLetter, DeadLetters, HeldLetter, MoveTask, QueueConsumer, QueueError, Received, StepQueue,
};
pub use step_commit::StepCommit;
pub use store::{
    Checkpoint, CreateOutcome, DuePage, DueRun, Intent, IntentKey, ListQuery, RecordArrival,
    RunPage, RunStore, StoreError,
};
