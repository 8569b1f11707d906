//! Outbound notifications (Standard Webhooks) end to end on SQLite and on LocalStack, verified by
//! the official library at a local endpoint, and Telegram's buttons through the fake Bot API
//! (`myloware_tests::notify_scenarios`).

use std::path::Path;
use std::time::Duration;

use myloware_sqlite::Durability;
use myloware_tests::backend::Backend;
use myloware_tests::interop::peer_python;
use myloware_tests::notify_scenarios;

fn python() -> std::path::PathBuf {
    peer_python(Path::new(env!("CARGO_TARGET_TMPDIR")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_each_event_reaches_each_endpoint_once() {
    let b = Backend::embedded(Duration::from_secs(2), 8, Durability::PowerLoss);
    notify_scenarios::each_event_reaches_each_endpoint_once_verified_by_the_library(&b, &python())
        .await;
    b.cleanup();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn aws_each_event_reaches_each_endpoint_once() {
    let b = Backend::localstack(2, 8).await;
    notify_scenarios::each_event_reaches_each_endpoint_once_verified_by_the_library(&b, &python())
        .await;
    b.cleanup();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_telegram_buttons_decide_a_gate() {
    let b = Backend::embedded(Duration::from_secs(2), 8, Durability::PowerLoss);
    notify_scenarios::telegram_buttons_decide_a_gate(&b).await;
    b.cleanup();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn aws_telegram_buttons_decide_a_gate() {
    let b = Backend::localstack(2, 8).await;
    notify_scenarios::telegram_buttons_decide_a_gate(&b).await;
    b.cleanup();
}
