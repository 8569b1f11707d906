//! Operator actions on runs: cancel, fork, history (in memory; the HTTP and CLI paths are covered
//! in the workspace tests).

mod common;

use common::Harness;
use myloware::domain::{Arrival, ArrivalOutcome, Provider, RunStatus, Step};
use myloware::engine::CallbackAck;
use myloware::ports::RunStore;
use myloware::time::Clock;

#[tokio::test]
async fn cancelling_a_waiting_run_ignores_its_messages_and_late_callbacks() {
    let h = Harness::new();
    let id = h.full_run_until_videos(2).await;
    let jobs = h.fakes.video.take_outbox();
    assert_eq!(jobs.len(), 2);
    let cancelled =
        h.engine.cancel(&id, "operator", Some("brief was wrong".into()), None).await.unwrap();
    assert_eq!((cancelled.status, cancelled.step), (RunStatus::Cancelled, Step::Done));
    // Idempotent: a second cancel answers the same run.
    let again = h.engine.cancel(&id, "operator", None, None).await.unwrap();
    assert_eq!(again.version, cancelled.version);
    // A late callback is ignored and wakes nothing.
    let arrival = Arrival {
        outcome: ArrivalOutcome::Completed { output_url: None },
        event_id: "evt_late".into(),
        received_at: h.clock.now(),
    };
    let ack =
        h.engine.accept_callback(Provider::OpenAi, &jobs[0], arrival, None, None).await.unwrap();
    assert_eq!(ack, CallbackAck::Ignored);
    assert!(h.queue.is_empty());
    // Messages still in flight (the wait's timer) are acked without effect.
    for (_, m) in h.queue.take_delayed() {
        h.engine.handle_message(&m, "late").await.unwrap();
    }
    let run = h.run(&id).await;
    assert_eq!((run.status, run.version), (RunStatus::Cancelled, cancelled.version));
    let audit = h.store.audit_log(&id).await.unwrap();
    let last = audit.last().unwrap();
    assert_eq!((last.action.as_str(), last.actor.as_str()), ("run_cancelled", "operator"));
    assert_eq!(last.detail["reason"], "brief was wrong");
    // A finished run cannot be cancelled.
    let done = h.full_run(1).await;
    let err = h.engine.cancel(&done, "operator", None, None).await.unwrap_err();
    assert_eq!(err.code(), "not_cancellable");
}

#[tokio::test]
async fn a_fork_from_the_editing_checkpoint_renders_again_without_new_video_jobs() {
    let h = Harness::new();
    let id = h.full_run(1).await;
    assert_eq!(h.run(&id).await.status, RunStatus::Completed);
    let (videos, renders) = (h.fakes.video.jobs_started(), h.fakes.render.jobs_started());
    let history = h.store.history(&id).await.unwrap();
    let editing = history.iter().find(|c| c.step == Step::Editing).expect("editing checkpoint");
    // A checkpoint at a callback wait cannot be forked; one that does not exist is not found.
    let waiting = history.iter().find(|c| c.step == Step::WaitForVideos).unwrap();
    let err = h.engine.fork(&id, waiting.version, "op", None, None).await.unwrap_err();
    assert_eq!(err.code(), "not_forkable");
    assert_eq!(
        h.engine.fork(&id, 999, "op", None, None).await.unwrap_err().code(),
        "run_not_found"
    );

    let downloads = h.fakes.video.downloads();
    let fork = h.engine.fork(&id, editing.version, "op", None, None).await.unwrap();
    assert_ne!(fork.run_id, id);
    // The source passed the ideation gate before editing: the fork waits there for a person.
    assert_eq!((fork.step, fork.version), (Step::IdeationApproval, 1));
    assert_eq!(fork.status, RunStatus::AwaitingIdeationApproval);
    assert_eq!(fork.state.resume_at, Some(Step::Editing));
    h.pump(1).await;
    assert_eq!(h.fakes.render.jobs_started(), renders, "nothing is paid before the decision");
    h.approve(&fork.run_id, myloware::domain::Gate::Ideation).await;
    let approved = h.run(&fork.run_id).await;
    assert_eq!((approved.step, approved.state.resume_at), (Step::Editing, None));
    h.pump(1).await;
    assert_eq!(h.run(&fork.run_id).await.status, RunStatus::AwaitingRender);
    assert_eq!(h.fakes.video.downloads(), downloads, "the source's stored clips are reused");
    for job in h.fakes.render.take_outbox() {
        h.fakes.render.send(&job).await.unwrap();
    }
    h.pump(1).await;
    h.approve(&fork.run_id, myloware::domain::Gate::Publish).await;
    h.pump(1).await;
    h.timers(1).await;
    let done = h.run(&fork.run_id).await;
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(h.fakes.video.jobs_started(), videos, "no new video jobs");
    assert_eq!(h.fakes.render.jobs_started(), renders + 1, "one new render");
    let src_audit = h.store.audit_log(&id).await.unwrap();
    assert_eq!(src_audit.last().unwrap().action, "run_forked");
    assert_eq!(src_audit.last().unwrap().detail["fork"], fork.run_id.to_string());
    let fork_audit = h.store.audit_log(&fork.run_id).await.unwrap();
    assert_eq!(fork_audit[0].action, "run_forked_from");
    // The source run is unchanged.
    assert_eq!(h.run(&id).await.status, RunStatus::Completed);
}

#[tokio::test]
async fn no_paid_call_starts_after_a_cancel_returned() {
    let h = Harness::new();
    let id = h.start(3).await;
    h.pump(1).await;
    h.approve(&id, myloware::domain::Gate::Ideation).await;
    let _gate_timer = h.queue.take_delayed();
    let production = h.queue.pop().unwrap();
    // Each video submission takes 400 ms to reach the provider.
    h.faults.delay_at("video.submit.before", std::time::Duration::from_millis(400));
    let step = {
        let engine = h.engine.clone();
        tokio::spawn(async move { engine.handle_message(&production, "worker").await })
    };
    // Cancel while clip 0's submission is on its way.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    let cancelled = h.engine.cancel(&id, "operator", None, None).await.unwrap();
    let calls_at_return = h.fakes.video.submissions().for_run(&id);
    assert_eq!(cancelled.status, RunStatus::Cancelled);
    assert!(cancelled.lease.is_none(), "returned once the step let go of the run");
    assert!(started.elapsed() >= std::time::Duration::from_millis(250), "it waited for the step");
    assert_eq!(calls_at_return, 1, "the call already under way when the cancel landed");
    assert_eq!(step.await.unwrap().unwrap(), myloware::engine::Disposition::Ack);
    tokio::time::sleep(std::time::Duration::from_millis(900)).await;
    assert_eq!(h.fakes.video.submissions().for_run(&id), 1, "nothing started after the cancel");
    let run = h.run(&id).await;
    assert_eq!((run.status, run.version), (RunStatus::Cancelled, cancelled.version));
}

#[tokio::test]
async fn a_fork_passes_the_start_guards_and_never_skips_the_publish_gate() {
    let h = Harness::with_config(myloware::config::EngineConfig {
        max_runs_24h: 3,
        rate_limit_per_min: 1,
        ..Default::default()
    });
    let id = h.full_run(1).await;
    let history = h.store.history(&id).await.unwrap();
    let publishing = history.iter().find(|c| c.step == Step::Publishing).unwrap().version;
    let fork = h.engine.fork(&id, publishing, "op", Some("key:a"), None).await.unwrap();
    // A fork is a start: the caller's rate limit (one a minute here) …
    let err = h.engine.fork(&id, publishing, "op", Some("key:a"), None).await.unwrap_err();
    assert_eq!(err.code(), "rate_limited");
    // The source had passed the publish gate: the fork waits there with the source's video.
    assert_eq!(
        (fork.step, fork.status),
        (Step::PublishApproval, RunStatus::AwaitingPublishApproval)
    );
    assert_eq!(fork.state.resume_at, Some(Step::Publishing));
    assert!(fork.state.final_video_key.is_some());
    h.pump(1).await;
    assert_eq!(
        h.fakes.publish.posts().for_run(&fork.run_id),
        0,
        "nothing posted before a decision"
    );
    h.approve(&fork.run_id, myloware::domain::Gate::Publish).await;
    h.pump(1).await;
    h.timers(1).await;
    assert_eq!(h.run(&fork.run_id).await.status, RunStatus::Completed);
    assert_eq!(h.fakes.publish.posts().for_run(&fork.run_id), 1);
    // … and the 24-hour cap.
    h.engine.fork(&id, publishing, "op", Some("key:b"), None).await.unwrap();
    let err = h.engine.fork(&id, publishing, "op", Some("key:c"), None).await.unwrap_err();
    assert_eq!(err.code(), "budget_exceeded", "three runs in 24 hours");
}
