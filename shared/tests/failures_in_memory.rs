//! Retries, stalls, redrive, wait timers, polling and deadlines on the in-memory adapters with a
//! manual clock (the same engine paths run on SQLite and LocalStack in the workspace tests).

mod common;

use std::time::Duration;

use common::Harness;
use myloware::config::EngineConfig;
use myloware::domain::{Gate, RunId, RunStatus, Step, StepMessage};
use myloware::engine::Disposition;
use myloware::ports::RunStore;
use myloware::time::Clock;

fn config(f: impl FnOnce(&mut EngineConfig)) -> EngineConfig {
    let mut c = EngineConfig::default();
    c.retries = c.retries.with_max_attempts(3);
    f(&mut c);
    c
}

/// Deliver every delayed timer after advancing the clock by its delay, until none is left or
/// `max` were delivered; returns how many were delivered.
async fn run_timers(h: &Harness, max: usize) -> usize {
    let mut n = 0;
    while n < max {
        let mut timers = h.queue.take_delayed();
        if timers.is_empty() {
            break;
        }
        timers.sort_by_key(|(d, _)| *d);
        for (delay, m) in timers {
            assert!(delay <= Duration::from_secs(900), "a timer longer than SQS allows: {delay:?}");
            h.clock.advance(delay);
            assert_eq!(h.engine.handle_message(&m, "timer").await.unwrap(), Disposition::Ack);
            n += 1;
            h.pump(1).await;
        }
    }
    n
}

#[tokio::test]
async fn a_step_that_keeps_failing_stalls_on_its_last_attempt_and_a_redriven_message_resumes_it() {
    let h = Harness::with_config(config(|_| {}));
    let id = h.start(2).await;
    // The brief was cleared at start; now the checker goes down for the ideas.
    h.fakes.safety.fail_with(Some("moderation API is down"));
    let m = h.queue.pop().unwrap();
    for attempt in 1..=2 {
        let d = h.engine.handle_delivery(&m, "w", attempt).await.unwrap();
        let ceiling = h.engine.config.retries.for_step(Step::Ideation).ceiling(attempt);
        assert!(matches!(d, Disposition::Retry { after } if after <= ceiling), "{d:?}");
        assert_eq!(h.run(&id).await.status, RunStatus::Pending, "not stalled yet");
    }
    let buried = h.engine.handle_delivery(&m, "w", 3).await.unwrap();
    let stalled = h.run(&id).await;
    assert_eq!(buried, Disposition::DeadLetter { redrive: Some(stalled.version) });
    assert_eq!(stalled.status, RunStatus::Stalled);
    let err = stalled.error.clone().unwrap();
    assert_eq!(
        (err.code.as_str(), err.step, err.attempts),
        ("retries_exhausted", Step::Ideation, Some(3))
    );
    assert!(err.message.contains("moderation API is down"), "{err:?}");
    let audit = h.store.audit_log(&id).await.unwrap();
    assert_eq!(audit.last().unwrap().action, "run_stalled");
    // Other copies of old messages do not wake a stalled run: a wake-up, a duplicate of the
    // message that stalled it, a repair or sweeper copy at the run's version.
    h.fakes.safety.fail_with(None);
    for copy in [StepMessage::wake(id), m.clone(), StepMessage::at(id, stalled.version)] {
        assert_eq!(h.engine.handle_message(&copy, "w").await.unwrap(), Disposition::Ack);
        assert_eq!(h.run(&id).await.status, RunStatus::Stalled, "{copy:?}");
    }
    assert_eq!(h.engine.sweep(Duration::from_secs(5)).await.unwrap().examined, 0);
    h.clock.advance(Duration::from_secs(86_400));
    assert_eq!(h.engine.sweep(Duration::from_secs(5)).await.unwrap().examined, 0, "never swept");

    // The cause is fixed; the buried copy comes back from the DLQ (its receive count starts
    // again) and reopens the run.
    let body = serde_json::to_string(&m).unwrap();
    let from_dlq: StepMessage = serde_json::from_str(&buried.dead_letter_body(&body)).unwrap();
    assert_eq!(h.engine.handle_delivery(&from_dlq, "w", 1).await.unwrap(), Disposition::Ack);
    let reopened = h.run(&id).await;
    assert_eq!((reopened.status, reopened.step), (RunStatus::Running, Step::Ideation));
    assert_eq!(reopened.error, None);
    assert_eq!(h.store.audit_log(&id).await.unwrap().last().unwrap().action, "run_redriven");
    h.pump(1).await;
    assert_eq!(h.run(&id).await.status, RunStatus::AwaitingIdeationApproval);
    assert_eq!(h.fakes.llm.calls(), 1, "the LLM was called once, after the fix");
    // A second copy of the redriven message finds nothing to do.
    assert_eq!(h.engine.handle_delivery(&from_dlq, "w", 1).await.unwrap(), Disposition::Ack);
}

#[tokio::test]
async fn a_busy_lease_is_never_a_reason_to_stall() {
    let h = Harness::with_config(config(|_| {}));
    let id = h.start(1).await;
    let m = h.queue.pop().unwrap();
    let now = h.clock.now();
    h.store.acquire_lease(&id, 1, "other", now.plus(Duration::from_secs(30)), now).await.unwrap();
    let d = h.engine.handle_delivery(&m, "me", 9).await.unwrap();
    assert!(matches!(d, Disposition::Retry { .. }), "{d:?}");
    assert_eq!(h.run(&id).await.status, RunStatus::Pending);
}

#[tokio::test]
async fn an_operator_resume_of_a_stalled_run_pays_only_for_what_is_missing() {
    let h = Harness::with_config(config(|_| {}));
    let id = h.start(2).await;
    h.pump(1).await;
    h.approve(&id, Gate::Ideation).await;
    h.fakes.video.outage_for_index(1, Some("HTTP 503"));
    let m = h.queue.pop().unwrap();
    for attempt in 1..=3 {
        h.engine.handle_delivery(&m, "w", attempt).await.unwrap();
    }
    let stalled = h.run(&id).await;
    assert_eq!((stalled.status, stalled.step), (RunStatus::Stalled, Step::Production));
    assert_eq!(h.fakes.video.jobs_started(), 1, "clip 0 was paid for before the outage");
    h.fakes.video.outage_for_index(1, None);
    let resumed = h.engine.resume(&id, "operator", None).await.unwrap();
    assert_eq!((resumed.status, resumed.step), (RunStatus::Running, Step::Production));
    assert_eq!(resumed.generation(), stalled.generation(), "same step generation");
    h.pump(1).await;
    assert_eq!(h.run(&id).await.status, RunStatus::AwaitingVideoGeneration);
    assert_eq!(h.fakes.video.jobs_started(), 2, "only clip 1 was paid for after the resume");
    let audit = h.store.audit_log(&id).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert!(actions.ends_with(&["run_stalled", "run_resumed"]), "{actions:?}");
    assert_eq!(audit.last().unwrap().actor, "operator");
}

/// A 3-clip run whose video callbacks never come (polling after `poll_after`, then every
/// minute), approved at the ideation gate: production's message is queued.
async fn approved_run_with_silent_videos(poll_after: Duration) -> (Harness, RunId) {
    let h = Harness::with_config(config(|c| {
        c.waits.poll_after = poll_after;
        c.waits.poll_interval = Duration::from_secs(60);
    }));
    h.fakes.video.silence_callbacks(true);
    let id = h.start(3).await;
    h.pump(1).await;
    h.approve(&id, Gate::Ideation).await;
    let _gate_timer = h.queue.take_delayed();
    (h, id)
}

#[tokio::test]
async fn a_callback_that_never_comes_is_found_by_polling() {
    let (h, id) = approved_run_with_silent_videos(Duration::from_secs(120)).await;
    h.pump(1).await;
    let waiting = h.run(&id).await;
    assert_eq!(waiting.status, RunStatus::AwaitingVideoGeneration);
    // The wait's first check armed a timer for the first poll.
    let timers = h.queue.take_delayed();
    assert_eq!(timers.len(), 1, "{timers:?}");
    assert_eq!(timers[0].0, Duration::from_secs(120));
    h.queue.push_delayed(timers);
    run_timers(&h, 1).await;
    let run = h.run(&id).await;
    assert_eq!(run.status, RunStatus::AwaitingRender, "polling found all three clips");
    assert_eq!(h.fakes.video.jobs_started(), 3);
    // The render calls back normally.
    for job in h.fakes.render.take_outbox() {
        h.fakes.render.send(&job).await.unwrap();
    }
    h.pump(1).await;
    assert_eq!(h.run(&id).await.status, RunStatus::AwaitingPublishApproval);
}

/// A delivery that moved the timer chain (the wait's check claiming link 1, an early link
/// re-arming) and died before it sent the next link: its redelivery sends that link, so the
/// wait polls on time instead of when the sweeper finds the run 20 minutes later. A first
/// delivery of a copy (a queue's duplicate) still sends nothing.
#[tokio::test]
async fn a_crash_between_moving_the_timer_chain_and_sending_its_link_loses_no_link() {
    // The first poll is two 15-minute links away: link 1 is early and re-arms.
    let (h, id) = approved_run_with_silent_videos(Duration::from_secs(1800)).await;
    let production = h.queue.pop().expect("production's message");
    assert_eq!(h.deliver(&production, 1).await, Ok(Disposition::Ack));
    let check = h.queue.pop().expect("the wait's check");
    assert!(h.queue.pop().is_none());

    h.faults.crash_on("store.tick_timer.after", 1);
    assert!(h.deliver(&check, 1).await.is_err(), "died between the claim and the send");
    assert!(h.queue.take_delayed().is_empty(), "no link went out");
    assert_eq!(h.run(&id).await.timer_seq, 1, "link 1 is claimed");
    assert_eq!(h.deliver(&check, 1).await, Ok(Disposition::Ack), "a duplicate");
    assert!(h.queue.take_delayed().is_empty(), "a duplicate sends nothing");
    assert_eq!(h.deliver(&check, 2).await, Ok(Disposition::Ack), "the redelivery");
    let link1 = h.queue.take_delayed();
    assert_eq!(link1.len(), 1, "{link1:?}");
    assert_eq!((link1[0].0, link1[0].1.seq), (Duration::from_secs(900), 1));

    h.clock.advance(link1[0].0);
    h.faults.crash_on("store.tick_timer.after", 1);
    assert!(h.deliver(&link1[0].1, 1).await.is_err(), "died between the re-arm and the send");
    assert!(h.queue.take_delayed().is_empty(), "no link went out");
    assert_eq!(h.run(&id).await.timer_seq, 2, "the chain moved on");
    assert_eq!(h.deliver(&link1[0].1, 1).await, Ok(Disposition::Ack), "a duplicate");
    assert!(h.queue.take_delayed().is_empty(), "a duplicate sends nothing");
    assert_eq!(h.deliver(&link1[0].1, 2).await, Ok(Disposition::Ack), "the redelivery");
    let link2 = h.queue.take_delayed();
    assert_eq!(link2.len(), 1, "{link2:?}");
    assert_eq!((link2[0].0, link2[0].1.seq), (Duration::from_secs(900), 2));

    h.queue.push_delayed(link2);
    run_timers(&h, 1).await;
    assert_eq!(h.run(&id).await.status, RunStatus::AwaitingRender, "the poll found the clips");
    assert_eq!(h.fakes.video.jobs_started(), 3);
}

#[tokio::test]
async fn a_provider_that_never_finishes_fails_the_run_at_the_deadline_with_a_reason() {
    let h = Harness::with_config(config(|c| {
        c.waits.poll_after = Duration::from_secs(600);
        c.waits.poll_interval = Duration::from_secs(300);
        c.waits.max_polls = 3;
        c.waits.videos = Duration::from_secs(3 * 3600);
    }));
    h.fakes.video.never_finish(true);
    let id = h.start(2).await;
    h.pump(1).await;
    h.approve(&id, Gate::Ideation).await;
    h.pump(1).await;
    let ticks = run_timers(&h, 100).await;
    let run = h.run(&id).await;
    assert_eq!(run.status, RunStatus::Failed);
    let err = run.error.unwrap();
    assert_eq!((err.code.as_str(), err.step), ("wait_timeout", Step::WaitForVideos));
    assert!(err.message.contains("2 of 2 video jobs never finished within 3h"), "{}", err.message);
    assert!(err.message.contains("3 status polls"), "polls are capped: {}", err.message);
    // 3 h in timers of at most 15 min: at least 12 ticks, and the chain ended with the run.
    assert!(ticks >= 12, "{ticks} ticks");
    assert!(h.queue.take_delayed().is_empty() && h.queue.is_empty());
}

#[tokio::test]
async fn a_gate_can_wait_for_days_and_then_times_out() {
    let h = Harness::with_config(config(|c| c.waits.gate = Duration::from_secs(2 * 86_400)));
    let id = h.start(1).await;
    h.pump(1).await;
    assert_eq!(h.run(&id).await.status, RunStatus::AwaitingIdeationApproval);
    let ticks = run_timers(&h, 1000).await;
    assert_eq!(ticks, 2 * 96, "one tick per 15 minutes for two days");
    let run = h.run(&id).await;
    assert_eq!(run.status, RunStatus::Failed);
    let err = run.error.unwrap();
    assert_eq!(err.code, "wait_timeout");
    assert!(
        err.message.contains("no decision at the ideation gate within 2days"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_decision_before_the_deadline_ends_the_timer_chain() {
    let h = Harness::new();
    let id: RunId = h.start(1).await;
    h.pump(1).await;
    run_timers(&h, 3).await;
    h.approve(&id, Gate::Ideation).await;
    // The outstanding gate timer is stale now: it is acked without arming another.
    let stale = h.queue.take_delayed();
    assert_eq!(stale.len(), 1);
    h.clock.advance(stale[0].0);
    assert_eq!(h.engine.handle_message(&stale[0].1, "t").await.unwrap(), Disposition::Ack);
    assert!(h.queue.take_delayed().is_empty());
    assert_eq!(h.run(&id).await.status, RunStatus::Running);
}

#[tokio::test]
async fn duplicate_timers_collapse_into_one_chain() {
    let h = Harness::new();
    let id = h.start(1).await;
    h.pump(1).await;
    let timers = h.queue.take_delayed();
    assert_eq!(timers.len(), 1);
    let (delay, m) = timers[0].clone();
    h.clock.advance(delay);
    for _ in 0..3 {
        assert_eq!(h.engine.handle_message(&m, "t").await.unwrap(), Disposition::Ack);
    }
    let next = h.queue.take_delayed();
    assert_eq!(next.len(), 1, "one link re-armed; the copies armed nothing");
    let run = h.run(&id).await;
    assert_eq!((run.version, run.timer_seq), (2, 1), "an early link writes no checkpoint");
    assert_eq!(next[0].1.seq, 1);
    // A copy of the old link that comes later still finds the chain moved on.
    assert_eq!(h.engine.handle_message(&m, "t").await.unwrap(), Disposition::Ack);
    assert!(h.queue.take_delayed().is_empty());
}

#[tokio::test]
async fn the_sweeper_restarts_runs_that_stopped_moving_and_times_out_overdue_waits() {
    let h = Harness::with_config(config(|c| {
        c.waits.stuck_after = Duration::from_secs(1200);
        c.waits.gate = Duration::from_secs(3 * 3600);
    }));
    // A: its step message is lost (the active step never ran).
    let a = h.start(1).await;
    assert!(h.queue.pop().is_some(), "A's message, dropped");
    // B: parked at a gate whose timer chain broke.
    let b = h.start(1).await;
    h.pump(1).await;
    assert_eq!(h.run(&b).await.status, RunStatus::AwaitingIdeationApproval);
    assert_eq!(h.queue.take_delayed().len(), 1, "B's gate timer, dropped");

    // Nothing is stuck yet.
    let first = h.engine.sweep(Duration::from_secs(5)).await.unwrap();
    assert_eq!((first.requeued.len(), first.timers.len()), (0, 0), "{first:?}");

    h.clock.advance(Duration::from_secs(1300));
    let second = h.engine.sweep(Duration::from_secs(5)).await.unwrap();
    assert_eq!(second.requeued, vec![a]);
    assert_eq!(second.timers, vec![b]);
    h.pump(1).await;
    assert_eq!(h.run(&a).await.status, RunStatus::AwaitingIdeationApproval, "A moved on");
    assert_eq!(h.queue.take_delayed().len(), 2, "B's chain re-armed; A's gate timer armed");

    // Both gates' chains break again and the deadline passes: the sweep times them out.
    h.clock.advance(Duration::from_secs(4 * 3600));
    let third = h.engine.sweep(Duration::from_secs(5)).await.unwrap();
    let mut timed_out = third.timed_out.clone();
    timed_out.sort();
    let mut both = vec![a, b];
    both.sort();
    assert_eq!(timed_out, both, "{third:?}");
    for id in [a, b] {
        let run = h.run(&id).await;
        assert_eq!(run.status, RunStatus::Failed);
        assert_eq!(run.error.unwrap().code, "wait_timeout");
    }
}

/// What kills an attempt in the test below.
#[derive(Debug, Clone, Copy)]
enum Death {
    /// The handler panics mid-step (an out-of-memory kill, a bug).
    Crash,
    /// The function times out mid-step: the handler is dropped where it stands.
    Timeout,
    /// Our own store fails the checkpoint (an outage).
    Infrastructure,
}

#[tokio::test]
async fn crashes_timeouts_and_infrastructure_errors_stall_the_run_like_a_failing_step() {
    for death in [Death::Crash, Death::Timeout, Death::Infrastructure] {
        let h = Harness::with_config(config(|_| {}));
        let id = h.start(1).await;
        h.pump(1).await;
        h.approve(&id, Gate::Ideation).await;
        let _gate_timer = h.queue.take_delayed();
        let m = h.queue.pop().unwrap();
        // Three attempts (the limit) die without settling; the message keeps coming back.
        for attempt in 1..=3 {
            let settled = match death {
                Death::Crash => {
                    h.faults.crash_on("video.submit.before", 1);
                    h.deliver(&m, attempt).await
                }
                Death::Timeout => {
                    h.faults.delay_at("video.submit.before", Duration::from_secs(10));
                    let handling = h.engine.handle_delivery(&m, "test", attempt);
                    match tokio::time::timeout(Duration::from_millis(50), handling).await {
                        Ok(r) => r.map_err(|e| e.to_string()),
                        Err(_) => Err("timed out".into()),
                    }
                }
                Death::Infrastructure => {
                    h.faults.fail_on("store.checkpoint.before", 1);
                    h.deliver(&m, attempt).await
                }
            };
            assert!(settled.is_err(), "{death:?}: attempt {attempt} died: {settled:?}");
            assert_eq!(h.run(&id).await.status, RunStatus::Running, "{death:?}: not yet");
            // The dead holder's lease lapses before the queue hands the message out again.
            h.clock.advance(Duration::from_secs(61));
        }
        let d = h.deliver(&m, 4).await;
        let stalled = h.run(&id).await;
        assert_eq!(d, Ok(Disposition::DeadLetter { redrive: Some(stalled.version) }), "{death:?}");
        assert_eq!((stalled.status, stalled.step), (RunStatus::Stalled, Step::Production));
        let err = stalled.error.clone().unwrap();
        assert_eq!((err.code.as_str(), err.attempts), ("retries_exhausted", Some(3)), "{death:?}");
        // Buried: nothing re-sends it, however long it sits there.
        h.clock.advance(Duration::from_secs(7 * 86_400));
        let report = h.engine.sweep(Duration::from_secs(5)).await.unwrap();
        assert_eq!(report.examined, 0, "{death:?}: the sweeper never sees a stalled run");
        assert!(h.queue.is_empty() && h.queue.take_delayed().is_empty(), "{death:?}");
        assert!(h.fakes.video.jobs_started() <= 1, "{death:?}: never paid twice");
    }
}
