//! Sending with a direct handoff. A message sent (with no delay) while a consumer is waiting
//! for one is written as already received by that consumer, in the send's own write, and
//! handed to it: the consumer skips its wake-up and its receive's write. A plain send hands
//! over as soon as its rows are staged, before the commit's fsync, so the step runs while the
//! disk syncs (the consumer reads only what earlier, committed writes hold, and its own writes
//! queue behind the send's: `SqliteQueue::insert`); a step commit that carries its next message
//! hands over once committed, since that message's step reads the checkpoint beside it.
//! Nothing changes for the message's semantics: the row holds the receive count, receipt and
//! visibility timeout a receive would have written, so a consumer dying with it brings it back
//! when the timeout ends, as after any receive. A consumer that stopped waiting before the
//! handoff reached it gets nothing; its message is made visible again at once, unreceived.
//!
//! Receipts name their row (`<id>:<token>`), so the queue needs no index on them.

use std::sync::Mutex;

use myloware::ports::Received;
use myloware::time::Timestamp;
use rusqlite::{Connection, params};
use tokio::sync::oneshot;

use crate::db::SqliteError;

/// The receipt of a delivery of row `id`.
pub(crate) fn receipt(id: i64, token: &str) -> String {
    format!("{id}:{token}")
}

/// The row and token a receipt names (`None`: not one of ours, so it names no row).
pub(crate) fn parse_receipt(receipt: &str) -> Option<(i64, &str)> {
    let (id, token) = receipt.split_once(':')?;
    Some((id.parse().ok()?, token))
}

/// A fresh receive token.
pub(crate) fn token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Consumers waiting for a message, each with where to hand it.
#[derive(Default)]
pub(crate) struct Takers(Mutex<Vec<oneshot::Sender<Received>>>);

impl Takers {
    /// Wait for a handoff: a message sent from now on may come through the receiver. Close it
    /// before giving up, then take what it may hold (see `receive`), so nothing is dropped.
    pub(crate) fn wait(&self) -> oneshot::Receiver<Received> {
        let (tx, rx) = oneshot::channel();
        let mut takers = self.0.lock().expect("takers");
        takers.retain(|t| !t.is_closed());
        takers.push(tx);
        rx
    }

    /// Up to `n` consumers still waiting, taken off the list.
    pub(crate) fn take(&self, n: usize) -> Vec<oneshot::Sender<Received>> {
        let mut takers = self.0.lock().expect("takers");
        let mut out = Vec::new();
        while out.len() < n {
            match takers.pop() {
                Some(t) if t.is_closed() => {}
                Some(t) => out.push(t),
                None => break,
            }
        }
        out
    }
}

/// What the sender keeps while its rows are written: the consumers chosen for the first of
/// them, and whether any row is left for the others to receive (they are woken for it).
pub(crate) struct Handoffs {
    pub(crate) takers: Vec<oneshot::Sender<Received>>,
    pub(crate) plain: bool,
}

/// Messages to insert in one write: the first `handed` as received (by the takers chosen for
/// them), the rest to become visible at `visible`.
pub(crate) struct Outgoing {
    pub(crate) bodies: Vec<String>,
    pub(crate) now: Timestamp,
    pub(crate) visible: Timestamp,
    /// When a handed message becomes visible again if its consumer never settles it.
    pub(crate) hidden_until: Timestamp,
    pub(crate) handed: usize,
}

impl Outgoing {
    /// Insert the rows; the deliveries of the handed ones.
    pub(crate) fn insert(&self, c: &Connection) -> Result<Vec<Received>, SqliteError> {
        let mut st = c.prepare_cached(
            "INSERT INTO queue (message_id, body, sent_at, visible_at, receive_count, receipt) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let mut handed = Vec::with_capacity(self.handed);
        for (i, body) in self.bodies.iter().enumerate() {
            let message_id = uuid::Uuid::new_v4().to_string();
            // A handed row is written as its receive would leave it.
            let received = (i < self.handed).then(token);
            let visible = if received.is_some() { self.hidden_until } else { self.visible };
            let count = u32::from(received.is_some());
            st.execute(params![
                message_id,
                body,
                self.now.millis(),
                visible.millis(),
                count,
                received
            ])?;
            if let Some(token) = received {
                let receipt = receipt(c.last_insert_rowid(), &token);
                handed.push(Received { message_id, receipt, body: body.clone(), receive_count: 1 });
            }
        }
        Ok(handed)
    }
}

/// Give each taker its delivery; the deliveries of takers that stopped waiting.
pub(crate) fn hand_over(
    takers: Vec<oneshot::Sender<Received>>,
    handed: Vec<Received>,
) -> Vec<Received> {
    takers.into_iter().zip(handed).filter_map(|(t, m)| t.send(m).err()).collect()
}

/// Undo a handoff nobody took: the message is visible now, as if never received.
pub(crate) fn unhand(
    c: &Connection,
    receipts: &[String],
    now: Timestamp,
) -> Result<(), SqliteError> {
    let mut st = c.prepare_cached(
        "UPDATE queue SET visible_at = ?1, receive_count = receive_count - 1, receipt = NULL \
         WHERE id = ?2 AND receipt = ?3",
    )?;
    for (id, token) in receipts.iter().filter_map(|r| parse_receipt(r)) {
        st.execute(params![now.millis(), id, token])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use myloware::domain::{RunId, StepMessage};
    use myloware::ports::{QueueConsumer, StepQueue};
    use myloware::time::{Clock, SystemClock};

    use super::*;
    use crate::queue::{QueueSettings, SqliteQueue};

    fn queue() -> (SqliteQueue, crate::Db, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("handoff-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = crate::db::open(&dir.join("q.db")).unwrap();
        (SqliteQueue::new(db.clone(), Arc::new(SystemClock), QueueSettings::default()), db, dir)
    }

    /// (receive count, visible at) of every row.
    async fn rows(db: &crate::Db) -> Vec<(u32, i64)> {
        db.read(|c| {
            let mut st = c.prepare("SELECT receive_count, visible_at FROM queue ORDER BY id")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn a_message_sent_while_a_consumer_waits_is_received_in_the_send_write() {
        let (q, db, dir) = queue();
        let waiting = q.takers.wait();
        let commits = db.write_stats().commits();
        let before = SystemClock.now();
        let (out, handoffs) = q.outgoing(vec!["a".into(), "b".into()], Duration::ZERO);
        let handed = db.write(move |c| out.insert(c)).await.unwrap();
        q.sent(handoffs, handed).await;
        let m = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("handed over at once")
            .expect("handed over");
        assert_eq!((m.body.as_str(), m.receive_count), ("a", 1));
        assert_eq!(db.write_stats().commits() - commits, 1, "no receive write of its own");
        let rows = rows(&db).await;
        assert_eq!(rows[0].0, 1, "the row holds the receive");
        let hidden = before.plus(QueueSettings::default().visibility_timeout).millis();
        assert!(rows[0].1 >= hidden, "hidden for the visibility timeout");
        assert_eq!(rows[1], (0, rows[1].1), "the second had no taker: an ordinary message");
        // Only the unhanded one is there to receive; the handed one is settled by its receipt.
        let got = q.receive(10, Duration::ZERO).await.unwrap();
        assert_eq!(got.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["b"]);
        q.delete(&m.receipt).await.unwrap();
        assert_eq!(self::rows(&db).await.len(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_message_whose_consumer_stopped_waiting_is_visible_again_unreceived() {
        let (q, db, dir) = queue();
        let waiting = q.takers.wait();
        let (out, handoffs) = q.outgoing(vec!["a".into()], Duration::ZERO);
        assert_eq!(out.handed, 1);
        // The consumer gives up after it was chosen, before the write commits.
        drop(waiting);
        let handed = db.write(move |c| out.insert(c)).await.unwrap();
        q.sent(handoffs, handed).await;
        let got = q.receive(10, Duration::ZERO).await.unwrap();
        assert_eq!(got.len(), 1, "visible at once");
        assert_eq!(got[0].receive_count, 1, "as if never received before");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_message_handed_over_before_its_commit_is_settled_after_it() {
        let (q, _db, dir) = queue();
        let q = Arc::new(q);
        for _ in 0..30 {
            let waiting = q.takers.wait();
            let sender = {
                let q = q.clone();
                tokio::spawn(async move {
                    q.send(&StepMessage::wake(RunId::new()), Duration::ZERO).await
                })
            };
            let m = tokio::time::timeout(Duration::from_secs(5), waiting)
                .await
                .expect("handed over")
                .expect("handed over");
            // Settled at once, perhaps while the send's commit is still under way: the
            // deletion is written after the row it deletes, so it finds it.
            q.delete(&m.receipt).await.unwrap();
            sender.await.unwrap().unwrap();
        }
        assert_eq!(q.depth().await.unwrap(), (0, 0), "every handed message was deleted");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_delayed_message_is_never_handed_over() {
        let (q, _db, dir) = queue();
        let _waiting = q.takers.wait();
        let (out, handoffs) = q.outgoing(vec!["a".into()], Duration::from_secs(5));
        assert_eq!((out.handed, handoffs.takers.len()), (0, 0));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn receipts_name_their_row() {
        let r = receipt(42, "abc");
        assert_eq!(parse_receipt(&r), Some((42, "abc")));
        assert_eq!(parse_receipt("abc"), None);
        assert_eq!(parse_receipt("x:abc"), None);
    }

    #[tokio::test]
    async fn a_taker_that_stopped_waiting_is_never_chosen() {
        let takers = Takers::default();
        let mut gone = takers.wait();
        gone.close();
        let _waiting = takers.wait();
        assert_eq!(takers.take(2).len(), 1, "only the one still waiting");
        assert!(takers.take(1).is_empty());
    }
}
