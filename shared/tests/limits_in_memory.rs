//! Records stay small (DynamoDB caps an item at 400 KB): outside text — LLM output, a
//! provider's failure reason — is bounded where it enters, so no run can grow a record (or its
//! history snapshot, or a rendezvous item) past the limit and then fail to write forever.

mod common;

use common::Harness;
use myloware::domain::{Gate, MAX_REASON_CHARS, Provider, RunStatus, Step};
use myloware::ports::RunStore;

fn size<T: serde::Serialize>(v: &T) -> usize {
    serde_json::to_vec(v).unwrap().len()
}

#[tokio::test]
async fn a_rambling_llm_fails_ideation_with_a_short_reason_and_a_small_record() {
    let h = Harness::new();
    h.fakes.llm.ramble(1_000_000);
    let id = h.start(3).await;
    h.pump(1).await;
    let run = h.run(&id).await;
    assert_eq!(run.status, RunStatus::Failed);
    let err = run.error.clone().unwrap();
    assert_eq!((err.code.as_str(), err.step), ("invalid_llm_output", Step::Ideation));
    assert!(
        err.message.contains("/prompts/0: ") && err.message.contains("is longer than"),
        "{}",
        err.message
    );
    assert!(err.message.chars().count() < 600, "{}", err.message);
    assert!(size(&run) < 10_000, "the record stays small: {} bytes", size(&run));
    assert!(h.store.history(&id).await.unwrap().iter().all(|c| size(c) < 10_000));
}

#[tokio::test]
async fn a_provider_failure_reason_is_bounded_on_the_rendezvous_and_the_run() {
    let h = Harness::new();
    let huge = "x".repeat(1_000_000);
    h.fakes.video.fail_index(0, &huge);
    let id = h.start(1).await;
    h.pump(1).await;
    h.approve(&id, Gate::Ideation).await;
    h.pump(1).await;
    for job in h.fakes.video.take_outbox() {
        h.fakes.video.send(&job).await.unwrap();
    }
    h.pump(1).await;
    let run = h.run(&id).await;
    assert_eq!(run.status, RunStatus::Failed);
    let err = run.error.clone().unwrap();
    assert_eq!(err.code, "video_failed");
    assert!(err.message.chars().count() <= MAX_REASON_CHARS + 1, "{}", err.message.len());
    let jobs: Vec<_> = run.state.clips.iter().map(|c| c.job_id.clone()).collect();
    let recs = h.store.correlations(Provider::OpenAi, &jobs).await.unwrap();
    assert!(size(&recs[0]) < 10_000, "the rendezvous item stays small: {}", size(&recs[0]));
    assert!(size(&run) < 10_000);
}
