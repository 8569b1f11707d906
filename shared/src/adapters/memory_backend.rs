//! The three in-memory adapters together, and an engine on them.

use std::sync::Arc;

use super::{MemoryBlobs, MemoryQueue, MemoryStore};
use crate::Engine;
use crate::config::EngineConfig;
use crate::engine::Providers;
use crate::time::Clock;

/// Store, queue and blobs in memory, with handles kept for inspection.
#[derive(Clone, Default)]
pub struct MemoryBackend {
    /// Runs, history, intents, rendezvous.
    pub store: Arc<MemoryStore>,
    /// Step messages.
    pub queue: Arc<MemoryQueue>,
    /// Artifacts.
    pub blobs: Arc<MemoryBlobs>,
}

impl MemoryBackend {
    /// An engine on this backend.
    pub fn engine(
        &self,
        providers: Providers,
        clock: Arc<dyn Clock>,
        config: EngineConfig,
    ) -> Engine {
        Engine {
            store: self.store.clone(),
            queue: self.queue.clone(),
            blobs: self.blobs.clone(),
            clock,
            providers,
            config,
            step_commit: None,
            notifications: None,
        }
    }
}
