//! The embedded backend: the run store and the step queue on SQLite (bundled, WAL, fsync on
//! commit), blobs as files. Store and queue use separate connections and separate transactions,
//! so the engine gets no more atomicity here than from DynamoDB + SQS: nothing spans a checkpoint
//! and an enqueue.

mod blobs;
mod db;
mod queue;
mod store;

pub use blobs::DiskBlobs;
pub use db::{SqliteError, open};
pub use queue::{QueueSettings, SqliteQueue};
pub use store::SqliteStore;

use std::path::Path;
use std::sync::Arc;

use myloware::Engine;
use myloware::config::EngineConfig;
use myloware::engine::Providers;
use myloware::time::Clock;

/// The three embedded adapters over one data directory.
#[derive(Clone)]
pub struct Embedded {
    /// Runs, history, intents, rendezvous.
    pub store: Arc<SqliteStore>,
    /// Step queue and its DLQ.
    pub queue: Arc<SqliteQueue>,
    /// Artifacts under `<data dir>/blobs`.
    pub blobs: Arc<DiskBlobs>,
}

impl Embedded {
    /// Open (creating if needed) the backend in `dir`.
    pub fn open(
        dir: &Path,
        clock: Arc<dyn Clock>,
        settings: QueueSettings,
    ) -> Result<Self, SqliteError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| SqliteError(format!("create {}: {e}", dir.display())))?;
        let db = dir.join("myloware.db");
        Ok(Self {
            store: Arc::new(SqliteStore::new(open(&db)?)),
            queue: Arc::new(SqliteQueue::new(open(&db)?, clock, settings)),
            blobs: Arc::new(DiskBlobs::new(dir.join("blobs"))?),
        })
    }

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
        }
    }
}
