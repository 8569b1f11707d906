//! In-process adapters: real implementations of the ports held in memory, for unit tests and the
//! single-process engine. They give the engine no more atomicity than DynamoDB + SQS do: the store
//! and the queue are separate, with nothing spanning them.

mod memory_backend;
mod memory_blobs;
mod memory_queue;
mod memory_store;
mod no_blobs;

pub use memory_backend::MemoryBackend;
pub use memory_blobs::MemoryBlobs;
pub use memory_queue::MemoryQueue;
pub use memory_store::MemoryStore;
pub use no_blobs::NoBlobs;
