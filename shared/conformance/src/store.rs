//! Run store conformance.

use std::sync::Arc;
use std::time::Duration;

use myloware::domain::{
    Arrival, ArrivalOutcome, AuditEntry, Correlation, DeliveryState, Feedback, IdempotencyKey,
    JobId, NoticeDelivery, NoticeKind, NoticeWrite, ProjectName, Provider, RunId, RunRecord,
    RunStatus, SafetyRecord, Step,
};
use myloware::ports::{
    Checkpoint, CreateOutcome, IntentKey, ListQuery, RecordArrival, RunStore, StoreError,
};
use myloware::time::{Clock, SystemClock, Timestamp};

const FAR: Timestamp = Timestamp(4_102_444_800_000);

fn run(brief: &str, project: &str) -> RunRecord {
    RunRecord::new(ProjectName::parse(project).unwrap(), brief.into(), 2, None, SystemClock.now())
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", RunId::new())
}

/// Every store check, in order.
pub async fn store_suite(store: Arc<dyn RunStore>) {
    create_and_start_keys(&store).await;
    concurrent_starts_with_one_key(&store).await;
    leases(&store).await;
    control_attributes(&store).await;
    due_index(&store).await;
    checkpoint_races(&store).await;
    intents(&store).await;
    rendezvous(&store).await;
    listing(&store).await;
    counters_and_verdicts(&store).await;
    feedback(&store).await;
    notice_deliveries(&store).await;
}

/// The delivery log's conditional writes: a claim takes a free, earlier or lapsed attempt only;
/// a settle never goes back to an earlier attempt.
async fn notice_deliveries(store: &Arc<dyn RunStore>) {
    let (run, other) = (RunId::new(), RunId::new());
    let at = |ms: i64| Timestamp(1_800_000_000_000 + ms);
    let row =
        |event: &str, attempts: u32, state: DeliveryState, until: Option<i64>| NoticeDelivery {
            run_id: run,
            event_id: format!("evt_{run}_{event}"),
            kind: NoticeKind::Completed,
            endpoint: "ops".into(),
            state,
            attempts,
            last_status: None,
            last_error: None,
            next_attempt_at: None,
            claimed_until: until.map(at),
            first_at: at(event.len() as i64),
            updated_at: at(0),
        };
    let claim = |now: i64| NoticeWrite::Claim { now: at(now) };
    let sending = |n: u32, until: i64| row("7", n, DeliveryState::Sending, Some(until));
    assert!(store.put_notice_delivery(&sending(1, 100), claim(0)).await.unwrap(), "free");
    assert!(!store.put_notice_delivery(&sending(1, 200), claim(50)).await.unwrap(), "held");
    assert!(store.put_notice_delivery(&sending(1, 300), claim(150)).await.unwrap(), "lapsed");
    let failed = row("7", 1, DeliveryState::Retrying, None);
    assert!(store.put_notice_delivery(&failed, NoticeWrite::Settle).await.unwrap());
    assert!(!store.put_notice_delivery(&sending(1, 900), claim(400)).await.unwrap(), "settled");
    assert!(store.put_notice_delivery(&sending(2, 900), claim(400)).await.unwrap(), "next");
    let stale = row("7", 1, DeliveryState::GaveUp, None);
    assert!(
        !store.put_notice_delivery(&stale, NoticeWrite::Settle).await.unwrap(),
        "no going back"
    );
    let done = row("7", 2, DeliveryState::Delivered, None);
    assert!(store.put_notice_delivery(&done, NoticeWrite::Settle).await.unwrap());
    let second = row("12", 1, DeliveryState::Delivered, None);
    assert!(store.put_notice_delivery(&second, NoticeWrite::Settle).await.unwrap());
    assert_eq!(store.notice_deliveries(&run).await.unwrap(), [done, second], "oldest first");
    assert!(store.notice_deliveries(&other).await.unwrap().is_empty(), "per run");
}

async fn feedback(store: &Arc<dyn RunStore>) {
    let (run, other) = (RunId::new(), RunId::new());
    assert!(store.feedback(&run).await.unwrap().is_empty(), "none yet");
    let at = |ms: i64| Timestamp(1_800_000_000_000 + ms);
    let rate = |who: &str, rating: u8, created: i64, updated: i64| Feedback {
        run_id: run,
        caller: who.into(),
        rating,
        comment: Some(format!("{who} says {rating}")),
        created_at: at(created),
        updated_at: at(updated),
    };
    store.put_feedback(&rate("bob", 2, 20, 20)).await.unwrap();
    store.put_feedback(&rate("ann", 5, 10, 10)).await.unwrap();
    // The same caller again: replaced, not added.
    store.put_feedback(&rate("bob", 4, 20, 30)).await.unwrap();
    let all = store.feedback(&run).await.unwrap();
    assert_eq!(all, [rate("ann", 5, 10, 10), rate("bob", 4, 20, 30)], "oldest first, one each");
    assert!(store.feedback(&other).await.unwrap().is_empty(), "per run");
}

async fn counters_and_verdicts(store: &Arc<dyn RunStore>) {
    let now = SystemClock.now();
    let key = unique("ctr");
    let later = now.plus(Duration::from_secs(60));
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (store, key) = (store.clone(), key.clone());
        tasks.push(tokio::spawn(async move { store.bump_counter(&key, 5, later, now).await }));
    }
    let mut admitted = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(Some(_)) => admitted += 1,
            Ok(None) | Err(StoreError::Throttled(_)) => {}
            Err(e) => panic!("counter: {e}"),
        }
    }
    assert_eq!(admitted, 5, "exactly the limit is admitted under concurrency");
    let none = unique("none");
    assert_eq!(store.counters(&[key.clone(), none], now).await.unwrap(), [5, 0], "read counters");
    assert_eq!(store.bump_counter(&key, 5, later, now).await.unwrap(), None, "at the limit");
    // After it expires, a counter starts again.
    let after = later.plus(Duration::from_secs(1));
    assert_eq!(
        store.counters(std::slice::from_ref(&key), after).await.unwrap(),
        [0],
        "expired reads 0"
    );
    let fresh =
        store.bump_counter(&key, 5, after.plus(Duration::from_secs(60)), after).await.unwrap();
    assert_eq!(fresh, Some(1), "an expired counter restarts");

    let run = RunId::new();
    assert_eq!(store.safety_verdict(&run, "abc").await.unwrap(), None, "no verdict yet");
    let v = SafetyRecord { safe: false, reason: Some("violence".into()) };
    store.record_safety_verdict(&run, "abc", &v).await.unwrap();
    assert_eq!(store.safety_verdict(&run, "abc").await.unwrap(), Some(v), "verdict remembered");
    assert_eq!(store.safety_verdict(&RunId::new(), "abc").await.unwrap(), None, "per run");
}

async fn create_and_start_keys(store: &Arc<dyn RunStore>) {
    let key = IdempotencyKey::parse(&unique("key")).unwrap();
    let mut a = run("first", "conf");
    a.start_key = Some(key.clone());
    assert_eq!(store.create_run(&a, FAR).await.unwrap(), CreateOutcome::Created, "create");
    let got = store.get_run(&a.run_id).await.unwrap().expect("get after create");
    assert_eq!(
        (got.version, got.status, got.brief.as_str()),
        (1, RunStatus::Pending, "first"),
        "round trip"
    );
    let mut b = run("retry", "conf");
    b.start_key = Some(key.clone());
    assert_eq!(
        store.create_run(&b, FAR).await.unwrap(),
        CreateOutcome::Existing(a.run_id),
        "start key reuse"
    );
    assert!(store.get_run(&b.run_id).await.unwrap().is_none(), "no second run for a reused key");
    assert_eq!(
        store.history(&a.run_id).await.unwrap().len(),
        1,
        "first checkpoint written with the run"
    );

    // An expired key is free again.
    let key2 = IdempotencyKey::parse(&unique("expiring")).unwrap();
    let mut c = run("expiring", "conf");
    c.start_key = Some(key2.clone());
    let soon = c.created_at.plus(Duration::from_secs(2));
    assert_eq!(
        store.create_run(&c, soon).await.unwrap(),
        CreateOutcome::Created,
        "create with short key"
    );
    let mut d = run("after expiry", "conf");
    d.start_key = Some(key2);
    d.created_at = soon.plus(Duration::from_secs(1));
    d.updated_at = d.created_at;
    assert_eq!(
        store.create_run(&d, FAR).await.unwrap(),
        CreateOutcome::Created,
        "expired key is free"
    );
}

async fn concurrent_starts_with_one_key(store: &Arc<dyn RunStore>) {
    let key = IdempotencyKey::parse(&unique("race")).unwrap();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (store, key) = (store.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let mut r = run(&format!("racer {i}"), "conf");
            r.start_key = Some(key);
            (r.run_id, store.create_run(&r, FAR).await)
        }));
    }
    let mut created = Vec::new();
    let mut existing = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (id, Ok(CreateOutcome::Created)) => created.push(id),
            (_, Ok(CreateOutcome::Existing(id))) => existing.push(id),
            // DynamoDB may cancel a transaction that conflicts with a concurrent one: the caller
            // retries; a retry then finds the key.
            (_, Err(StoreError::Throttled(_))) | (_, Err(StoreError::ConditionFailed(_))) => {}
            (_, Err(e)) => panic!("concurrent start: {e}"),
        }
    }
    assert_eq!(created.len(), 1, "exactly one concurrent start creates a run: {created:?}");
    assert!(existing.iter().all(|id| *id == created[0]), "the others see the winner");
}

async fn leases(store: &Arc<dyn RunStore>) {
    let a = run("lease", "conf");
    store.create_run(&a, FAR).await.unwrap();
    let now = SystemClock.now();
    let later = now.plus(Duration::from_secs(30));
    let leased = store.acquire_lease(&a.run_id, 1, "one", later, now).await.expect("first lease");
    assert_eq!(leased.lease.as_ref().map(|l| l.owner.as_str()), Some("one"), "lease returned");
    assert_eq!(leased.attempts, 1, "taking the lease counts an attempt");
    let held = store.acquire_lease(&a.run_id, 1, "two", later, now).await;
    assert!(matches!(held, Err(StoreError::ConditionFailed(_))), "a live lease excludes: {held:?}");
    let wrong = store.acquire_lease(&a.run_id, 2, "two", later, now).await;
    assert!(matches!(wrong, Err(StoreError::ConditionFailed(_))), "wrong version excludes");
    let missing = store.acquire_lease(&RunId::new(), 1, "two", later, now).await;
    assert!(matches!(missing, Err(StoreError::ConditionFailed(_))), "no run, no lease");
    let taken =
        store.acquire_lease(&a.run_id, 1, "two", later, later.plus(Duration::from_millis(1))).await;
    let taken = taken.expect("lapsed lease is taken over");
    assert_eq!((taken.lease.unwrap().owner.as_str(), taken.attempts), ("two", 2), "taken over");
    // Renewal: only the holder, only at its version.
    let longer = later.plus(Duration::from_secs(30));
    store.renew_lease(&a.run_id, 1, "two", longer).await.expect("the holder renews");
    let got = store.get_run(&a.run_id).await.unwrap().unwrap();
    assert_eq!(got.lease.unwrap().until, longer, "renewed");
    for (version, owner) in [(1, "one"), (2, "two")] {
        let r = store.renew_lease(&a.run_id, version, owner, longer).await;
        assert!(matches!(r, Err(StoreError::ConditionFailed(_))), "renew by {owner} at {version}");
    }
    // Only the holder releases; then anyone may take it at once.
    store.release_lease(&a.run_id, "one", None).await.unwrap();
    let still = store.acquire_lease(&a.run_id, 1, "three", later, now).await;
    assert!(matches!(still, Err(StoreError::ConditionFailed(_))), "others cannot release it");
    store.release_lease(&a.run_id, "two", None).await.unwrap();
    let free = store.acquire_lease(&a.run_id, 1, "three", later, now).await;
    let free = free.expect("a released lease is free");
    assert_eq!((free.lease.unwrap().owner.as_str(), free.attempts), ("three", 3), "third attempt");
    let stored = store.get_run(&a.run_id).await.unwrap().unwrap();
    assert_eq!(stored.version, 1, "leases never move the version");
}

/// The control attributes beside the record: a checkpoint writes them as given (a cancel keeps
/// a running step's lease until the step lets go), timer links move the chain without a
/// checkpoint, and a tick's history entry holds no snapshot.
async fn control_attributes(store: &Arc<dyn RunStore>) {
    let now = SystemClock.now();
    let later = now.plus(Duration::from_secs(30));
    let mut a = run("control", "conf");
    a.due_at = Some(now.plus(Duration::from_secs(3600)));
    store.create_run(&a, FAR).await.unwrap();
    let got = store.get_run(&a.run_id).await.unwrap().unwrap();
    assert_eq!(got.due_at, a.due_at, "created with its due time");
    let leased = store.acquire_lease(&a.run_id, 1, "step", later, now).await.unwrap();
    let mut cancelled = leased.clone();
    cancelled.version = 2;
    cancelled.status = RunStatus::Cancelled;
    cancelled.step = Step::Done;
    cancelled.attempts = 0;
    cancelled.due_at = None;
    store.checkpoint(Checkpoint::new(&cancelled, 1)).await.unwrap();
    let got = store.get_run(&a.run_id).await.unwrap().unwrap();
    assert_eq!(got.lease, leased.lease, "the checkpoint kept the step's lease");
    assert_eq!((got.attempts, got.due_at), (0, None), "attempts and due as written");
    let r = store.renew_lease(&a.run_id, 1, "step", later).await;
    assert!(matches!(r, Err(StoreError::ConditionFailed(_))), "the moved run refuses a renewal");
    store.release_lease(&a.run_id, "step", None).await.unwrap();
    assert_eq!(store.get_run(&a.run_id).await.unwrap().unwrap().lease, None, "let go");

    // Timer links: one per sequence number wins.
    let mut b = run("timer", "conf");
    b.due_at = Some(now);
    store.create_run(&b, FAR).await.unwrap();
    let t1 = now.plus(Duration::from_secs(60));
    store.tick_timer(&b.run_id, 1, 0, Some("check-1"), t1).await.expect("link 0 ticks");
    let got = store.get_run(&b.run_id).await.unwrap().unwrap();
    assert_eq!((got.timer_seq, got.due_at, got.version), (1, Some(t1), 1), "no checkpoint");
    assert_eq!(got.timer_by.as_deref(), Some("check-1"), "who moved the chain");
    for (version, seq) in [(1, 0), (2, 1)] {
        let r = store.tick_timer(&b.run_id, version, seq, Some("copy"), t1).await;
        assert!(matches!(r, Err(StoreError::ConditionFailed(_))), "link {seq} at v{version}");
    }
    store.tick_timer(&b.run_id, 1, 1, None, t1).await.expect("link 1 ticks");
    let got = store.get_run(&b.run_id).await.unwrap().unwrap();
    assert_eq!((got.timer_seq, got.timer_by), (2, None), "a link without an id (the sweeper's)");
    store.tick_timer(&b.run_id, 1, 2, Some("link-2"), t1).await.expect("link 2 ticks");
    let mut tick = store.get_run(&b.run_id).await.unwrap().unwrap();
    tick.version = 2;
    tick.timer_seq = 0;
    tick.timer_by = None;
    store.checkpoint(Checkpoint::new(&tick, 1).tick()).await.unwrap();
    let got = store.get_run(&b.run_id).await.unwrap().unwrap();
    assert_eq!((got.timer_seq, got.timer_by), (0, None), "a checkpoint writes them as given");
    let history = store.history(&b.run_id).await.unwrap();
    assert!(
        history[0].snapshot.is_some() && history[1].snapshot.is_none(),
        "a tick copies nothing"
    );
    store
        .tick_timer(&b.run_id, 2, 0, None, t1)
        .await
        .expect("the chain starts again at a new version");
}

/// The due index: only runs whose `due_at` passed, each once across pages; deferring and
/// releasing a lease with a due time move a run out of it.
async fn due_index(store: &Arc<dyn RunStore>) {
    let now = SystemClock.now();
    let at = |secs: i64| Timestamp(now.millis() + secs * 1000);
    let mut ids = Vec::new();
    for due in [Some(at(-20)), Some(at(-10)), Some(at(3600)), None, Some(at(-30))] {
        let mut r = run("due", "conf");
        r.due_at = due;
        store.create_run(&r, FAR).await.unwrap();
        ids.push(r.run_id);
    }
    let due_now = |store: Arc<dyn RunStore>, ids: Vec<RunId>| async move {
        let (mut seen, mut cursor) = (Vec::new(), None);
        loop {
            let page = store.due_runs(now, 1, cursor).await.unwrap();
            assert!(page.runs.len() <= 1, "page size respected");
            for d in page.runs.iter().filter(|d| ids.contains(&d.run_id)) {
                let rec = d.record.as_ref().expect("readable");
                assert_eq!(rec.due_at, Some(d.due_at), "the record carries its due time");
                seen.push(d.run_id);
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return seen,
            }
        }
    };
    let mut seen = due_now(store.clone(), ids.clone()).await;
    // Earliest first within an index partition; DynamoDB spreads the index over several.
    seen.sort_by_key(|id| ids.iter().position(|i| i == id));
    assert_eq!(seen, [ids[0], ids[1], ids[4]], "only the due ones, each once");
    store.defer_due(&ids[4], Some(1), at(3600)).await.unwrap();
    let stale = store.defer_due(&ids[0], Some(7), at(3600)).await;
    assert!(matches!(stale, Err(StoreError::ConditionFailed(_))), "a moved run is not deferred");
    store.defer_due(&ids[3], None, at(-5)).await.unwrap();
    let leased = store.acquire_lease(&ids[1], 1, "w", at(30), now).await.unwrap();
    assert_eq!(leased.due_at, Some(at(-10)));
    store.release_lease(&ids[1], "w", Some(at(600))).await.unwrap();
    let seen = due_now(store.clone(), ids.clone()).await;
    assert_eq!(seen, [ids[0]], "deferred, released with a due time, never-due stays out");
    let bad = store.due_runs(now, 1, Some("%%%".into())).await;
    assert!(matches!(bad, Err(StoreError::ConditionFailed(_))), "a bad cursor is refused");
}

async fn checkpoint_races(store: &Arc<dyn RunStore>) {
    let a = run("race", "conf");
    store.create_run(&a, FAR).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        let mut next = a.clone();
        next.version = 2;
        next.status = RunStatus::Running;
        next.brief = format!("winner {i}");
        next.updated_at = SystemClock.now();
        tasks.push(tokio::spawn(async move { store.checkpoint(Checkpoint::new(&next, 1)).await }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::ConditionFailed(_)) | Err(StoreError::Throttled(_)) => {}
            Err(e) => panic!("checkpoint race: {e}"),
        }
    }
    assert_eq!(ok, 1, "exactly one of eight concurrent checkpoints from one version wins");
    let history = store.history(&a.run_id).await.unwrap();
    assert_eq!(
        history.iter().map(|c| c.version).collect::<Vec<_>>(),
        [1, 2],
        "one entry per version"
    );
    let stored = store.get_run(&a.run_id).await.unwrap().unwrap();
    let snapshot = history[1].snapshot.as_ref().expect("a step's checkpoint keeps a snapshot");
    assert_eq!(stored.brief, snapshot.brief, "the record is the winner's");

    // The lease is cleared by a checkpoint; an audit entry lands with it.
    let now = SystemClock.now();
    store.acquire_lease(&a.run_id, 2, "me", now.plus(Duration::from_secs(30)), now).await.unwrap();
    let mut next = stored.clone();
    next.version = 3;
    next.step = Step::Production;
    let audit = AuditEntry {
        run_id: a.run_id,
        action: "gate_approved".into(),
        actor: "t".into(),
        detail: Default::default(),
        at: now,
    };
    store.checkpoint(Checkpoint::new(&next, 2).audited(&audit)).await.unwrap();
    assert_eq!(
        store.get_run(&a.run_id).await.unwrap().unwrap().lease,
        None,
        "checkpoint clears the lease"
    );
    assert_eq!(
        store.audit_log(&a.run_id).await.unwrap()[0].action,
        "gate_approved",
        "audit with checkpoint"
    );
    let stale = store.checkpoint(Checkpoint::new(&next, 2)).await;
    assert!(matches!(stale, Err(StoreError::ConditionFailed(_))), "a stale checkpoint is refused");
}

async fn intents(store: &Arc<dyn RunStore>) {
    let key = IntentKey(unique("intent"));
    let now = SystemClock.now();
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (store, key) = (store.clone(), key.clone());
        tasks.push(tokio::spawn(async move { store.claim_intent(&key, now).await.unwrap() }));
    }
    let mut fresh = 0;
    for t in tasks {
        fresh += t.await.unwrap().fresh as usize;
    }
    assert_eq!(fresh, 1, "exactly one concurrent claim is fresh");
    let job = JobId::parse("video_conformance").unwrap();
    store.complete_intent(&key, &job).await.unwrap();
    let again = store.claim_intent(&key, now).await.unwrap();
    assert_eq!((again.fresh, again.job_id), (false, Some(job)), "a later claim sees the job");
}

async fn rendezvous(store: &Arc<dyn RunStore>) {
    let now = SystemClock.now();
    let fresh_job =
        || JobId::parse(&format!("video_{}", RunId::new().to_string().replace('-', ""))).unwrap();
    let arrival = |id: &str| Arrival {
        outcome: ArrivalOutcome::Completed { output_url: None },
        event_id: id.into(),
        received_at: now,
    };
    // A callback for a job nobody correlated writes nothing.
    let unknown = fresh_job();
    let got =
        store.record_arrival(Provider::OpenAi, &unknown, &arrival("evt_u"), None).await.unwrap();
    assert_eq!(got, RecordArrival::Unknown, "unknown job");
    assert!(
        store
            .correlations(Provider::OpenAi, std::slice::from_ref(&unknown))
            .await
            .unwrap()
            .is_empty(),
        "no trace"
    );

    // Correlated: concurrent deliveries of one callback give one New, the rest Duplicate.
    let job = fresh_job();
    let corr = Correlation { run_id: RunId::new(), generation: 3, index: 1 };
    store.correlate(Provider::OpenAi, &job, &corr).await.unwrap();
    let recs = store.correlations(Provider::OpenAi, std::slice::from_ref(&job)).await.unwrap();
    assert!(recs[0].arrival.is_none(), "correlated, not arrived");
    // A callback naming another run is refused in the same write, and writes nothing.
    let other = Some(RunId::new());
    let wrong = store.record_arrival(Provider::OpenAi, &job, &arrival("evt_w"), other).await;
    assert_eq!(wrong.unwrap(), RecordArrival::WrongRun(corr.clone()), "another run's job");
    let recs = store.correlations(Provider::OpenAi, std::slice::from_ref(&job)).await.unwrap();
    assert!(recs[0].arrival.is_none(), "a wrong-run callback records nothing");
    let mut tasks = Vec::new();
    for i in 0..6 {
        let (store, job, a) = (store.clone(), job.clone(), arrival(&format!("evt_{i}")));
        tasks.push(tokio::spawn(async move {
            store.record_arrival(Provider::OpenAi, &job, &a, None).await.unwrap()
        }));
    }
    let mut new = 0;
    for t in tasks {
        match t.await.unwrap() {
            RecordArrival::New(c) => {
                assert_eq!(c, corr, "New carries the correlation");
                new += 1
            }
            RecordArrival::Duplicate { correlation } => {
                assert_eq!(correlation, corr.clone(), "Duplicate carries the correlation")
            }
            other => panic!("a correlated job: {other:?}"),
        }
    }
    assert_eq!(new, 1, "one recorded arrival for concurrent deliveries");
    let recs = store.correlations(Provider::OpenAi, &[job.clone(), unknown]).await.unwrap();
    assert_eq!(recs.len(), 1, "unknown jobs are absent");
    assert!(recs[0].arrival.is_some() && recs[0].correlation.as_ref() == Some(&corr), "matched");
    // A later repeat is a duplicate too (naming its run or not), and records nothing new.
    let dup =
        store.record_arrival(Provider::OpenAi, &job, &arrival("evt_late"), None).await.unwrap();
    assert_eq!(dup, RecordArrival::Duplicate { correlation: corr.clone() }, "a later repeat");
    let named = Some(corr.run_id);
    let dup = store.record_arrival(Provider::OpenAi, &job, &arrival("evt_named"), named).await;
    assert_eq!(dup.unwrap(), RecordArrival::Duplicate { correlation: corr.clone() }, "named");
    // A closed correlation (its run ended) takes no arrival; an arrived one stays a duplicate.
    let pending = fresh_job();
    store.correlate(Provider::OpenAi, &pending, &corr).await.unwrap();
    store.close_correlations(Provider::OpenAi, &[pending.clone(), job.clone()]).await.unwrap();
    let late = store
        .record_arrival(Provider::OpenAi, &pending, &arrival("evt_closed"), None)
        .await
        .unwrap();
    assert_eq!(late, RecordArrival::Closed, "closed");
    let recs = store.correlations(Provider::OpenAi, std::slice::from_ref(&pending)).await.unwrap();
    assert!(recs[0].arrival.is_none(), "a closed job records nothing");
    let dup =
        store.record_arrival(Provider::OpenAi, &job, &arrival("evt_later"), None).await.unwrap();
    assert!(matches!(dup, RecordArrival::Duplicate { .. }), "arrived then closed: {dup:?}");
    let ghost = fresh_job();
    store.close_correlations(Provider::OpenAi, std::slice::from_ref(&ghost)).await.unwrap();
    assert!(
        store.correlations(Provider::OpenAi, &[ghost]).await.unwrap().is_empty(),
        "close creates nothing"
    );
    // Re-correlating (a retried step) keeps the arrival.
    store.correlate(Provider::OpenAi, &job, &corr).await.unwrap();
    let again = store.correlations(Provider::OpenAi, std::slice::from_ref(&job)).await.unwrap();
    assert!(again[0].arrival.is_some(), "correlate does not erase an arrival");
    // Providers are separate namespaces.
    assert!(
        store.correlations(Provider::Remotion, &[job]).await.unwrap().is_empty(),
        "per provider"
    );
}

/// Every page of pending runs (of `owner`, if given): the ids of `project`'s, in order.
async fn walk(store: &Arc<dyn RunStore>, project: &str, owner: Option<String>) -> Vec<RunId> {
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let q =
            ListQuery { status: Some(RunStatus::Pending), owner: owner.clone(), limit: 2, cursor };
        let page = store.list_runs(&q).await.unwrap();
        assert!(page.runs.len() <= 2, "page size respected");
        assert!(owner.is_none() || page.runs.iter().all(|r| r.owner == owner), "the owner's only");
        seen.extend(page.runs.iter().filter(|r| r.project.as_str() == project).map(|r| r.run_id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return seen,
        }
    }
}

async fn listing(store: &Arc<dyn RunStore>) {
    let project = format!("list_{}", &RunId::new().to_string()[..8]).replace('-', "_");
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut r = run(&format!("page {i}"), &project);
        r.created_at = Timestamp(SystemClock.now().millis() + i);
        r.owner = Some(if i % 2 == 0 { alice.clone() } else { bob.clone() });
        store.create_run(&r, FAR).await.unwrap();
        ids.push(r.run_id);
    }
    // Every page: ours newest first, each once.
    ids.reverse();
    assert_eq!(walk(store, &project, None).await, ids, "newest first, each once, across pages");
    let alices: Vec<RunId> = ids.iter().copied().step_by(2).collect();
    assert_eq!(walk(store, &project, Some(alice)).await, alices, "one principal's runs only");
    // Cursors the store never handed out: refused, never passed on.
    for crafted in ["%%%", "eyJwayI6IlgifQ", "eyJwayI6IlJVTiN4Iiwic2siOiJNRVRBIn0"] {
        let q = ListQuery { status: None, owner: None, limit: 2, cursor: Some(crafted.into()) };
        let bad = store.list_runs(&q).await;
        assert!(
            matches!(bad, Err(StoreError::ConditionFailed(_))),
            "cursor {crafted:?} is refused"
        );
    }
}
