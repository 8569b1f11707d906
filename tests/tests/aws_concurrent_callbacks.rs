//! Concurrent deliveries of one callback: one recorded arrival and one resume.

use myloware::domain::{Provider, RunStatus, Step};
use myloware::fakes::deliveries::openai_video_delivery;
use myloware::time::{Clock, SystemClock};
use myloware::webhooks::WebhookSecret;
use myloware_tests::{App, OPENAI_SECRET, Options};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_deliveries_resume_the_run_once() {
    let app = App::spawn(Options::default()).await;
    let run = app
        .craft(
            Step::WaitForVideos,
            RunStatus::AwaitingVideoGeneration,
            &["video_race"],
            Provider::OpenAi,
        )
        .await;
    let secret = WebhookSecret::parse(OPENAI_SECRET).unwrap();
    let d = openai_video_delivery(&secret, "video_race", None, SystemClock.now().secs());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (url, d) = (format!("{}{}", app.base_url, d.path), d.clone());
        tasks.spawn(async move {
            let mut r = reqwest::Client::new().post(url).body(d.body);
            for (k, v) in &d.headers {
                r = r.header(k, v);
            }
            let resp = r.send().await.unwrap();
            assert_eq!(resp.status(), 200);
            let body: serde_json::Value = resp.json().await.unwrap();
            body["status"].as_str().unwrap().to_owned()
        });
    }
    let mut answers = Vec::new();
    while let Some(a) = tasks.join_next().await {
        answers.push(a.unwrap());
    }
    assert_eq!(answers.iter().filter(|a| *a == "accepted").count(), 1, "{answers:?}");
    assert_eq!(answers.iter().filter(|a| *a == "duplicate").count(), 7, "{answers:?}");

    let id = run.run_id.to_string();
    app.wait_for(&id, "awaiting_render").await;
    let history = app.engine.store.history(&run.run_id).await.unwrap();
    // One resume: one move from the wait into editing (editing then checkpoints per clip).
    let resumes = history
        .windows(2)
        .filter(|w| w[0].step == Step::WaitForVideos && w[1].step == Step::Editing)
        .count();
    assert_eq!(
        resumes,
        1,
        "one resume: {:?}",
        history.iter().map(|c| (c.version, c.step)).collect::<Vec<_>>()
    );
    let recs = app
        .engine
        .store
        .correlations(
            Provider::OpenAi,
            &[run
                .state
                .clips
                .first()
                .map(|c| c.job_id.clone())
                .unwrap_or_else(|| myloware::domain::JobId::parse("video_race").unwrap())],
        )
        .await
        .unwrap();
    assert!(recs[0].arrival.is_some());
}
