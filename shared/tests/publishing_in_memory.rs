//! Publishing exactly once (in memory): the upload is posted once under our request id and
//! awaited as a wait — through a publisher that says "still processing", a crash after the
//! POST, a crash before it, and an upload the publisher refuses. Counted in POSTs received.

mod common;

use std::time::Duration;

use common::Harness;
use myloware::domain::{Gate, RunId, RunStatus, Step};
use myloware::engine::Disposition;
use myloware::ports::RunStore;

/// A run taken to the publish gate and approved; its publishing message is returned unhandled.
async fn at_publishing(h: &Harness) -> (RunId, myloware::domain::StepMessage) {
    let id = h.full_run_until_videos(2).await;
    for job in h.fakes.video.take_outbox() {
        h.fakes.video.send(&job).await.unwrap();
    }
    h.pump(1).await;
    for job in h.fakes.render.take_outbox() {
        h.fakes.render.send(&job).await.unwrap();
    }
    h.pump(1).await;
    let _gate_timers = h.queue.take_delayed();
    h.approve(&id, Gate::Publish).await;
    let m = h.queue.pop().expect("the publishing message");
    assert_eq!(h.run(&id).await.step, Step::Publishing);
    (id, m)
}

#[tokio::test]
async fn a_slow_upload_is_awaited_by_polling_and_posted_once() {
    let h = Harness::new();
    h.fakes.publish.processing_polls(3);
    let (id, m) = at_publishing(&h).await;
    assert_eq!(h.deliver(&m, 1).await, Ok(Disposition::Ack));
    h.pump(1).await;
    let waiting = h.run(&id).await;
    assert_eq!((waiting.status, waiting.step), (RunStatus::AwaitingPublish, Step::WaitForPublish));
    // "Still processing" three times: each only schedules the next poll.
    h.timers(1).await;
    let done = h.run(&id).await;
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(done.open_wait, None);
    assert!(done.state.published_url.as_deref().unwrap().starts_with("https://"));
    assert_eq!(h.fakes.publish.posts().for_run(&id), 1, "one upload POST");
    let polls = h.store.history(&id).await.unwrap();
    let ticks = polls.iter().filter(|c| c.step == Step::WaitForPublish).count();
    assert!(ticks >= 4, "the wait and its three pending polls are in the history: {ticks}");
}

#[tokio::test]
async fn a_crash_after_the_post_asks_before_posting_again() {
    let h = Harness::new();
    let (id, m) = at_publishing(&h).await;
    h.faults.crash_on("publish.after", 1);
    assert!(h.deliver(&m, 1).await.is_err(), "crashed after the provider took the upload");
    assert_eq!(h.fakes.publish.posts().for_run(&id), 1);
    // The redelivery (after the crashed holder's lease lapsed) finds the intent claimed: it
    // asks the upload's status, finds it, and only waits for it.
    h.clock.advance(Duration::from_secs(61));
    assert_eq!(h.deliver(&m, 2).await, Ok(Disposition::Ack));
    h.pump(1).await;
    h.timers(1).await;
    assert_eq!(h.run(&id).await.status, RunStatus::Completed);
    assert_eq!(h.fakes.publish.posts().for_run(&id), 1, "never posted twice");
}

#[tokio::test]
async fn a_crash_before_the_post_posts_once_the_publisher_says_it_never_got_it() {
    let h = Harness::new();
    let (id, m) = at_publishing(&h).await;
    h.faults.crash_on("publish.before", 1);
    assert!(h.deliver(&m, 1).await.is_err());
    assert_eq!(h.fakes.publish.posts().for_run(&id), 0, "nothing reached the publisher");
    h.clock.advance(Duration::from_secs(61));
    assert_eq!(h.deliver(&m, 2).await, Ok(Disposition::Ack));
    h.pump(1).await;
    h.timers(1).await;
    assert_eq!(h.run(&id).await.status, RunStatus::Completed);
    assert_eq!(h.fakes.publish.posts().for_run(&id), 1, "posted once, after asking");
}

#[tokio::test]
async fn an_upload_the_publisher_refuses_fails_the_run_with_its_words() {
    let h = Harness::new();
    h.fakes.publish.fail_with(Some("tiktok: video too long"));
    let (id, m) = at_publishing(&h).await;
    assert_eq!(h.deliver(&m, 1).await, Ok(Disposition::Ack));
    h.pump(1).await;
    h.timers(1).await;
    let run = h.run(&id).await;
    assert_eq!(run.status, RunStatus::Failed);
    let err = run.error.unwrap();
    assert_eq!((err.code.as_str(), err.step), ("publish_failed", Step::WaitForPublish));
    assert!(err.message.contains("video too long"), "{}", err.message);
    assert_eq!(h.fakes.publish.posts().for_run(&id), 1);
}

#[tokio::test]
async fn no_upload_starts_after_a_cancel_returned() {
    let h = Harness::new();
    let (id, m) = at_publishing(&h).await;
    // A cancel lands while publishing checks the caption: the step's lease confirmation before
    // the POST then fails, and nothing is posted.
    h.faults.delay_at("store.claim_intent.before", Duration::from_millis(300));
    let step = {
        let engine = h.engine.clone();
        tokio::spawn(async move { engine.handle_message(&m, "worker").await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let cancelled = h.engine.cancel(&id, "operator", None, None).await.unwrap();
    assert_eq!(cancelled.status, RunStatus::Cancelled);
    let posts_at_return = h.fakes.publish.posts().for_run(&id);
    assert_eq!(step.await.unwrap().unwrap(), Disposition::Ack);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!((posts_at_return, h.fakes.publish.posts().for_run(&id)), (0, 0), "never posted");
    assert_eq!(h.run(&id).await.status, RunStatus::Cancelled);
}
