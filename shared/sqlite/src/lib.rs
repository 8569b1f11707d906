//! The embedded backend: the run store and the step queue on SQLite (bundled, WAL, fsync on
//! commit), blobs as files. Store and queue use separate connections and separate transactions,
//! so the engine gets no more atomicity here than from DynamoDB + SQS: nothing spans a checkpoint
//! and an enqueue.

mod blobs;
mod db;
mod queue;
mod store;

pub use blobs::DiskBlobs;
pub use db::{Durability, SqliteError, open, open_with};
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
        Self::open_with(dir, clock, settings, Durability::PowerLoss)
    }

    /// [`Embedded::open`] with an explicit durability.
    pub fn open_with(
        dir: &Path,
        clock: Arc<dyn Clock>,
        settings: QueueSettings,
        durability: Durability,
    ) -> Result<Self, SqliteError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| SqliteError(format!("create {}: {e}", dir.display())))?;
        let db = dir.join("myloware.db");
        Ok(Self {
            store: Arc::new(SqliteStore::new(open_with(&db, durability)?)),
            queue: Arc::new(SqliteQueue::new(open_with(&db, durability)?, clock, settings)),
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
