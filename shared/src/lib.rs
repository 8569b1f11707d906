//! MyloWare engine: the durable video-run state machine and the ports it runs on.
//!
//! The engine knows traits (run store, step queue, blob store, clock, providers), never an AWS crate,
//! an HTTP server or SQL. Adapters live in sibling crates (`myloware-aws`) or in [`adapters`] for the
//! in-memory implementations used by unit tests. `docs/design.md` argues why the runner is correct.

pub mod adapters;
pub mod config;
pub mod domain;
pub mod engine;
pub mod eval;
pub mod fakes;
pub mod faults;
pub mod ports;
pub mod projects;
pub mod time;
pub mod webhooks;
pub mod workflow;

pub use domain::{RunId, RunRecord, RunStatus, Step};
pub use engine::Engine;
