//! The embedded backend: the run store and the step queue on SQLite (bundled, WAL, fsync on
//! commit), blobs as files. Store and queue share one database and its writer thread, which
//! group-commits concurrent writes (`writer.rs`); each operation is still its own atomic write,
//! so the engine gets no more atomicity here than from DynamoDB + SQS: nothing spans a checkpoint
//! and an enqueue.

mod blobs;
mod db;
mod handoff;
mod queue;
mod store;
mod writer;

pub use blobs::DiskBlobs;
pub use db::{Db, Durability, SqliteError, open, open_with};
pub use queue::{QueueSettings, SqliteQueue};
pub use store::{Checkpointed, SqliteStore};
pub use writer::WriteStats;

use std::path::Path;
use std::sync::Arc;

use myloware::Engine;
use myloware::config::EngineConfig;
use myloware::domain::StepMessage;
use myloware::engine::Providers;
use myloware::ports::{Checkpoint, StepCommit, StoreError};
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
    /// The database store and queue share (its writer's counts of commits and writes).
    pub db: Db,
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
        let db = open_with(&dir.join("myloware.db"), durability)?;
        Ok(Self {
            store: Arc::new(SqliteStore::new(db.clone())),
            queue: Arc::new(SqliteQueue::new(db.clone(), clock, settings)),
            blobs: Arc::new(DiskBlobs::new(dir.join("blobs"))?),
            db,
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
            step_commit: Some(Arc::new(self.clone())),
            notifications: None,
        }
    }
}

/// Store and queue share one database, so a step's checkpoint, its next message and the
/// delivery's deletion are one write (one savepoint in the writer's group commit).
#[async_trait::async_trait]
impl StepCommit for Embedded {
    async fn commit_step(
        &self,
        cp: Checkpoint<'_>,
        next: Option<&StepMessage>,
        delivered: &str,
    ) -> Result<(), StoreError> {
        let write = store::CheckpointWrite::of(cp)?;
        let tell = self.store.teller(write.told(), |applied: &Option<_>| applied.is_some());
        let expected = cp.expected;
        let bodies: Vec<String> =
            next.iter().map(|m| serde_json::to_string(m).expect("messages serialise")).collect();
        let (out, handoffs) = self.queue.outgoing(bodies, std::time::Duration::ZERO);
        let receipt = delivered.to_owned();
        let write = move |c: &rusqlite::Connection| {
            if !write.apply(c)? {
                return Ok(None);
            }
            let handed = out.insert(c)?;
            queue::delete_delivery(c, &receipt)?;
            Ok(Some(handed))
        };
        let Some(handed) = self.db.write_then(write, tell).await? else {
            return Err(store::moved(expected));
        };
        self.queue.deleted(delivered.to_owned());
        self.queue.sent(handoffs, handed).await;
        Ok(())
    }
}
