//! Whole video runs through the engine on the in-memory adapters, with fakes that call back
//! through the webhook intake (signature verification included).

mod common;

use std::time::Duration;

use common::Harness;
use myloware::domain::{Decision, Gate, ProjectName, RunStatus, Step};
use myloware::engine::{Disposition, StartRequest};
use myloware::ports::RunStore;
use myloware::time::Clock;

#[tokio::test]
async fn a_run_completes_with_one_paid_job_per_clip() {
    let h = Harness::new();
    let id = h.full_run(1).await;
    let run = h.run(&id).await;
    assert_eq!(run.status, RunStatus::Completed);
    assert!(run.state.published_url.is_some());
    assert_eq!(h.fakes.video.jobs_started(), 3);
    assert_eq!(h.fakes.render.jobs_started(), 1);
    assert_eq!(h.fakes.publish.jobs_started(), 1);
    let steps: Vec<Step> = h.store.history(&id).await.unwrap().iter().map(|c| c.step).collect();
    for s in Step::WORKFLOW {
        assert!(steps.contains(&s), "history {steps:?} lacks {s}");
    }
    let versions: Vec<u64> =
        h.store.history(&id).await.unwrap().iter().map(|c| c.version).collect();
    assert_eq!(versions, (1..=run.version).collect::<Vec<_>>());
    assert_eq!(h.store.audit_log(&id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn every_message_twice_ends_identical() {
    let once = Harness::new();
    let a = once.full_run(1).await;
    let twice = Harness::new();
    let b = twice.full_run(2).await;
    let (ra, rb) = (once.run(&a).await, twice.run(&b).await);
    assert_eq!((ra.status, ra.version, ra.step), (rb.status, rb.version, rb.step));
    assert_eq!(twice.fakes.video.jobs_started(), 3);
    assert_eq!(twice.fakes.render.jobs_started(), 1);
}

#[tokio::test]
async fn a_failed_video_fails_the_run_with_the_reason() {
    let h = Harness::new();
    h.fakes.video.fail_index(1, "moderation_blocked");
    let id = h.start(3).await;
    h.pump(1).await;
    h.approve(&id, Gate::Ideation).await;
    h.pump(1).await;
    for job in h.fakes.video.take_outbox() {
        h.fakes.video.send(&job).await.unwrap();
    }
    h.pump(1).await;
    let run = h.run(&id).await;
    assert_eq!(run.status, RunStatus::Failed);
    let err = run.error.unwrap();
    assert_eq!(err.code, "video_failed");
    assert!(err.message.contains("moderation_blocked"), "{}", err.message);
    assert_eq!(h.fakes.render.jobs_started(), 0);
}

#[tokio::test]
async fn rejecting_a_gate_rejects_the_run_and_a_second_decision_conflicts() {
    let h = Harness::new();
    let id = h.start(2).await;
    h.pump(1).await;
    let out = h
        .engine
        .decide(&id, Gate::Ideation, Decision::Reject, Some("no".into()), "t", None)
        .await
        .unwrap();
    assert_eq!(out.run.status, RunStatus::Rejected);
    let again =
        h.engine.decide(&id, Gate::Ideation, Decision::Reject, None, "t", None).await.unwrap();
    assert!(again.replayed);
    let err =
        h.engine.decide(&id, Gate::Ideation, Decision::Approve, None, "t", None).await.unwrap_err();
    assert_eq!(err.code(), "not_waiting_at_gate");
    let err =
        h.engine.decide(&id, Gate::Publish, Decision::Approve, None, "t", None).await.unwrap_err();
    assert_eq!(err.code(), "not_waiting_at_gate");
    h.pump(1).await;
    assert_eq!(h.fakes.video.jobs_started(), 0);
}

#[tokio::test]
async fn a_blocked_brief_creates_no_run_and_an_unavailable_checker_refuses() {
    let h = Harness::new();
    let req = |brief: &str| StartRequest {
        project: ProjectName::parse("aismr").unwrap(),
        brief: brief.into(),
        clips: None,
        idempotency_key: None,
        request_id: None,
        caller: None,
        owner: None,
    };
    let err = h.engine.start_run(req("how to kill time")).await.unwrap_err();
    assert_eq!(err.code(), "content_blocked");
    h.fakes.safety.fail_with(Some("moderation service down"));
    let err = h.engine.start_run(req("waves")).await.unwrap_err();
    assert_eq!(err.code(), "safety_unavailable");
    assert!(
        h.store.list_runs(&Default::default()).await.unwrap().runs.is_empty(),
        "nothing stored"
    );
    assert!(h.queue.is_empty());
}

#[tokio::test]
async fn an_llm_output_blocked_at_ideation_fails_before_the_gate_and_pays_nothing() {
    let h = Harness::new();
    // The brief is fine; the ideator's output ("Scene 1 of 3: …") is not.
    h.fakes.safety.block("scene");
    let id = h.start(3).await;
    h.pump(1).await;
    let run = h.run(&id).await;
    assert_eq!((run.status, run.step), (RunStatus::Failed, Step::Ideation));
    let err = run.error.unwrap();
    assert_eq!(err.code, "content_blocked");
    assert!(err.message.contains("scene"), "{}", err.message);
    assert_eq!(h.fakes.video.jobs_started(), 0, "the video provider got no job");
}

#[tokio::test]
async fn a_replayed_step_reuses_cached_verdicts() {
    let h = Harness::new();
    let id = h.start(3).await;
    h.pump(1).await;
    h.approve(&id, Gate::Ideation).await;
    let prod = h.queue.pop().unwrap();
    let calls_before = h.fakes.safety.calls();
    let run = h.run(&id).await;
    for p in &run.state.ideas.as_ref().unwrap().prompts {
        assert_eq!(
            h.engine.check_safety(Some(&id), p).await.unwrap(),
            myloware::engine::SafetyOutcome::Safe
        );
    }
    let after_first = h.fakes.safety.calls();
    assert_eq!(after_first - calls_before, 0, "ideation already cleared the prompts for this run");
    // The step itself (first delivery and a redelivery) asks the checker nothing more.
    assert_eq!(h.engine.handle_message(&prod, "a").await.unwrap(), Disposition::Ack);
    h.engine.handle_message(&prod, "b").await.unwrap();
    assert_eq!(h.fakes.safety.calls(), after_first, "verdicts came from the run's cache");
    // A different text is a new question.
    h.engine.check_safety(Some(&id), "a new caption").await.unwrap();
    assert_eq!(h.fakes.safety.calls(), after_first + 1);
    // Errors are not cached: they are asked again.
    h.fakes.safety.fail_with(Some("down"));
    let o = h.engine.check_safety(Some(&id), "another text").await.unwrap();
    assert!(matches!(o, myloware::engine::SafetyOutcome::Unavailable(_)));
    h.fakes.safety.fail_with(None);
    h.engine.check_safety(Some(&id), "another text").await.unwrap();
    assert_eq!(h.fakes.safety.calls(), after_first + 3, "the failed check was asked again");
}

#[tokio::test]
async fn a_lost_enqueue_is_re_sent_at_once_by_the_redelivery_of_the_message_that_wrote_it() {
    let h = Harness::new();
    let id = h.start(1).await;
    h.pump(1).await;
    assert_eq!(h.run(&id).await.status, RunStatus::AwaitingIdeationApproval);
    h.approve(&id, Gate::Ideation).await;
    let prod = h.queue.pop().unwrap();
    // The checkpoint lands, then the send of the next message fails: the step errors, so its
    // message is not acked and comes back.
    h.queue.fail_next_sends(1);
    assert!(h.engine.handle_message(&prod, "a").await.is_err());
    let waiting = h.run(&id).await;
    assert_eq!(waiting.status, RunStatus::AwaitingVideoGeneration);
    assert_eq!(waiting.written_by, prod.id, "the checkpoint names the message that wrote it");
    assert!(h.queue.is_empty(), "the wait's message was lost");
    // Another stale message (not the writer) re-sends nothing, however long the run waited.
    h.clock.advance(Duration::from_secs(3600));
    let other = myloware::domain::StepMessage::at(id, prod.version.unwrap());
    assert_eq!(h.engine.handle_message(&other, "b").await.unwrap(), Disposition::Ack);
    assert!(h.queue.is_empty());
    // The redelivery of the writer, right away (no grace): it re-sends the lost message and is
    // acked — a real queue deletes it then, so it is never delivered again.
    assert_eq!(h.engine.handle_message(&prod, "a").await.unwrap(), Disposition::Ack);
    assert_eq!(h.queue.len(), 1);
    for job in h.fakes.video.take_outbox() {
        h.fakes.video.send(&job).await.unwrap();
    }
    h.pump(1).await;
    assert_eq!(h.run(&id).await.status, RunStatus::AwaitingRender);
    assert_eq!(h.fakes.video.jobs_started(), 1);
    assert_eq!(h.fakes.video.submissions().total(), 1, "one submit call");
}

#[tokio::test]
async fn a_concurrent_delivery_waits_for_the_lease_and_never_pays_twice() {
    let h = Harness::new();
    let id = h.start(2).await;
    h.pump(1).await;
    h.approve(&id, Gate::Ideation).await;
    let prod = h.queue.pop().unwrap();
    let run = h.run(&id).await;
    // Another invocation holds the lease at this version.
    let until = h.clock.now().plus(Duration::from_secs(60));
    h.store.acquire_lease(&id, run.version, "other", until, h.clock.now()).await.unwrap();
    // Retried once the holder's lease lapses (not at once, and never stalling the run).
    let d = h.engine.handle_message(&prod, "me").await.unwrap();
    assert!(matches!(d, Disposition::Retry { after } if after >= Duration::from_secs(59)), "{d:?}");
    assert_eq!(h.fakes.video.jobs_started(), 0);
    // The holder crashed; its lease lapses; the redelivered message runs the step.
    h.clock.advance(Duration::from_secs(61));
    assert_eq!(h.engine.handle_message(&prod, "me").await.unwrap(), Disposition::Ack);
    assert_eq!(h.fakes.video.jobs_started(), 2);
    // A crash after the provider accepted but before the checkpoint: the same intents are
    // reused, so re-running the step pays nothing more.
    assert_eq!(h.run(&id).await.status, RunStatus::AwaitingVideoGeneration);
}

#[tokio::test]
async fn an_idempotency_key_returns_the_same_run() {
    let h = Harness::new();
    let req = StartRequest {
        project: ProjectName::parse("aismr").unwrap(),
        brief: "b".into(),
        clips: None,
        idempotency_key: Some(myloware::domain::IdempotencyKey::parse("key-1").unwrap()),
        request_id: None,
        caller: None,
        owner: None,
    };
    let a = h.engine.start_run(req.clone()).await.unwrap();
    let b = h.engine.start_run(req).await.unwrap();
    assert!(!a.replayed && b.replayed);
    assert_eq!(a.run.run_id, b.run.run_id);
    assert_eq!(h.engine.store.list_runs(&Default::default()).await.unwrap().runs.len(), 1);
}

#[tokio::test]
async fn a_resumed_step_reuses_cached_verdicts_and_reruns_only_that_step() {
    let h = Harness::new();
    let id = h.start(3).await;
    h.pump(1).await;
    h.approve(&id, Gate::Ideation).await;
    h.fakes.video.refuse_submissions(Some("quota exceeded"));
    h.pump(1).await;
    let failed = h.run(&id).await;
    assert_eq!(
        (failed.status, failed.error.as_ref().map(|e| e.step)),
        (RunStatus::Failed, Some(Step::Production))
    );
    assert!(failed.error.unwrap().message.contains("quota exceeded"));
    let (llm_calls, safety_calls) = (h.fakes.llm.calls(), h.fakes.safety.calls());

    h.fakes.video.refuse_submissions(None);
    let resumed = h.engine.resume(&id, "operator", None).await.unwrap();
    assert_eq!((resumed.status, resumed.step), (RunStatus::Running, Step::Production));
    h.pump(1).await;
    assert_eq!(h.run(&id).await.status, RunStatus::AwaitingVideoGeneration);
    assert_eq!(
        h.fakes.safety.calls(),
        safety_calls,
        "the resumed step asked the checker nothing new"
    );
    assert_eq!(h.fakes.llm.calls(), llm_calls, "ideation was not run again");
    assert_eq!(h.fakes.video.jobs_started(), 3);
    let audit = h.store.audit_log(&id).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "run_resumed"), "the resume is audited");
    let err = h.engine.resume(&id, "operator", None).await.unwrap_err();
    assert_eq!(err.code(), "not_resumable");
}

#[tokio::test]
async fn resuming_a_step_that_failed_halfway_pays_only_for_what_is_missing() {
    let h = Harness::new();
    let id = h.start(3).await;
    h.pump(1).await;
    h.approve(&id, Gate::Ideation).await;
    // Clips 0 and 1 are submitted (and paid); clip 2 is refused: the run fails at production.
    h.fakes.video.refuse_index(2, Some("prompt rejected"));
    h.pump(1).await;
    assert_eq!(h.run(&id).await.status, RunStatus::Failed);
    assert_eq!(h.fakes.video.jobs_started(), 2);
    h.fakes.video.refuse_index(2, None);
    h.engine.resume(&id, "operator", None).await.unwrap();
    h.pump(1).await;
    let run = h.run(&id).await;
    assert_eq!(run.status, RunStatus::AwaitingVideoGeneration);
    assert_eq!(h.fakes.video.jobs_started(), 3, "the two paid jobs were reused, one new job");
    // The wait expects all three, including the two from before the failure.
    for job in h.fakes.video.take_outbox() {
        h.fakes.video.send(&job).await.unwrap();
    }
    h.pump(1).await;
    assert_eq!(h.run(&id).await.status, RunStatus::AwaitingRender);
}

#[tokio::test]
async fn editing_killed_after_a_stored_clip_fetches_only_the_clips_not_stored_yet() {
    let h = Harness::new();
    let id = h.full_run_until_videos(3).await;
    let jobs = h.fakes.video.take_outbox();
    for job in &jobs {
        h.fakes.video.send(job).await.unwrap();
    }
    // Checkpoints from here: the wait ends (1), clip 0 stored (2), clip 1 stored (3) ← killed
    // after storing clip 1, before its checkpoint.
    h.faults.crash_on("store.checkpoint.before", 3);
    assert_eq!(h.pump_through_crashes().await, 1);
    let run = h.run(&id).await;
    assert_eq!(run.status, RunStatus::AwaitingRender);
    assert!(run.state.clips.iter().all(|c| c.blob_key.is_some()), "every clip stored");
    let fetched: Vec<usize> = jobs.iter().map(|j| h.fakes.video.downloads_of(j)).collect();
    let mut by_index = vec![0; 3];
    for c in &run.state.clips {
        by_index[c.index as usize] = h.fakes.video.downloads_of(&c.job_id);
    }
    assert_eq!(by_index, [1, 2, 1], "clip 0 kept; only the killed clip 1 again: {fetched:?}");
    let editing = h.store.history(&id).await.unwrap();
    let segments = editing.iter().filter(|c| c.step == Step::Editing).count();
    assert_eq!(segments, 4, "entering editing, then one checkpoint per stored clip");
}

/// A repeat of a recorded callback writes nothing and sends nothing, and a wake-up lost
/// between recording the arrival and sending it (a crash there) is recovered by the wait's
/// timer, which finds the arrival at its next link.
#[tokio::test]
async fn a_lost_wake_up_is_recovered_by_the_waits_timer() {
    let h = Harness::new();
    let id = h.full_run_until_videos(1).await;
    let outbox = h.fakes.video.take_outbox();
    assert_eq!(h.fakes.video.send(&outbox[0]).await, Ok(200));
    let wake = h.queue.pop().expect("the accepted callback sends a wake-up");
    assert_eq!((wake.run_id, wake.version), (id, None));
    // The wake-up is lost (the webhook died before its send landed); the provider retries.
    assert_eq!(h.fakes.video.send(&outbox[0]).await, Ok(200), "a repeat");
    assert!(h.queue.is_empty(), "a repeat sends nothing");
    assert_eq!(h.run(&id).await.status, RunStatus::AwaitingVideoGeneration);
    // The wait's timer comes due: it finds the recorded arrival and completes the wait.
    let mut due = h.queue.take_delayed();
    assert!(!due.is_empty(), "a callback wait has a timer");
    due.sort_by_key(|(d, _)| *d);
    let (delay, link) = due.remove(0);
    h.queue.push_delayed(due);
    h.clock.advance(delay);
    assert_eq!(h.deliver(&link, 1).await, Ok(Disposition::Ack));
    h.pump(1).await;
    let run = h.run(&id).await;
    assert_ne!(run.step, Step::WaitForVideos, "the timer completed the wait: {:?}", run.status);
    assert_eq!(h.fakes.video.submissions().total(), 1, "one video call, made once");
}

/// A paid step's own message names its step, so the runner reads the run and takes the lease
/// in one write; an older message without the hint costs one read more and ends the same.
#[tokio::test]
async fn a_paid_steps_message_leases_without_reading_first() {
    let h = Harness::new();
    let reads = |h: &Harness| h.store.run_reads();
    let (a, b) = (h.start(1).await, h.start(1).await);
    let first = h.queue.pop().unwrap();
    let second = h.queue.pop().unwrap();
    assert_eq!((first.run_id, second.run_id), (a, b));
    assert_eq!(first.step, Some(Step::Ideation), "the first message names its step");
    let before = reads(&h);
    assert_eq!(h.deliver(&first, 1).await, Ok(Disposition::Ack));
    let hinted = reads(&h) - before;
    let before = reads(&h);
    let old = myloware::domain::StepMessage { step: None, ..second };
    assert_eq!(h.deliver(&old, 1).await, Ok(Disposition::Ack));
    let unhinted = reads(&h) - before;
    assert_eq!(unhinted, hinted + 1, "the hint saves exactly the first read");
    for id in [a, b] {
        let run = h.run(&id).await;
        assert_eq!((run.status, run.version), (RunStatus::AwaitingIdeationApproval, 2));
    }
}
