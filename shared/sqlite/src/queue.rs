//! The step queue on SQLite with SQS semantics: at-least-once delivery, a visibility timeout per
//! receive, a receive count, per-message delays, a DLQ after the maximum receive count, redrive.
//! A message sent while a consumer waits is handed to it directly (`handoff.rs`).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use myloware::domain::StepMessage;
use myloware::ports::{
    DeadLetter, DeadLetters, HeldLetter, MoveTask, QueueConsumer, QueueError, Received, StepQueue,
};
use myloware::time::{Clock, Timestamp};
use rusqlite::params;
use tokio::sync::Notify;
use tracing::warn;

use crate::db::{Db, SqliteError};
use crate::handoff::{self, Handoffs, Outgoing, Takers};
use crate::writer::Then;

/// Queue behaviour (the SQS queue attributes it mirrors).
#[derive(Debug, Clone, Copy)]
pub struct QueueSettings {
    /// Default visibility timeout of a received message.
    pub visibility_timeout: Duration,
    /// Receives after which the next receive moves the message to the DLQ.
    pub max_receive_count: u32,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self { visibility_timeout: Duration::from_secs(30), max_receive_count: 8 }
    }
}

/// The SQLite step queue.
pub struct SqliteQueue {
    db: Db,
    clock: Arc<dyn Clock>,
    settings: QueueSettings,
    sent: Notify,
    /// Receipts a step commit already deleted, until their settle comes.
    deleted: Mutex<HashSet<String>>,
    /// Consumers waiting for a message to be handed to them.
    pub(crate) takers: Takers,
}

impl SqliteQueue {
    /// A queue on `conn`.
    pub fn new(db: Db, clock: Arc<dyn Clock>, settings: QueueSettings) -> Self {
        Self {
            db,
            clock,
            settings,
            sent: Notify::new(),
            deleted: Mutex::default(),
            takers: Takers::default(),
        }
    }

    /// A send writes nothing but its messages, so a consumer they are handed to can read
    /// everything it needs already (the sender's earlier writes are committed): they are handed
    /// over as soon as the rows are staged, while the commit's fsync is still under way. The
    /// consumer's own writes (its step's checkpoint, the message's deletion) go through the
    /// same writer, so they commit after these rows, never without them.
    async fn insert(&self, bodies: Vec<String>, delay: Duration) -> Result<(), QueueError> {
        let (out, Handoffs { takers, plain }) = self.outgoing(bodies, delay);
        let untaken = Arc::new(Mutex::new(Vec::new()));
        let slot = untaken.clone();
        let staged: Then<Vec<Received>> = Box::new(move |handed| {
            *slot.lock().expect("untaken deliveries") = handoff::hand_over(takers, handed.clone());
        });
        self.db
            .write_staged(move |c| out.insert(c), staged)
            .await
            .map_err(|e| QueueError::Send(e.0))?;
        let untaken = std::mem::take(&mut *untaken.lock().expect("untaken deliveries"));
        self.handed(untaken, plain).await;
        Ok(())
    }

    /// The rows for messages sent now with `delay`, and the waiting consumers the first of
    /// them go to (none for a delayed message). Insert them with `Outgoing::insert` in a
    /// write, then pass what it returns to [`SqliteQueue::sent`].
    pub(crate) fn outgoing(&self, bodies: Vec<String>, delay: Duration) -> (Outgoing, Handoffs) {
        let now = self.clock.now();
        let takers = if delay.is_zero() { self.takers.take(bodies.len()) } else { Vec::new() };
        let plain = bodies.len() > takers.len();
        let out = Outgoing {
            handed: takers.len(),
            bodies,
            now,
            visible: now.plus(delay.min(Duration::from_secs(900))),
            hidden_until: now.plus(self.settings.visibility_timeout),
        };
        (out, Handoffs { takers, plain })
    }

    /// After the write of [`SqliteQueue::outgoing`]'s rows committed: hand the handed ones
    /// over, make visible again any whose consumer stopped waiting, and wake the consumers if
    /// there is anything left for them to receive.
    pub(crate) async fn sent(&self, handoffs: Handoffs, handed: Vec<Received>) {
        let Handoffs { takers, plain } = handoffs;
        self.handed(handoff::hand_over(takers, handed), plain).await;
    }

    /// After a handoff: make visible again the deliveries whose consumer stopped waiting (once
    /// their write is committed), and wake the consumers if anything is left for them.
    async fn handed(&self, untaken: Vec<Received>, plain: bool) {
        let untaken: Vec<String> = untaken.into_iter().map(|m| m.receipt).collect();
        let any_untaken = !untaken.is_empty();
        if any_untaken {
            let now = self.clock.now();
            // Unsynced: lost to a power cut, the message comes back when its visibility ends.
            let undone = self.db.write_unsynced(move |c| handoff::unhand(c, &untaken, now)).await;
            if let Err(e) = undone {
                warn!(error = %e, "a message nobody took stays hidden until its visibility ends");
            }
        }
        if plain || any_untaken {
            self.wake();
        }
    }

    /// Wake the consumers waiting for a message.
    fn wake(&self) {
        self.sent.notify_waiters();
    }

    /// A delivery deleted by a step commit: its settle needs no write of its own.
    pub(crate) fn deleted(&self, receipt: String) {
        self.deleted.lock().expect("deleted receipts").insert(receipt);
    }

    async fn receive_now(&self, max: u32) -> Result<Vec<Received>, SqliteError> {
        let now = self.clock.now();
        let settings = self.settings;
        // Unsynced: a receive lost to a power cut only means the message is delivered again
        // (with the receive count it had), as SQS may do anyway.
        self.db.write_unsynced(move |c| {
            let candidates: Vec<(i64, String, String, u32)> = {
                let mut st = c.prepare_cached(
                    "SELECT id, message_id, body, receive_count FROM queue \
                     WHERE visible_at <= ?1 ORDER BY visible_at, id LIMIT ?2",
                )?;
                st.query_map(params![now.millis(), max as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect::<Result<_, _>>()?
            };
            let mut out = Vec::new();
            for (id, message_id, body, count) in candidates {
                if count >= settings.max_receive_count {
                    // As SQS does: a message received maxReceiveCount times goes to the DLQ on
                    // the next receive instead of being delivered again.
                    c.execute(
                        "INSERT INTO dlq (message_id, body, sent_at, receive_count, moved_at) \
                         SELECT message_id, body, sent_at, receive_count, ?2 FROM queue WHERE id = ?1",
                        params![id, now.millis()],
                    )?;
                    c.execute("DELETE FROM queue WHERE id = ?1", params![id])?;
                    continue;
                }
                let token = handoff::token();
                c.prepare_cached(
                    "UPDATE queue SET receive_count = receive_count + 1, visible_at = ?1, receipt = ?2 WHERE id = ?3",
                )?
                .execute(params![now.plus(settings.visibility_timeout).millis(), token, id])?;
                let receipt = handoff::receipt(id, &token);
                out.push(Received { message_id, receipt, body, receive_count: count + 1 });
            }
            Ok(out)
        })
        .await
    }

    /// Messages in the queue (visible, in flight and delayed) and in the DLQ.
    pub async fn depth(&self) -> Result<(u64, u64), QueueError> {
        self.db
            .read(|c| {
                let q: i64 = c.query_row("SELECT COUNT(*) FROM queue", [], |r| r.get(0))?;
                let d: i64 = c.query_row("SELECT COUNT(*) FROM dlq", [], |r| r.get(0))?;
                Ok((q as u64, d as u64))
            })
            .await
            .map_err(|e| QueueError::Consume(e.0))
    }
}

/// Delete the delivery with this receipt (nothing if it is gone).
pub(crate) fn delete_delivery(c: &rusqlite::Connection, receipt: &str) -> Result<(), SqliteError> {
    if let Some((id, token)) = handoff::parse_receipt(receipt) {
        c.prepare_cached("DELETE FROM queue WHERE id = ?1 AND receipt = ?2")?
            .execute(params![id, token])?;
    }
    Ok(())
}

#[async_trait]
impl StepQueue for SqliteQueue {
    async fn send(&self, msg: &StepMessage, delay: Duration) -> Result<(), QueueError> {
        self.insert(vec![serde_json::to_string(msg).expect("messages serialise")], delay).await
    }

    async fn send_batch(&self, msgs: &[StepMessage], delay: Duration) -> Result<(), QueueError> {
        let bodies =
            msgs.iter().map(|m| serde_json::to_string(m).expect("messages serialise")).collect();
        self.insert(bodies, delay).await
    }

    async fn depth(&self) -> Result<Option<u64>, QueueError> {
        Ok(Some(SqliteQueue::depth(self).await?.0))
    }
}

#[async_trait]
impl QueueConsumer for SqliteQueue {
    async fn receive(&self, max: u32, wait: Duration) -> Result<Vec<Received>, QueueError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Register interest before looking, so a send in between is not missed.
            let notified = self.sent.notified();
            let got =
                self.receive_now(max.clamp(1, 10)).await.map_err(|e| QueueError::Consume(e.0))?;
            let now = tokio::time::Instant::now();
            if !got.is_empty() || now >= deadline {
                return Ok(got);
            }
            // Take a message handed over, wake on a send, or poll again soon for delayed /
            // expired-visibility messages.
            let mut handed = self.takers.wait();
            let nap = (deadline - now).min(Duration::from_millis(50));
            tokio::select! {
                m = &mut handed => if let Ok(m) = m {
                    return Ok(vec![m]);
                },
                _ = notified => {}
                _ = tokio::time::sleep(nap) => {}
            }
            // No more handoffs; one made meanwhile is ours.
            handed.close();
            if let Ok(m) = handed.try_recv() {
                return Ok(vec![m]);
            }
        }
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        if self.deleted.lock().expect("deleted receipts").remove(receipt) {
            // Already deleted in the transaction that checkpointed its step.
            return Ok(());
        }
        let r = receipt.to_owned();
        // Unsynced: the step it carried is checkpointed already; a deletion lost to a power cut
        // is a redelivery the engine ignores.
        self.db
            .write_unsynced(move |c| delete_delivery(c, &r))
            .await
            .map_err(|e| QueueError::Consume(e.0))
    }

    async fn change_visibility(&self, receipt: &str, timeout: Duration) -> Result<(), QueueError> {
        if self.deleted.lock().expect("deleted receipts").remove(receipt) {
            return Ok(());
        }
        let Some((id, token)) = handoff::parse_receipt(receipt) else {
            return Ok(()); // names no row: as for a message already gone
        };
        let (token, at) = (token.to_owned(), self.clock.now().plus(timeout));
        // Unsynced: losing it to a power cut brings the message back when its last visibility
        // timeout ends, which is what happens when a worker dies.
        self.db
            .write_unsynced(move |c| {
                c.prepare_cached(
                    "UPDATE queue SET visible_at = ?1 WHERE id = ?2 AND receipt = ?3",
                )?
                .execute(params![at.millis(), id, token])?;
                Ok(())
            })
            .await
            .map_err(|e| QueueError::Consume(e.0))?;
        if timeout.is_zero() {
            self.wake();
        }
        Ok(())
    }
}

#[async_trait]
impl DeadLetters for SqliteQueue {
    async fn bury(&self, body: &str) -> Result<(), QueueError> {
        let (body, now) = (body.to_owned(), self.clock.now());
        self.db
            .write(move |c| {
                c.execute(
                    "INSERT INTO dlq (message_id, body, sent_at, receive_count, moved_at) \
                 VALUES (?1, ?2, ?3, 0, ?3)",
                    params![uuid::Uuid::new_v4().to_string(), body, now.millis()],
                )?;
                Ok(())
            })
            .await
            .map_err(|e| QueueError::Send(e.0))
    }

    async fn list(&self, max: u32) -> Result<Vec<DeadLetter>, QueueError> {
        self.db
            .read(move |c| {
                let mut st = c.prepare(
                    "SELECT message_id, body, receive_count, sent_at FROM dlq ORDER BY id LIMIT ?1",
                )?;
                let rows = st.query_map(params![max as i64], letter)?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .await
            .map_err(|e| QueueError::Consume(e.0))
    }

    async fn hold(&self, message_id: &str) -> Result<Option<HeldLetter>, QueueError> {
        let id = message_id.to_owned();
        self.db.read(move |c| {
            let mut st = c.prepare(
                "SELECT message_id, body, receive_count, sent_at, id FROM dlq WHERE message_id = ?1",
            )?;
            let mut rows = st.query_map(params![id], |r| {
                Ok(HeldLetter { letter: letter(r)?, receipt: format!("dlq:{}", r.get::<_, i64>(4)?) })
            })?;
            Ok(rows.next().transpose()?)
        })
        .await
        .map_err(|e| QueueError::Consume(e.0))
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        let id: i64 = receipt
            .strip_prefix("dlq:")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| QueueError::Consume(format!("not a DLQ receipt: {receipt}")))?;
        self.db
            .write(move |c| {
                c.execute("DELETE FROM dlq WHERE id = ?1", params![id])?;
                Ok(())
            })
            .await
            .map_err(|e| QueueError::Consume(e.0))
    }

    async fn start_redrive(&self) -> Result<MoveTask, QueueError> {
        let now = self.clock.now();
        let handle = uuid::Uuid::new_v4().to_string();
        let h = handle.clone();
        let moved = self.db.write(move |c| {
            // Back to the source queue with a fresh receive count, as a move task does; the
            // move is one transaction here, so the task is complete when it is reported.
            let n = c.execute(
                "INSERT INTO queue (message_id, body, sent_at, visible_at) \
                 SELECT message_id, body, sent_at, ?1 FROM dlq ORDER BY id",
                params![now.millis()],
            )?;
            c.execute("DELETE FROM dlq", [])?;
            c.execute(
                "INSERT INTO move_tasks (handle, status, moved, started_at) VALUES (?1, 'COMPLETED', ?2, ?3)",
                params![h, n as i64, now.millis()],
            )?;
            Ok(n as u64)
        })
        .await
        .map_err(|e| QueueError::Consume(e.0))?;
        self.wake();
        Ok(MoveTask {
            handle,
            status: "COMPLETED".into(),
            moved,
            total: Some(moved),
            failure: None,
        })
    }

    async fn redrive_tasks(&self) -> Result<Vec<MoveTask>, QueueError> {
        self.db
            .read(|c| {
                let mut st = c.prepare(
                "SELECT handle, status, moved FROM move_tasks ORDER BY started_at DESC LIMIT 10",
            )?;
                let rows = st.query_map([], |r| {
                    let moved = r.get::<_, i64>(2)? as u64;
                    Ok(MoveTask {
                        handle: r.get(0)?,
                        status: r.get(1)?,
                        moved,
                        total: Some(moved),
                        failure: None,
                    })
                })?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .await
            .map_err(|e| QueueError::Consume(e.0))
    }
}

fn letter(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeadLetter> {
    Ok(DeadLetter {
        message_id: r.get(0)?,
        body: r.get(1)?,
        receive_count: r.get(2)?,
        sent_at: Some(Timestamp(r.get(3)?)),
    })
}
