//! Item keys of the single-table layout.
//!
//! | pk                        | sk                  | what                                   |
//! |---------------------------|---------------------|----------------------------------------|
//! | `RUN#<id>`                | `META`              | the run record (+ two list GSIs)       |
//! | `RUN#<id>`                | `CP#<version:010>`  | checkpoint history                     |
//! | `RUN#<id>`                | `AUDIT#<ms:015>#<u>`| gate decisions and operator actions    |
//! | `RUN#<id>`                | `SAFETY#<sha256>`   | a remembered safety verdict            |
//! | `RUN#<id>`                | `FEEDBACK#<caller>` | one caller's rating of the run         |
//! | `RUN#<id>`                | `NOTICE#<event>#<endpoint>` | a notification's delivery row  |
//! | `IDEM#start#<key>`        | `IDEM`              | run start idempotency key → run id     |
//! | `IDEM#intent#<key>`       | `IDEM`              | paid-call intent → provider job id     |
//! | `CORR#<provider>#<job>`   | `CORR`              | rendezvous: correlation + arrival      |

use myloware::domain::{JobId, Provider, RunId};

pub const META: &str = "META";

pub fn run_pk(id: &RunId) -> String {
    format!("RUN#{id}")
}

pub fn checkpoint_sk(version: u64) -> String {
    format!("CP#{version:010}")
}

pub fn audit_sk(at_ms: i64) -> String {
    format!("AUDIT#{at_ms:015}#{}", uuid::Uuid::new_v4().simple())
}

pub fn start_pk(key: &str) -> String {
    format!("IDEM#start#{key}")
}

pub fn intent_pk(key: &str) -> String {
    format!("IDEM#intent#{key}")
}

pub fn corr_pk(provider: Provider, job: &JobId) -> String {
    format!("CORR#{}#{}", provider.as_str(), job)
}

/// Sort key of the list GSIs: creation time then id, so newest-first paging is stable.
pub fn list_sk(created_ms: i64, id: &RunId) -> String {
    format!("{created_ms:015}#{id}")
}
