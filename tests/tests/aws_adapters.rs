//! The DynamoDB / SQS / S3 adapters against LocalStack: the conditional semantics the engine's
//! correctness argument relies on (docs/design.md).

use std::time::Duration;

use myloware::domain::{
    Arrival, ArrivalOutcome, AuditEntry, Correlation, JobId, ProjectName, Provider, RunRecord,
    RunStatus, StepMessage,
};
use myloware::ports::{CreateOutcome, IntentKey, ListQuery, RecordArrival, StoreError};
use myloware::time::{Clock, SystemClock};
use myloware_tests::{App, Options};

fn run(brief: &str) -> RunRecord {
    RunRecord::new(
        ProjectName::parse("aismr").unwrap(),
        brief.into(),
        2,
        None,
        SystemClock.now(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_fences_versions_leases_intents_and_arrivals() {
    let app = App::spawn(Options {
        no_driver: true,
        ..Default::default()
    })
    .await;
    let store = &app.engine.store;
    let now = SystemClock.now();

    // Create with an idempotency key: a second create with the same key finds the first run.
    let mut a = run("first");
    a.start_key = Some(myloware::domain::IdempotencyKey::parse("k-1").unwrap());
    assert_eq!(store.create_run(&a).await.unwrap(), CreateOutcome::Created);
    let mut again = run("retry");
    again.start_key = a.start_key.clone();
    assert_eq!(
        store.create_run(&again).await.unwrap(),
        CreateOutcome::Existing(a.run_id)
    );
    assert!(store.get_run(&again.run_id).await.unwrap().is_none());

    // Lease: one holder at a time at one version; a lapsed lease can be taken over.
    let later = now.plus(Duration::from_secs(30));
    let leased = store
        .acquire_lease(&a.run_id, 1, "one", later, now)
        .await
        .unwrap();
    assert_eq!(leased.lease.unwrap().owner, "one");
    assert!(matches!(
        store.acquire_lease(&a.run_id, 1, "two", later, now).await,
        Err(StoreError::ConditionFailed(_))
    ));
    assert!(matches!(
        store.acquire_lease(&a.run_id, 2, "two", later, now).await,
        Err(StoreError::ConditionFailed(_))
    ));
    store
        .acquire_lease(
            &a.run_id,
            1,
            "two",
            later,
            later.plus(Duration::from_secs(1)),
        )
        .await
        .unwrap();

    // Checkpoint: only from the version read; clears the lease; history and audit written.
    let mut next = a.clone();
    next.version = 2;
    next.status = RunStatus::Running;
    let audit = AuditEntry {
        run_id: a.run_id,
        action: "test".into(),
        actor: "t".into(),
        detail: serde_json::json!({}),
        at: now,
    };
    store.checkpoint(&next, 1, Some(&audit)).await.unwrap();
    assert!(matches!(
        store.checkpoint(&next, 1, None).await,
        Err(StoreError::ConditionFailed(_))
    ));
    let stored = store.get_run(&a.run_id).await.unwrap().unwrap();
    assert_eq!(
        (stored.version, stored.status, stored.lease),
        (2, RunStatus::Running, None)
    );
    let history = store.history(&a.run_id).await.unwrap();
    assert_eq!(
        history.iter().map(|c| c.version).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(store.audit_log(&a.run_id).await.unwrap().len(), 1);

    // Intents: the first claim is fresh; later claims return the recorded job.
    let key = IntentKey::new(&a.run_id, myloware::domain::Step::Production, 2, 0);
    assert!(store.claim_intent(&key, now).await.unwrap().fresh);
    let second = store.claim_intent(&key, now).await.unwrap();
    assert!(!second.fresh && second.job_id.is_none());
    let job = JobId::parse("video_adapter_test").unwrap();
    store.complete_intent(&key, &job).await.unwrap();
    assert_eq!(
        store.claim_intent(&key, now).await.unwrap().job_id,
        Some(job.clone())
    );

    // Rendezvous: arrival before correlation is kept (orphan); a repeat is a duplicate; the
    // correlation written later is seen by both sides.
    let arrival = Arrival {
        outcome: ArrivalOutcome::Completed { output_url: None },
        event_id: "evt_1".into(),
        received_at: now,
    };
    assert_eq!(
        store
            .record_arrival(Provider::Sora, &job, &arrival, later)
            .await
            .unwrap(),
        RecordArrival::New(None)
    );
    let corr = Correlation {
        run_id: a.run_id,
        generation: 2,
        index: 0,
    };
    store.correlate(Provider::Sora, &job, &corr).await.unwrap();
    assert_eq!(
        store
            .record_arrival(Provider::Sora, &job, &arrival, later)
            .await
            .unwrap(),
        RecordArrival::Duplicate(Some(corr.clone()))
    );
    let other = JobId::parse("video_never_arrived").unwrap();
    store
        .correlate(Provider::Sora, &other, &corr)
        .await
        .unwrap();
    let recs = store
        .correlations(
            Provider::Sora,
            &[
                job.clone(),
                other.clone(),
                JobId::parse("video_unknown").unwrap(),
            ],
        )
        .await
        .unwrap();
    assert_eq!(recs.len(), 2);
    assert!(
        recs.iter()
            .find(|r| r.job_id == job)
            .unwrap()
            .arrival
            .is_some()
    );
    assert!(
        recs.iter()
            .find(|r| r.job_id == other)
            .unwrap()
            .arrival
            .is_none()
    );

    // Listing pages newest first, by status too.
    for i in 0..3 {
        store.create_run(&run(&format!("page {i}"))).await.unwrap();
    }
    let p1 = store
        .list_runs(&ListQuery {
            status: Some(RunStatus::Pending),
            limit: 2,
            cursor: None,
        })
        .await
        .unwrap();
    assert_eq!(p1.runs.len(), 2);
    let p2 = store
        .list_runs(&ListQuery {
            status: Some(RunStatus::Pending),
            limit: 2,
            cursor: p1.next_cursor,
        })
        .await
        .unwrap();
    assert_eq!(p2.runs.len(), 1);
    assert!(p1.runs[0].created_at >= p1.runs[1].created_at);
    let all = store
        .list_runs(&ListQuery {
            status: None,
            limit: 100,
            cursor: None,
        })
        .await
        .unwrap();
    assert_eq!(all.runs.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_sends_singly_in_batches_and_delayed_and_blobs_presign() {
    let app = App::spawn(Options {
        no_driver: true,
        ..Default::default()
    })
    .await;
    let q = &app.engine.queue;
    let id = myloware::RunId::new();
    q.send(
        &StepMessage::at(id, 1).with_request_id(Some("req-1".into())),
        Duration::ZERO,
    )
    .await
    .unwrap();
    let many: Vec<StepMessage> = (0..12).map(|v| StepMessage::at(id, v)).collect();
    q.send_batch(&many, Duration::ZERO).await.unwrap();
    q.send(&StepMessage::wake(id), Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(app.queue_messages().await, 14);
    let attrs = app
        .clients
        .sqs
        .get_queue_attributes()
        .queue_url(&app.resources.queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(
        attrs.values().next().map(String::as_str),
        Some("1"),
        "the delayed message is not visible yet"
    );

    let blobs = &app.engine.blobs;
    blobs
        .put("runs/x/clips/00.mp4", b"abc".to_vec(), "video/mp4")
        .await
        .unwrap();
    assert_eq!(blobs.get("runs/x/clips/00.mp4").await.unwrap(), b"abc");
    assert!(matches!(
        blobs.get("runs/x/nothing").await,
        Err(myloware::ports::BlobError::NotFound(_))
    ));
    let url = blobs
        .presign_get("runs/x/clips/00.mp4", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        reqwest::get(&url)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .as_ref(),
        b"abc"
    );
}
