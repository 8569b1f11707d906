//! The port conformance suite, written once and run against every backend (in-memory, SQLite,
//! DynamoDB/SQS/S3 on LocalStack). It pins the semantics the engine's correctness argument relies
//! on (docs/design.md): conditional writes that lose races cleanly, at-least-once delivery with
//! visibility timeouts, receive counts that end in the DLQ, delays, redrive, expiring keys.
//!
//! Each suite panics with the name of the check that failed.

mod blobs;
mod queue;
mod store;

pub use blobs::{Pattern, blob_stream_suite, blob_suite};
pub use queue::{QueueUnderTest, queue_suite};
pub use store::store_suite;
