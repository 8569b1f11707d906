//! Step queue conformance (SQS semantics). Uses real time: the queue under test must have a short
//! visibility timeout (about 2 s) and a small maximum receive count.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use myloware::domain::{RunId, StepMessage};
use myloware::ports::{DeadLetters, QueueConsumer, Received, StepQueue};
use tokio::time::Instant;

/// A fresh, empty queue and its DLQ.
pub struct QueueUnderTest {
    /// Sending side.
    pub queue: Arc<dyn StepQueue>,
    /// Consuming side.
    pub consumer: Arc<dyn QueueConsumer>,
    /// Its dead-letter queue.
    pub dlq: Arc<dyn DeadLetters>,
    /// The queue's visibility timeout.
    pub visibility: Duration,
    /// Receives before a message goes to the DLQ.
    pub max_receive_count: u32,
    /// Whether `redrive_all` is supported (moto has no message move tasks).
    pub redrive: bool,
}

/// The message for `run` at `v`, with an id of its own so its body is known in advance.
fn msg(run: RunId, v: u64) -> StepMessage {
    StepMessage { id: Some(format!("m{v}")), ..StepMessage::at(run, v) }
}

fn body(run: RunId, v: u64) -> String {
    serde_json::to_string(&msg(run, v)).unwrap()
}

/// Receive until `n` messages arrived or `within` passed.
async fn receive_n(c: &dyn QueueConsumer, n: usize, within: Duration) -> Vec<Received> {
    let deadline = Instant::now() + within;
    let mut out = Vec::new();
    while out.len() < n && Instant::now() < deadline {
        out.extend(c.receive(10, Duration::from_millis(500)).await.unwrap());
    }
    out
}

async fn expect_empty(c: &dyn QueueConsumer, what: &str) {
    let got = c.receive(10, Duration::from_millis(300)).await.unwrap();
    assert!(got.is_empty(), "{what}: expected nothing, got {got:?}");
}

/// Every queue check, in order, on an empty queue.
pub async fn queue_suite(q: QueueUnderTest) {
    let c = q.consumer.as_ref();
    let run = RunId::new();

    // Send, receive once, invisible while in flight, gone after delete.
    q.queue.send(&msg(run, 1), Duration::ZERO).await.unwrap();
    let got = receive_n(c, 1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1, "send → receive");
    assert_eq!(
        (got[0].body.as_str(), got[0].receive_count),
        (body(run, 1).as_str(), 1),
        "body and count"
    );
    expect_empty(c, "in flight").await;
    c.delete(&got[0].receipt).await.unwrap();
    tokio::time::sleep(q.visibility + Duration::from_millis(300)).await;
    expect_empty(c, "deleted").await;

    // Visibility expiry → redelivery with a higher receive count; same message id.
    q.queue.send(&msg(run, 2), Duration::ZERO).await.unwrap();
    let first = receive_n(c, 1, Duration::from_secs(5)).await;
    assert_eq!(first.len(), 1, "second message");
    let again = receive_n(c, 1, q.visibility + Duration::from_secs(5)).await;
    assert_eq!(again.len(), 1, "redelivered after the visibility timeout");
    assert_eq!(
        (again[0].message_id.as_str(), again[0].receive_count),
        (first[0].message_id.as_str(), 2),
        "same message, count 2"
    );

    c.delete(&again[0].receipt).await.unwrap();

    // change_visibility(0) makes a message visible at once.
    q.queue.send(&msg(run, 4), Duration::ZERO).await.unwrap();
    let once = receive_n(c, 1, Duration::from_secs(5)).await;
    assert_eq!(once.len(), 1, "fourth message");
    c.change_visibility(&once[0].receipt, Duration::ZERO).await.unwrap();
    let twice = receive_n(c, 1, Duration::from_secs(2)).await;
    assert_eq!(twice.len(), 1, "visible again after change_visibility(0)");
    c.delete(&twice[0].receipt).await.unwrap();

    // Delay: not visible before, visible after.
    q.queue.send(&msg(run, 3), Duration::from_secs(2)).await.unwrap();
    expect_empty(c, "delayed").await;
    let delayed = receive_n(c, 1, Duration::from_secs(6)).await;
    assert_eq!(delayed.len(), 1, "delayed message arrives");
    c.delete(&delayed[0].receipt).await.unwrap();

    // A timer never fires early: a delay that is not whole seconds rounds up, never down.
    let sent = Instant::now();
    q.queue.send(&msg(run, 5), Duration::from_millis(1500)).await.unwrap();
    let timer = receive_n(c, 1, Duration::from_secs(6)).await;
    assert_eq!(timer.len(), 1, "the delayed message arrives");
    assert!(
        sent.elapsed() >= Duration::from_millis(1500),
        "not before its delay: {:?}",
        sent.elapsed()
    );
    c.delete(&timer[0].receipt).await.unwrap();

    // Batch send of more than ten.
    let many: Vec<StepMessage> = (10..22).map(|v| msg(run, v)).collect();
    q.queue.send_batch(&many, Duration::ZERO).await.unwrap();
    let got = receive_n(c, 12, Duration::from_secs(10)).await;
    let bodies: BTreeSet<String> = got.iter().map(|m| m.body.clone()).collect();
    assert_eq!(bodies.len(), 12, "all twelve batched messages, each once");
    for m in &got {
        c.delete(&m.receipt).await.unwrap();
    }

    // Receive count → DLQ, then redrive back.
    q.queue.send(&msg(run, 99), Duration::ZERO).await.unwrap();
    for n in 1..=q.max_receive_count {
        let m = receive_n(c, 1, q.visibility + Duration::from_secs(5)).await;
        assert_eq!(m.len(), 1, "receive {n} of a failing message");
        assert_eq!(m[0].receive_count, n, "receive count {n}");
        c.change_visibility(&m[0].receipt, Duration::ZERO).await.unwrap();
    }
    // The next receive attempt moves it to the DLQ instead of delivering it.
    expect_empty(c, "moved to the DLQ after the maximum receive count").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let dead = loop {
        let d = q.dlq.list(10).await.unwrap();
        if !d.is_empty() || Instant::now() > deadline {
            break d;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(dead.len(), 1, "one message in the DLQ");
    assert_eq!(dead[0].body, body(run, 99), "the DLQ holds the failing message");
    if q.redrive {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(q.dlq.redrive_all().await.unwrap(), 1, "redrive moves one");
        let back = receive_n(c, 1, Duration::from_secs(10)).await;
        assert_eq!(back.len(), 1, "redriven message is back in the queue");
        assert_eq!(back[0].body, body(run, 99));
        c.delete(&back[0].receipt).await.unwrap();
        assert!(q.dlq.list(10).await.unwrap().is_empty(), "DLQ empty after redrive");
    }

    // The runner's own dead-lettering: bury, list, hold one, delete it.
    q.dlq.bury(&body(run, 100)).await.unwrap();
    let listed = q.dlq.list(10).await.unwrap();
    assert_eq!(listed.len(), 1, "a buried message is listed");
    assert_eq!(listed[0].body, body(run, 100));
    assert!(listed[0].sent_at.is_some(), "with its send time");
    assert_eq!(q.dlq.list(10).await.unwrap().len(), 1, "listing leaves it there");
    assert!(q.dlq.hold("no-such-message").await.unwrap().is_none(), "unknown id");
    let held = q.dlq.hold(&listed[0].message_id).await.unwrap().expect("held");
    assert_eq!(held.letter.body, body(run, 100));
    q.dlq.delete(&held.receipt).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(q.dlq.list(10).await.unwrap().is_empty(), "deleted from the DLQ");
    if q.redrive {
        // A buried message has no source queue of its own: the redrive names the step queue.
        q.dlq.bury(&body(run, 101)).await.unwrap();
        assert_eq!(q.dlq.redrive_all().await.unwrap(), 1, "redrive moves the buried message");
        let back = receive_n(c, 1, Duration::from_secs(10)).await;
        assert_eq!(back.len(), 1, "buried message is back in the queue");
        assert_eq!(back[0].body, body(run, 101));
        c.delete(&back[0].receipt).await.unwrap();
        let tasks = q.dlq.redrive_tasks().await.unwrap();
        assert_eq!(tasks.first().map(|t| t.status.as_str()), Some("COMPLETED"), "{tasks:?}");
    }
}
