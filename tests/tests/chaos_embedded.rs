//! Chaos on the embedded backend (SQLite): 500 runs with crashes injected at random fault points
//! and every message and callback duplicated. Every run completes with exactly N video jobs, one
//! render and one publication. Prints the table per fault point.

use std::time::Duration;

use myloware_sqlite::Durability;
use myloware_tests::chaos::{ChaosBackend, ChaosOptions, run_chaos};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_runs_survive_crashes_at_every_fault_point() {
    let runs: usize = std::env::var("CHAOS_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(500);
    let seed =
        std::env::var("CHAOS_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(rand_seed);
    let b = ChaosBackend::embedded(Duration::from_millis(800), 30, Durability::PowerLoss);
    let opts = ChaosOptions {
        runs,
        clips: 3,
        p: 0.02,
        seed,
        workers: 4,
        timeout: Duration::from_secs(600),
    };
    let report = run_chaos(b.clone(), opts).await;
    report.check(runs, 3, seed);
    b.cleanup();
}

fn rand_seed() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}
