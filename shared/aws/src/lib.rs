//! AWS adapters for the MyloWare engine: DynamoDB run store, SQS step queue, S3 blob store; the
//! one definition of the AWS resources (used by `myloware infra bootstrap`, tests and the template
//! parity check); and a local driver that plays Lambda's SQS event source mapping.
//!
//! Nothing above this crate matches on SDK types: errors become the engine's `StoreError` & co.

pub mod call_counter;
pub mod clients;
pub mod driver;
pub mod dynamo;
pub mod queued_render;
pub mod resources;
pub mod s3_blobs;
pub mod secret_store;
pub mod sqs_consumer;
pub mod sqs_queue;
pub mod ssm;

pub use call_counter::CallCounter;
pub use clients::AwsClients;
pub use driver::SqsDriver;
pub use dynamo::DynamoStore;
pub use queued_render::{QueuedRender, QueuedRenderCallbacks, RenderJob};
pub use resources::{ResourceNames, Resources};
pub use s3_blobs::S3Blobs;
pub use sqs_consumer::SqsDeadLetters;
pub use sqs_queue::SqsQueue;
pub use ssm::SsmClient;
