//! The API contract against a hostile caller over HTTP, on the embedded backend (SQLite) and on
//! LocalStack (DynamoDB, SQS, S3), counting writes by fingerprinting all either one stores.

use std::time::Duration;

use myloware_sqlite::Durability;
use myloware_tests::backend::Backend;
use myloware_tests::contract::{fingerprint, hostile_contract, serve};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contract_holds_against_a_hostile_caller_on_sqlite() {
    let b = Backend::embedded(Duration::from_secs(30), 5, Durability::PowerLoss);
    let (base, _stop) = serve(&b).await;
    hostile_contract(&base, || fingerprint(&b)).await;
    b.cleanup();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contract_holds_against_a_hostile_caller_on_localstack() {
    let b = Backend::localstack(30, 5).await;
    let (base, _stop) = serve(&b).await;
    hostile_contract(&base, || fingerprint(&b)).await;
    b.cleanup();
}
